/**
 * The sprite classifier `eval` judges samples with: a small CNN on the project's own layers,
 * recorded into Programs like the UNet (lib/model/unet.ts).
 *
 *   x [N, C, 16, 16]
 *   per stage s (16×16, 8×8, …): 2 × (3×3 conv → GroupNorm(8) + SiLU), then 2×2 average pool
 *   flatten → fc (Linear + SiLU) = the features [N, F] (the FID's embedding)
 *   head (Linear) → logits [N, KP], the first K columns the class scores
 *
 * The head's width KP is K rounded up to a multiple of 4 (the linear kernel's granularity);
 * the loss ignores the padding columns. Flattening instead of global pooling keeps where things
 * are in the sprite, which matters at 16×16 (a sword's diagonal, a potion's neck).
 */

import type { Gpu } from "../gpu/device.ts";
import { IMAGE_SIZE } from "../model/config.ts";
import { Program } from "../gpu/program.ts";
import {
  alignUp,
  download,
  numel,
  reshape,
  type Tensor,
  TensorPool,
  upload,
} from "../gpu/tensor.ts";
import { conv2dBackward, conv2dForward } from "../nn/conv2d.ts";
import { groupNormBackward, groupNormForward } from "../nn/groupnorm.ts";
import { linearBackward, linearForward } from "../nn/linear.ts";
import type { ParamSpec, ParamStore } from "../nn/params.ts";
import { avgPool2Backward, avgPool2Forward } from "../nn/resample.ts";

export interface ClassifierConfig {
  in_ch: number;
  num_classes: number;
  /** Channels of each stage; stage s runs at 16 >> s pixels. */
  widths: number[];
  /** Width of the penultimate layer: the features. */
  features: number;
}

/** GroupNorm groups of every norm layer. */
const CLASSIFIER_GROUPS = 8;
const SIZE = IMAGE_SIZE;

/** The shipped architecture: 2 stages of 32 and 64 channels, 128 features (≈ 200k parameters). */
export const defaultClassifierConfig = (in_ch: number, num_classes: number): ClassifierConfig => ({
  in_ch,
  num_classes,
  widths: [32, 64],
  features: 128,
});

/** Columns of the head's output: the classes, padded to a multiple of 4. */
export const headWidth = (c: ClassifierConfig): number => alignUp(c.num_classes, 4);

/** Throws a one-line reason when `c` cannot be built. */
function validateClassifierConfig(c: ClassifierConfig): void {
  const ok = (c.in_ch === 3 || c.in_ch === 4) && Number.isInteger(c.num_classes) &&
    c.num_classes >= 1 && Array.isArray(c.widths) && c.widths.length >= 1 &&
    c.widths.length <= 3 &&
    c.widths.every((w) => Number.isInteger(w) && w > 0 && w % CLASSIFIER_GROUPS === 0) &&
    Number.isInteger(c.features) && c.features > 0 && c.features % 4 === 0;
  if (!ok) {
    throw new Error(
      `invalid classifier config ${JSON.stringify(c)}: in_ch 3 or 4, 1–3 stage widths that are ` +
        `multiples of ${CLASSIFIER_GROUPS}, features a multiple of 4`,
    );
  }
}

/** One 3×3 conv + GroupNorm + SiLU unit. */
interface Unit {
  prefix: string;
  inCh: number;
  outCh: number;
  size: number;
  /** A 2×2 average pool follows (the last unit of a stage). */
  pool: boolean;
}

function units(c: ClassifierConfig): Unit[] {
  const out: Unit[] = [];
  let inCh = c.in_ch;
  c.widths.forEach((w, s) => {
    for (let j = 0; j < 2; j++) {
      out.push({ prefix: `stages.${s}.${j}`, inCh, outCh: w, size: SIZE >> s, pool: j === 1 });
      inCh = w;
    }
  });
  return out;
}

/** Inputs of the fc layer: the last stage's channels × its pooled pixels. */
const flatWidth = (c: ClassifierConfig) =>
  c.widths[c.widths.length - 1] * (SIZE >> c.widths.length) ** 2;

