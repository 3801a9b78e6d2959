/**
 * Classifier-free guided sampling on the GPU.
 *
 * The conditional and unconditional predictions come from one forward pass over
 * 2N rows (the original runs two passes). Each step is one submit: a 32-byte
 * uniform, the model's forward, and the fused update kernel; nothing is read
 * back except the x0 previews, every `previewEvery` steps.
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { KernelSource } from "../gpu/kernel.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, download, numel, type Tensor, upload } from "../gpu/tensor.ts";
import type { ContextUNet } from "../model/unet.ts";
import { type InitImage, KnownImage, noiseStreams, startIndex } from "./known_image.ts";
import { cosineSchedule, type SamplerKind, type SamplerStep, samplerSteps } from "./schedule.ts";
import random from "../../kernels/random.wgsl" with { type: "text" };
import code from "../../kernels/diffusion.wgsl" with { type: "text" };

/** The sampling kernels (init_noise, sample_step) with the shared random-number functions. */
const SAMPLING_KERNEL: KernelSource = { name: "diffusion", code: `${random}\n${code}` };

export interface SampleOptions {
  /** The class of each sprite to draw (0…num_classes−1), or num_classes for unconditional. */
  classes: readonly number[];
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  eta?: number;
  seed: number;
  /**
   * With a model built with `classMix`: each sprite's weights over the label table
   * (num_classes + 1 entries; the unconditional rows keep the null class).
   */
  mix?: readonly Float32Array[];
  /** Start from (img2img) or keep part of (inpainting) a known image; see ./known_image.ts. */
  init?: InitImage;
  /** Calls `onPreview` every this many steps and after the last; 0 = only at the end. */
  previewEvery?: number;
  onPreview?: (x0: Float32Array, step: number, total: number) => void;
  /** Aborting it stops the run before its next step with {@link SamplingCancelled}. */
  signal?: AbortSignal;
}

export interface SampleResult {
  /** The final samples [N, C, 16, 16], clamped to [−1, 1]. */
  images: Float32Array;
  seconds: number;
}

/** Rows the model runs per step: 2N when guidance mixes both predictions, else N. */
export const guidanceRows = (
  n: number,
  guidance: number,
): number => (guidance === 0 || guidance === 1 ? n : 2 * n);

/**
 * The update kernels of guided sampling, recorded once over the model's input
 * `x` (2N rows with CFG) and output `eps`: `init` draws x_T, `update` mixes the
 * guided ε and takes one step, writing the clamped x0 preview. `setStep` writes
 * the 32-byte uniform of the next step.
 */
export class GuidedUpdate {
  readonly init: Program;
  readonly update: Program;
  readonly x0: Tensor;
  readonly #uniform: GPUBuffer;
  readonly #data = new ArrayBuffer(32);

