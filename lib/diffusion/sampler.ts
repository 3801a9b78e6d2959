/**
 * Classifier-free guided sampling on the GPU.
 *
 * The conditional and unconditional predictions come from one forward pass over
 * 2N rows (the original runs two passes). Each step is one submit: a 48-byte
 * uniform, the model's forward, and the fused update kernel; nothing is read
 * back except the x0 previews, every `previewEvery` steps. The previous step's
 * x0 (DPM-Solver++'s second-order term) stays on the GPU, in the preview buffer.
 *
 * With a guidance interval, steps outside it take the conditional prediction
 * alone: on a model over N rows when one is given (half the work), else on the
 * 2N-row model, ignoring its unconditional half.
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { KernelSource } from "../gpu/kernel.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, download, numel, type Tensor, upload } from "../gpu/tensor.ts";
import type { ContextUNet } from "../model/unet.ts";
import { type InitImage, KnownImage, noiseStreams, startIndex } from "./known_image.ts";
import {
  cosineSchedule,
  firstOrder,
  type SamplerKind,
  type SamplerStep,
  samplerSteps,
} from "./schedule.ts";
import random from "../../kernels/random.wgsl" with { type: "text" };
import code from "../../kernels/diffusion.wgsl" with { type: "text" };

/** The sampling kernels (init_noise, sample_step…) with the shared random-number functions. */
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
  /**
   * Dynamic thresholding (Imagen): each sprite's x0 is clipped to s, the P-th percentile of its
   * |x0| (at least 1), and divided by s. Absent: x0 is clamped to [−1, 1].
   */
  thresholdPercentile?: number;
  /**
   * Guidance mixes the two predictions only at steps whose t/T lies in [lo, hi]; the other steps
   * take the conditional prediction alone. Absent: every step is guided.
   */
  guidanceInterval?: readonly [number, number];
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
 * Which of `steps` mix the conditional and unconditional predictions: all when guidance is
 * neither 0 nor 1 and there is no interval, those with t/T in `interval` otherwise; none at
 * guidance 0 or 1, which use one prediction throughout.
 */
export function guidedSteps(
  steps: readonly SamplerStep[],
  T: number,
  guidance: number,
  interval?: readonly [number, number],
): boolean[] {
  const mixes = guidanceRows(1, guidance) === 2;
  return steps.map((s) =>
    mixes && (!interval || (s.t / T >= interval[0] && s.t / T <= interval[1]))
  );
}

/** The steps of a request, and which of them are guided (see {@link guidedSteps}). */
export function samplingPlan(
  opts: Pick<SampleOptions, "steps" | "sampler" | "eta" | "guidance" | "guidanceInterval">,
): { steps: SamplerStep[]; guided: boolean[]; T: number } {
  const sched = cosineSchedule();
  const steps = samplerSteps(sched, { sampler: opts.sampler, steps: opts.steps, eta: opts.eta });
  return {
    steps,
    guided: guidedSteps(steps, sched.T, opts.guidance, opts.guidanceInterval),
    T: sched.T,
  };
}

/** The update programs over one model's input `x` and output `eps` (2N rows when `cfg`). */
export interface UpdatePrograms {
  /** Draws x_T into `x`. */
  init: Program;
  /** Takes one step from the model's ε: updates `x`, writes x0. */
  update: Program;
}

/**
 * The state of a sampling run that outlives any one model: the step's 48-byte uniform, x0 (the
 * preview, and the previous step's x0 that DPM-Solver++ reads) and, with thresholding, the raw
 * x0. {@link programs} records the kernels over a model's tensors; a run may use two models
 * (2N rows for guided steps, N for the rest) over the same state.
 */
export class GuidedUpdate {
  readonly x0: Tensor;
  readonly #x0Raw: Tensor | null;
  readonly #uniform: GPUBuffer;
  readonly #data = new ArrayBuffer(48);

