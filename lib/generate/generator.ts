/**
 * The generation core: one loaded model that turns requests (classes, guidance,
 * sampler, steps, seed, post-processing) into finished sprites. `sample`,
 * `serve`, the training preview grids and `eval` all generate through it; none
 * of them builds a UNet or post-processes on its own.
 *
 * A Generator keeps the weights on the GPU and one prepared UNet per batch size
 * it has seen (a few, least recently used first out), so a server's requests
 * reuse them. Requests run one at a time, each inside WebGPU error scopes, so a
 * failed or cancelled request leaves the next one unaffected.
 */

import type { Gpu } from "../gpu/gpu.ts";
import { imageFromTensor, type RgbaImage } from "../io/image.ts";
import { IMAGE_SIZE, type ModelConfig } from "../model/config.ts";
import { maxSampleRows } from "../model/memory.ts";
import { ContextUNet } from "../model/unet.ts";
import { storeFromWeights, type Weights } from "../model/weights.ts";
import type { ParamStore } from "../nn/params.ts";
import { guidanceRows, sample, type SamplingModels, samplingPlan } from "../diffusion/sampler.ts";
import { type InitImage, MAX_RESAMPLE } from "../diffusion/known_image.ts";
import type { Wrap } from "../nn/conv2d.ts";
import { type SamplerKind, SAMPLERS } from "../diffusion/schedule.ts";
import { InputError } from "../util/errors.ts";
import type { Palette } from "../palette/palette.ts";
import { GENERATE_RANGES, inRange, isGuidanceInterval } from "./defaults.ts";
import { type PostOptions, postProcessWithPalettes } from "./postprocess.ts";

export { SamplingCancelled as GenerationCancelled } from "../diffusion/sampler.ts";

/** A blend of classes: [class index, weight] pairs, weights ≥ 0 (normalised to sum 1). */
export interface ClassMix {
  mix: readonly (readonly [number, number])[];
}

/** Seamless tiles: the sprite wraps around along these axes. */
export type TileAxes = "x" | "y" | "xy";

export const TILE_AXES: readonly TileAxes[] = ["x", "y", "xy"];

/** What to draw. Every field is validated by {@link Generator.generate}. */
export interface GenerateRequest {
  /**
   * The class of each sprite, 0…num_classes−1, or num_classes for unconditional; or a mix of
   * classes (the label embedding becomes the weighted mix of their rows). A mix whose weight
   * lies on one class is that class.
   */
  classes: readonly (number | ClassMix)[];
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  /** DDIM's noise (0 = deterministic); ignored by the other samplers. */
  eta?: number;
  seed: number;
  /** Dynamic thresholding of x0 at this percentile (0 < P ≤ 100) of |x0|; absent: clamp to [−1, 1]. */
  thresholdPercentile?: number;
  /**
   * Guidance only at steps with t/T in [lo, hi] (0 ≤ lo < hi ≤ 1); the others take the
   * conditional prediction alone, on a model over N rows. Absent: every step is guided.
   */
  guidanceInterval?: readonly [number, number];
  /**
   * Variations and inpainting: the init image ([C, 16, 16] in [−1, 1]) noised to the level
   * `strength` selects; with a mask ([16, 16], 1 = generate, 0 = keep) the kept region is the
   * init's, pixel for pixel.
   */
  init?: InitImage;
  /** Seamless tiles: circular padding in every convolution along these axes. */
  tile?: TileAxes;
  /** Post-processing; `auto:K` palettes are fitted with `post.seed`, by default the request's. */
  post?: PostOptions;
  /** Calls `onPreview` every this many steps and after the last; 0 or absent = only at the end. */
  previewEvery?: number;
  onPreview?: (preview: Preview) => void;
  /** Aborting it ends the request with `GenerationCancelled` before its next step. */
  signal?: AbortSignal;
}

/** The predicted clean image of a step in progress (the live fade-in). */
export interface Preview {
  /** [N, C, 16, 16] in [−1, 1]. */
  x0: Float32Array;
  /** `x0` as images, without post-processing (the raw prediction). */
  images: RgbaImage[];
  step: number;
  total: number;
}

export interface Generation {
  /** The sampler's output [N, C, 16, 16] in [−1, 1]. */
  raw: Float32Array;
  /** The finished sprites: `raw` through the post-processing pipeline. */
  images: RgbaImage[];
  /** The palette each sprite was mapped onto (undefined without a palette). */
  palettes: (Palette | undefined)[];
  seconds: number;
}

/** A request the model cannot serve as asked (unknown class, too many sprites …). */
export class RequestError extends InputError {}

/** UNets kept per batch size; a server with varied requests holds at most this many. */
const CACHED_MODELS = 4;

export class Generator {
  readonly config: ModelConfig;
  readonly classNames: readonly string[];
  readonly #store: ParamStore;
  readonly #ownsStore: boolean;
  readonly #unguidedOnOwnModel: boolean;
  readonly #models = new Map<string, ContextUNet>();
  #queue: Promise<unknown> = Promise.resolve();