  constructor(
    readonly gpu: Gpu,
    a: { x: Tensor; eps: Tensor; n: number; cfg: boolean; seed: number },
  ) {
    const chw = numel(a.x.shape.slice(1));
    this.x0 = createTensor(gpu, [a.n, ...a.x.shape.slice(1)], "x0");
    this.#uniform = gpu.device.createBuffer({
      size: 32,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const consts = { N: a.n, CHW: chw, CFG: a.cfg };
    const groups = Math.ceil((a.n * chw) / 64);
    this.init = new Program(gpu, "sample.init");
    this.init.add(SAMPLING_KERNEL, "init_noise", consts, [this.#uniform, undefined, a.x], groups);
    this.update = new Program(gpu, "sample.update");
    this.update.add(
      SAMPLING_KERNEL,
      "sample_step",
      consts,
      [this.#uniform, a.eps, a.x, this.x0],
      groups,
    );
    new Uint32Array(this.#data)[0] = a.seed >>> 0;
    gpu.device.queue.writeBuffer(this.#uniform, 0, this.#data);
  }

  /** Step `index` (0-based, the noise stream) with coefficients `s` and guidance `w`. */
  setStep(index: number, s: SamplerStep, guidance: number): void {
    new Uint32Array(this.#data)[1] = index;
    new Float32Array(this.#data).set(
      [s.sqrtAlphaBar, s.sqrtOneMinusAlphaBar, s.coefX0, s.coefX, s.sigma, guidance],
      2,
    );
    this.gpu.device.queue.writeBuffer(this.#uniform, 0, this.#data);
  }

  destroy(): void {
    this.#uniform.destroy();
    this.x0.buffer.destroy();
  }
}

/** Thrown by {@link sample} when its `signal` is aborted; the next request is unaffected. */
export class SamplingCancelled extends Error {
  constructor() {
    super("sampling cancelled");
    this.name = "SamplingCancelled";
  }
}

/**
 * Runs the guided sampler on `model`, a {@link ContextUNet} built with static
 * weights over `guidanceRows(classes.length, guidance)` rows and already
 * prepared. Checks `signal` before every step.
 */
export async function sample(
  gpu: Gpu,
  model: ContextUNet,
  opts: SampleOptions,
): Promise<SampleResult> {
  const started = performance.now();
  const n = opts.classes.length;
  const rows = guidanceRows(n, opts.guidance);
  const cfg = rows === 2 * n;
  if (model.x.shape[0] !== rows) {
    throw new RangeError(`the model runs ${model.x.shape[0]} rows; this request needs ${rows}`);
  }
  const chw = numel(model.x.shape.slice(1));
  const sched = cosineSchedule();
  const steps = samplerSteps(sched, { sampler: opts.sampler, steps: opts.steps, eta: opts.eta });

  // w = 0 is the unconditional prediction alone, so its rows carry the null class.
  const nullClass = model.config.num_classes;
  const labels = new Uint32Array(rows).map((_, r) =>
    r >= n || opts.guidance === 0 ? nullClass : opts.classes[r]
  );
  upload(gpu, model.labels, labels);
  if (model.mix) {
    const mix = opts.guidance === 0 ? undefined : opts.mix; // w = 0: every row is the null class
    upload(gpu, model.mix, labelMix(labels, mix, nullClass + 1));
  }
  const guided = new GuidedUpdate(gpu, { x: model.x, eps: model.eps, n, cfg, seed: opts.seed });
  const known = opts.init &&
    new KnownImage(gpu, { x: model.x, n, cfg, seed: opts.seed, init: opts.init });
  try {
    guided.init.run();
    const first = known ? startIndex(steps.length, opts.init!.strength) : 0;
    if (known && first > 0) {
      known.setStart(steps[first] ?? { sqrtAlphaBar: 1, sqrtOneMinusAlphaBar: 0 });
      known.start.run();
    }
    const tfrac = new Float32Array(rows);
    const every = opts.previewEvery ?? 0;
    for (let i = first; i < steps.length; i++) {
      if (opts.signal?.aborted) throw new SamplingCancelled();
      const s = steps[i];
      tfrac.fill(s.t / sched.T);
      upload(gpu, model.tfrac, tfrac);
      const jumps = known?.resample ?? 0;
      for (let jump = 0; jump <= jumps; jump++) {
        guided.setStep(noiseStreams(i, jump).update, s, opts.guidance);
        known?.setPass(steps, i, jump);
        gpu.submit((encoder) => {
          const pass = encoder.beginComputePass({ label: "sample.step" });
          model.forward.encode(pass);
          guided.update.encode(pass);
          if (known?.masked) known.keep.encode(pass);
          if (jump < jumps) known!.jump.encode(pass);
          pass.end();
        });
      }
      const last = i === steps.length - 1;
      if (opts.onPreview && (last || (every > 0 && (i + 1) % every === 0))) {
        opts.onPreview(await download(gpu, guided.x0), i + 1, steps.length);
      }
    }
    const all = await download(gpu, model.x);
    return {
      images: all.slice(0, n * chw).map((v) => Math.min(1, Math.max(-1, v))),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    guided.destroy();
    known?.destroy();
  }
}

/** The [rows, classes] label weights: `mix` for its rows (the first N), one-hot labels after. */
function labelMix(
  labels: Uint32Array,
  mix: readonly Float32Array[] | undefined,
  classes: number,
): Float32Array {
  const out = new Float32Array(labels.length * classes);
  labels.forEach((label, r) => {
    const weights = mix?.[r];
    if (weights) out.set(weights, r * classes);
    else out[r * classes + label] = 1;
  });
  return out;
}