export function classifierSpecs(c: ClassifierConfig): ParamSpec[] {
  validateClassifierConfig(c);
  const specs: ParamSpec[] = [];
  for (const u of units(c)) {
    specs.push(
      { name: `${u.prefix}.conv.weight`, shape: [u.outCh, u.inCh, 3, 3] },
      { name: `${u.prefix}.conv.bias`, shape: [u.outCh] },
      { name: `${u.prefix}.norm.weight`, shape: [u.outCh] },
      { name: `${u.prefix}.norm.bias`, shape: [u.outCh] },
    );
  }
  specs.push(
    { name: "fc.weight", shape: [c.features, flatWidth(c)] },
    { name: "fc.bias", shape: [c.features] },
    { name: "head.weight", shape: [headWidth(c), c.features] },
    { name: "head.bias", shape: [headWidth(c)] },
  );
  return specs;
}

interface UnitActs {
  unit: Unit;
  input: Tensor;
  conv: Tensor;
  stats: Tensor;
  act: Tensor;
  pooled: Tensor | null;
}

export class SpriteClassifier {
  /** [N, C, 16, 16] sprites in [−1, 1]. */
  readonly x: Tensor;
  /** [N, F] the penultimate activations. */
  readonly features: Tensor;
  /** [N, KP] class scores (first K columns). */
  readonly logits: Tensor;
  readonly forward: Program;
  readonly #acts: UnitActs[] = [];
  readonly #flat: Tensor;
  readonly #fcPre: Tensor;
  readonly #pool: TensorPool;
  #backward: { program: Program; dlogits: Tensor } | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly config: ClassifierConfig,
    readonly store: ParamStore,
    readonly batch: number,
  ) {
    const n = batch;
    this.#pool = new TensorPool(gpu);
    const t = (shape: number[], label: string) => this.#pool.create(shape, label);
    const fwd = new Program(gpu, "classifier.forward");
    this.forward = fwd;
    this.x = t([n, config.in_ch, SIZE, SIZE], "x");
    let h = this.x;
    for (const u of units(config)) {
      const shape = [n, u.outCh, u.size, u.size];
      const a: UnitActs = {
        unit: u,
        input: h,
        conv: t(shape, `${u.prefix}.conv`),
        stats: t([n, CLASSIFIER_GROUPS, 2], `${u.prefix}.stats`),
        act: t(shape, `${u.prefix}.act`),
        pooled: u.pool ? t([n, u.outCh, u.size / 2, u.size / 2], `${u.prefix}.pool`) : null,
      };
      conv2dForward(fwd, { ...this.#params(`${u.prefix}.conv`), x: h, y: a.conv });
      groupNormForward(fwd, {
        ...this.#norm(u.prefix),
        x: a.conv,
        stats: a.stats,
        y: a.act,
        groups: CLASSIFIER_GROUPS,
        silu: true,
      });
      h = a.act;
      if (a.pooled) {
        avgPool2Forward(fwd, { x: a.act, y: a.pooled });
        h = a.pooled;
      }
      this.#acts.push(a);
    }
    this.#flat = reshape(h, [n, flatWidth(config)]);
    this.#fcPre = t([n, config.features], "fc.pre");
    this.features = t([n, config.features], "features");
    linearForward(fwd, {
      ...this.#params("fc"),
      x: this.#flat,
      y: this.features,
      silu: true,
      preact: this.#fcPre,
    });
    this.logits = t([n, headWidth(config)], "logits");
    linearForward(fwd, { ...this.#params("head"), x: this.features, y: this.logits, silu: false });
  }

  /** The recorded backward program and its input ∂loss/∂logits; built on first use. */
  get backward(): { program: Program; dlogits: Tensor } {
    this.#backward ??= this.#recordBackward();
    return this.#backward;
  }

  /** Frees the activation, gradient and scratch buffers (not the parameters). */
  destroy(): void {
    this.forward.destroy();
    this.#backward?.program.destroy();
    this.#pool.destroy();
  }

  /** A layer's weight and bias. */
  #params(prefix: string) {
    return { w: this.store.view(`${prefix}.weight`), b: this.store.view(`${prefix}.bias`) };
  }

  /** The gradients of a layer's weight and bias. */
  #grads(prefix: string) {
    return {
      dw: this.store.view(`${prefix}.weight`, "grad"),
      db: this.store.view(`${prefix}.bias`, "grad"),
    };
  }

  #norm(prefix: string) {
    const { w, b } = this.#params(`${prefix}.norm`);
    return { gamma: w, beta: b };
  }

  #recordBackward(): { program: Program; dlogits: Tensor } {
    const bwd = new Program(this.gpu, "classifier.backward");
    const grad = (t: Tensor) => this.#pool.create(t.shape, `d${t.label}`);
    const dlogits = grad(this.logits);
    const dfeatures = grad(this.features);
    linearBackward(bwd, {
      ...this.#params("head"),
      ...this.#grads("head"),
      x: this.features,
      silu: false,
      dy: dlogits,
      dx: dfeatures,
    });
    const dflat = grad(this.#flat);
    linearBackward(bwd, {
      ...this.#params("fc"),
      ...this.#grads("fc"),
      x: this.#flat,
      silu: true,
      preact: this.#fcPre,
      dy: dfeatures,
      dx: dflat,
    });
    let dh = reshape(dflat, this.#acts[this.#acts.length - 1].pooled!.shape);
    for (let i = this.#acts.length - 1; i >= 0; i--) {
      const a = this.#acts[i];
      let dact = dh;
      if (a.pooled) {
        dact = grad(a.act);
        avgPool2Backward(bwd, { dy: dh, dx: dact });
      }
      const dconv = grad(a.conv);
      const { dw, db } = this.#grads(`${a.unit.prefix}.norm`);
      groupNormBackward(bwd, {
        ...this.#norm(a.unit.prefix),
        x: a.conv,
        stats: a.stats,
        groups: CLASSIFIER_GROUPS,
        silu: true,
        dy: dact,
        dx: dconv,
        dgamma: dw,
        dbeta: db,
      });
      // The sprites need no gradient: the first convolution computes only its weights'.
      const dinput = i > 0 ? grad(a.input) : undefined;
      conv2dBackward(bwd, {
        ...this.#params(`${a.unit.prefix}.conv`),
        ...this.#grads(`${a.unit.prefix}.conv`),
        x: a.input,
        dy: dconv,
        dx: dinput,
      });
      if (dinput) dh = dinput;
    }
    return { program: bwd, dlogits };
  }
}

/** Class scores and features of many sprites, computed `classifier.batch` at a time. */
export interface Classified {
  /** [count, K] */
  logits: Float32Array;
  /** [count, F] */
  features: Float32Array;
}

/** Runs the classifier over `count` sprites [count, C, 16, 16] (the last batch zero-padded). */
export async function classify(
  classifier: SpriteClassifier,
  images: Float32Array,
  count: number,
): Promise<Classified> {
  const { gpu, batch, config } = classifier;
  const chw = numel(classifier.x.shape.slice(1));
  const k = config.num_classes;
  const kp = headWidth(config);
  const f = config.features;
  const logits = new Float32Array(count * k);
  const features = new Float32Array(count * f);
  const input = new Float32Array(batch * chw);
  for (let start = 0; start < count; start += batch) {
    const rows = Math.min(batch, count - start);
    input.fill(0);
    input.set(images.subarray(start * chw, (start + rows) * chw));
    upload(gpu, classifier.x, input);
    classifier.forward.run();
    const l = await download(gpu, classifier.logits);
    const feats = await download(gpu, classifier.features);
    for (let r = 0; r < rows; r++) {
      logits.set(l.subarray(r * kp, r * kp + k), (start + r) * k);
    }
    features.set(feats.subarray(0, rows * f), start * f);
  }
  return { logits, features };
}

/** The index of the largest of each row's K scores. */
export function predictions(logits: Float32Array, k: number): Int32Array {
  const out = new Int32Array(logits.length / k);
  for (let n = 0; n < out.length; n++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[n * k + c] > logits[n * k + best]) best = c;
    out[n] = best;
  }
  return out;
}