  /** A generator over `weights`, whose parameters it uploads once and frees on {@link destroy}. */
  static fromWeights(gpu: Gpu, weights: Weights, { unguidedOnOwnModel = true } = {}): Generator {
    const store = storeFromWeights(gpu, weights);
    return new Generator(gpu, weights.config, weights.classNames, store, { unguidedOnOwnModel });
  }

  /**
   * A generator over parameters that live elsewhere (a trainer's EMA): they may change between
   * requests, since every request re-runs the weight repacks; {@link destroy} leaves them alone.
   * Steps outside a guidance interval run on a UNet over N rows, half the work of a guided step,
   * unless `unguidedOnOwnModel` is false: then they run on the guided UNet, which spares a
   * one-shot run building (compiling) a second UNet.
   */
  constructor(
    readonly gpu: Gpu,
    config: ModelConfig,
    classNames: readonly string[],
    store: ParamStore,
    { ownsStore = true, unguidedOnOwnModel = true } = {},
  ) {
    this.config = config;
    this.classNames = classNames;
    this.#store = store;
    this.#ownsStore = ownsStore;
    this.#unguidedOnOwnModel = unguidedOnOwnModel;
  }

  /** How many batch sizes have a UNet built (a request of a seen size reuses its UNet). */
  get cachedModels(): number {
    return this.#models.size;
  }

  get channels(): number {
    return this.config.in_ch;
  }

  /** The most sprites one request can draw at `guidance` on this adapter. */
  maxSprites(guidance: number): number {
    const rows = maxSampleRows(this.config, this.gpu.maxBinding);
    return guidanceRows(1, guidance) === 2 ? Math.floor(rows / 2) : rows;
  }