  constructor(
    readonly gpu: Gpu,
    readonly opts: { n: number; chw: number; seed: number; thresholdPercentile?: number },
  ) {
    this.x0 = createTensor(gpu, [opts.n, opts.chw], "x0");
    this.#x0Raw = opts.thresholdPercentile === undefined
      ? null
      : createTensor(gpu, [opts.n, opts.chw], "x0.raw");
    this.#uniform = gpu.device.createBuffer({
      size: this.#data.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    new Uint32Array(this.#data)[0] = opts.seed >>> 0;
    new Float32Array(this.#data)[10] = (opts.thresholdPercentile ?? 100) / 100;
    gpu.device.queue.writeBuffer(this.#uniform, 0, this.#data);
  }

  programs(x: Tensor, eps: Tensor, cfg: boolean): UpdatePrograms {
    const { n, chw } = this.opts;
    const rows = cfg ? 2 * n : n;
    if (x.shape[0] !== rows || numel(x.shape) !== rows * chw || numel(eps.shape) !== rows * chw) {
      throw new RangeError(
        `update over [${x.shape}] for ${n} sprites of ${chw} values (cfg ${cfg})`,
      );
    }
    const consts = { N: n, CHW: chw, CFG: cfg };
    const groups = Math.ceil((n * chw) / 64);
    const init = new Program(this.gpu, "sample.init");
    init.add(SAMPLING_KERNEL, "init_noise", consts, [this.#uniform, undefined, x], groups);
    const update = new Program(this.gpu, "sample.update");
    if (this.#x0Raw) {
      // One thread per sprite, whose loops llvmpipe cuts off after 65,535 iterations in all.
      if (chw > 1024) {
        throw new RangeError(`thresholding handles sprites of ≤ 1024 values, not ${chw}`);
      }
      update.add(
        SAMPLING_KERNEL,
        "sample_step_threshold",
        consts,
        [this.#uniform, eps, x, this.x0, this.#x0Raw],
        Math.ceil(n / 64),
      );
    } else {
      update.add(SAMPLING_KERNEL, "sample_step", consts, [this.#uniform, eps, x, this.x0], groups);
    }
    return { init, update };
  }

  /**
   * Step `index` (0-based, the noise stream) with coefficients `s`; with `guided`, ε mixes both
   * predictions at guidance `w`, else it is the conditional one (rows 0…N−1) alone.
   */
  setStep(index: number, s: SamplerStep, guidance: number, guided = true): void {
    const u32 = new Uint32Array(this.#data);
    u32[1] = index;
    u32[9] = guided ? 1 : 0;
    new Float32Array(this.#data).set(
      [s.sqrtAlphaBar, s.sqrtOneMinusAlphaBar, s.coefX0, s.coefX, s.coefPrevX0, s.sigma, guidance],
      2,
    );
    this.gpu.device.queue.writeBuffer(this.#uniform, 0, this.#data);
  }

  destroy(): void {
    this.#uniform.destroy();
    this.x0.buffer.destroy();
    this.#x0Raw?.buffer.destroy();
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
 * The prepared models (static weights) a run samples with: `cfg` over 2N rows for the guided
 * steps, `single` over N rows for the others. A run whose steps are all guided needs only `cfg`,
 * one with none only `single`; given only `cfg`, unguided steps run on it.
 */
export interface SamplingModels {
  cfg?: ContextUNet;
  single?: ContextUNet;
}

/**
 * The model of each step of `guided` from `models`, or a RangeError naming what is missing.
 * With `oneModel` every step runs on the same model (the 2N-row one if there is one).
 */
function modelPerStep(
  models: SamplingModels,
  guided: readonly boolean[],
  n: number,
  oneModel: boolean,
) {
  if (models.cfg && models.cfg.x.shape[0] !== 2 * n) {
    throw new RangeError(
      `the guided model runs ${models.cfg.x.shape[0]} rows; this needs ${2 * n}`,
    );
  }
  if (models.single && models.single.x.shape[0] !== n) {
    throw new RangeError(`the single model runs ${models.single.x.shape[0]} rows; this needs ${n}`);
  }
  return guided.map((g) => {
    const model = g || oneModel ? models.cfg ?? models.single : models.single ?? models.cfg;
    if (!model || (g && model !== models.cfg)) {
      throw new RangeError(`a ${g ? "guided" : "single"} step needs a model`);
    }
    return model;
  });
}

/**
 * Runs the guided sampler on `models` (see {@link SamplingModels}); checks `signal` before every
 * step. With an init image every step runs on one model, the one the known-image kernels use.
 */
export async function sample(
  gpu: Gpu,
  models: SamplingModels,
  opts: SampleOptions,
): Promise<SampleResult> {
  const started = performance.now();
  const n = opts.classes.length;
  const { steps, guided, T } = samplingPlan(opts);
  const perStep = modelPerStep(models, guided, n, opts.init !== undefined);
  const start = opts.init ? startIndex(steps.length, opts.init.strength) : 0;
  const firstModel = perStep[Math.min(start, steps.length - 1)];
  const chw = numel(firstModel.x.shape.slice(1));

  // The 2N-row model's rows are [class…, null…]; the N-row model's carry the classes, or the
  // null class at w = 0, where the unconditional prediction is all there is.
  const nullClass = firstModel.config.num_classes;
  const updates = new GuidedUpdate(gpu, {
    n,
    chw,
    seed: opts.seed,
    thresholdPercentile: opts.thresholdPercentile,
  });
  const programs = new Map<ContextUNet, UpdatePrograms>();
  for (const model of new Set(perStep)) {
    const rows = model.x.shape[0];
    const labels = new Uint32Array(rows).map((_, r) =>
      r >= n || opts.guidance === 0 ? nullClass : opts.classes[r]
    );
    upload(gpu, model.labels, labels);
    if (model.mix) {
      const mix = opts.guidance === 0 ? undefined : opts.mix; // w = 0: every row is the null class
      upload(gpu, model.mix, labelMix(labels, mix, nullClass + 1));
    }
    programs.set(model, updates.programs(model.x, model.eps, rows === 2 * n));
  }
  const known = opts.init && new KnownImage(gpu, {
    x: firstModel.x,
    n,
    cfg: firstModel.x.shape[0] === 2 * n,
    seed: opts.seed,
    init: opts.init,
  });
  try {
    programs.get(firstModel)!.init.run();
    if (known && start > 0) {
      known.setStart(steps[start] ?? { sqrtAlphaBar: 1, sqrtOneMinusAlphaBar: 0 });
      known.start.run();
    }
    const every = opts.previewEvery ?? 0;
    const jumps = known?.resample ?? 0;
    const tfrac = new Float32Array(2 * n); // the step's t/T for every row of either model
    for (let i = start; i < steps.length; i++) {
      if (opts.signal?.aborted) throw new SamplingCancelled();
      const model = perStep[i];
      const previous = i > start ? perStep[i - 1] : model;
      upload(gpu, model.tfrac, tfrac.fill(steps[i].t / T).subarray(0, model.x.shape[0]));
      for (let jump = 0; jump <= jumps; jump++) {
        const s = i === start || jump > 0 ? firstOrder(steps[i]) : steps[i];
        updates.setStep(noiseStreams(i, jump).update, s, opts.guidance, guided[i]);
        known?.setPass(steps, i, jump);
        gpu.submit((encoder) => {
          // A switch of model carries x over, once per step: its first N rows, into both halves
          // of a 2N-row input.
          if (jump === 0 && model !== previous) {
            const bytes = n * chw * 4;
            const from = previous.x.offset * 4;
            for (let half = 0; half < model.x.shape[0] / n; half++) {
              const to = model.x.offset * 4 + half * bytes;
              encoder.copyBufferToBuffer(previous.x.buffer, from, model.x.buffer, to, bytes);
            }
          }
          const pass = encoder.beginComputePass({ label: "sample.step" });
          model.forward.encode(pass);
          programs.get(model)!.update.encode(pass);
          if (known?.masked) known.keep.encode(pass);
          if (jump < jumps) known!.jump.encode(pass);
          pass.end();
        });
      }
      const last = i === steps.length - 1;
      if (opts.onPreview && (last || (every > 0 && (i + 1) % every === 0))) {
        opts.onPreview(await download(gpu, updates.x0), i + 1, steps.length);
      }
    }
    const all = await download(gpu, perStep[steps.length - 1].x);
    return {
      images: all.slice(0, n * chw).map((v) => Math.min(1, Math.max(-1, v))),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    updates.destroy();
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