  /** Draws the sprites `req` asks for; requests queue and run one at a time. */
  generate(req: GenerateRequest): Promise<Generation> {
    this.#check(req);
    const run = this.#queue.then(() => this.gpu.scoped(() => this.#run(req)));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Frees the UNets (and the parameters, when this generator uploaded them). */
  destroy(): void {
    for (const model of this.#models.values()) model.destroy();
    this.#models.clear();
    if (this.#ownsStore) this.#store.destroy();
  }

  #check(req: GenerateRequest): void {
    const n = req.classes.length;
    if (n < 1) throw new RequestError("a request draws at least one sprite");
    req.classes.forEach((c) => this.#classWeights(c));
    if (req.init) this.#checkInit(req.init);
    if (req.tile !== undefined && !TILE_AXES.includes(req.tile)) {
      throw new RequestError(`tile must be one of ${TILE_AXES.join(", ")}, not ${req.tile}`);
    }
    if (!(req.guidance >= 0) || !Number.isFinite(req.guidance)) {
      throw new RequestError(`guidance must be a number ≥ 0, not ${req.guidance}`);
    }
    if (!(SAMPLERS as readonly string[]).includes(req.sampler)) {
      throw new RequestError(`sampler must be one of ${SAMPLERS.join(", ")}, not '${req.sampler}'`);
    }
    const p = req.thresholdPercentile;
    if (p !== undefined && !inRange(p, GENERATE_RANGES.threshold)) {
      throw new RequestError(`the threshold is a percentile in (0, 100], not ${p}`);
    }
    const interval = req.guidanceInterval;
    if (interval && !isGuidanceInterval(interval)) {
      throw new RequestError(
        `the guidance interval must be lo,hi with 0 ≤ lo < hi ≤ 1 (fractions of t/T), not ${interval}`,
      );
    }
    const { steps, seed } = GENERATE_RANGES;
    if (!inRange(req.steps, steps)) {
      throw new RequestError(
        `steps must be an integer in ${steps.min}…${steps.max}, not ${req.steps}`,
      );
    }
    if (!inRange(req.seed, seed)) {
      throw new RequestError(`seed must be an integer in ${seed.min}…${seed.max}, not ${req.seed}`);
    }
    const max = this.maxSprites(req.guidance);
    if (n > max) {
      throw new RequestError(
        `${n} sprites at guidance ${req.guidance} are more than one step fits on this adapter ` +
          `(maxStorageBufferBindingSize ${this.gpu.maxBinding} bytes); draw ${max} or fewer`,
      );
    }
  }

  /**
   * A class choice as (plain class, or null and the weights over the label table): a mix with
   * its weight on one class is that class, so it runs exactly as the plain class does.
   */
  #classWeights(c: number | ClassMix): { label: number; mix: Float32Array | null } {
    const k = this.config.num_classes;
    const checkIndex = (i: number) => {
      if (!Number.isInteger(i) || i < 0 || i > k) {
        throw new RequestError(`class ${i} is not 0…${k - 1} (or ${k}, unconditional)`);
      }
    };
    if (typeof c === "number") {
      checkIndex(c);
      return { label: c, mix: null };
    }
    const weights = new Float64Array(k + 1);
    for (const [i, w] of c.mix) {
      checkIndex(i);
      if (!(w >= 0) || !Number.isFinite(w)) {
        throw new RequestError(`class weight ${w} is not a finite number ≥ 0`);
      }
      weights[i] += w;
    }
    const sum = weights.reduce((a, w) => a + w, 0);
    if (!(sum > 0)) throw new RequestError("the class weights of a mix sum to 0; give one > 0");
    const used = [...weights.keys()].filter((i) => weights[i] > 0);
    if (used.length === 1) return { label: used[0], mix: null };
    // The label stands for the sprite's file name: its heaviest class.
    const label = used.reduce((a, b) => (weights[b] > weights[a] ? b : a));
    return { label, mix: Float32Array.from(weights, (w) => w / sum) };
  }

  #checkInit(init: InitImage): void {
    const plane = IMAGE_SIZE ** 2;
    if (init.image.length !== this.channels * plane || !init.image.every(Number.isFinite)) {
      throw new RequestError(
        `the init image must be ${this.channels}×${IMAGE_SIZE}×${IMAGE_SIZE} finite values`,
      );
    }
    if (!inRange(init.strength, GENERATE_RANGES.strength)) {
      throw new RequestError(`strength must be in (0, 1], not ${init.strength}`);
    }
    if (init.mask && (init.mask.length !== plane || !init.mask.every(Number.isFinite))) {
      throw new RequestError(`the mask must be ${IMAGE_SIZE}×${IMAGE_SIZE} finite values`);
    }
    const r = init.resample ?? 0;
    if (!inRange(r, GENERATE_RANGES.resample)) {
      throw new RequestError(`resample must be an integer in 0…${MAX_RESAMPLE}, not ${r}`);
    }
  }

  async #run(req: GenerateRequest): Promise<Generation> {
    const n = req.classes.length;
    const choices = req.classes.map((c) => this.#classWeights(c));
    const mixed = choices.some((c) => c.mix !== null);
    const wrap = req.tile && { x: req.tile.includes("x"), y: req.tile.includes("y") };
    // With an init image every step runs on one model (see sample()).
    const { guided } = samplingPlan(req);
    const models: SamplingModels = {};
    if (guided.includes(true)) models.cfg = this.#model(2 * n, mixed, wrap);
    if (!models.cfg || (guided.includes(false) && this.#unguidedOnOwnModel && !req.init)) {
      models.single = this.#model(n, mixed, wrap);
    }
    models.cfg?.prepare.run();
    models.single?.prepare.run();
    const k = this.config.num_classes;
    const oneHot = (label: number) => new Float32Array(k + 1).map((_, i) => i === label ? 1 : 0);
    const every = req.previewEvery ?? 0;
    const { images: raw, seconds } = await sample(this.gpu, models, {
      classes: choices.map((c) => c.label),
      mix: mixed ? choices.map((c) => c.mix ?? oneHot(c.label)) : undefined,
      init: req.init,
      guidance: req.guidance,
      steps: req.steps,
      sampler: req.sampler,
      eta: req.eta,
      seed: req.seed,
      thresholdPercentile: req.thresholdPercentile,
      guidanceInterval: req.guidanceInterval,
      signal: req.signal,
      previewEvery: every,
      onPreview: req.onPreview &&
        ((x0, step, total) => req.onPreview!({ x0, images: this.toImages(x0, n), step, total })),
    });
    const post = postProcessWithPalettes(this.toImages(raw, n), { seed: req.seed, ...req.post });
    return { raw, ...post, seconds };
  }

  /** The first `n` samples of a [N, C, 16, 16] tensor as images. */
  toImages(x: Float32Array, n: number): RgbaImage[] {
    const chw = this.channels * IMAGE_SIZE ** 2;
    return Array.from(
      { length: n },
      (_, i) => imageFromTensor(x, this.channels, IMAGE_SIZE, IMAGE_SIZE, i * chw),
    );
  }

  /**
   * The prepared UNet for `rows` rows (with class mixing, circular padding), built on first
   * use; the least recently used goes first.
   */
  #model(rows: number, classMix: boolean, wrap: Wrap | undefined): ContextUNet {
    const key = `${rows}${classMix ? " mix" : ""}${wrap ? ` wrap ${wrap.x} ${wrap.y}` : ""}`;
    let model = this.#models.get(key);
    if (model) {
      this.#models.delete(key); // re-inserted below as the most recently used
    } else {
      model = new ContextUNet(this.gpu, this.config, this.#store, rows, {
        staticWeights: true,
        classMix,
        wrap,
      });
      if (this.#models.size >= CACHED_MODELS) {
        const [oldest, evicted] = this.#models.entries().next().value!;
        evicted.destroy();
        this.#models.delete(oldest);
      }
    }
    this.#models.set(key, model);
    return model;
  }
}
