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
import { guidanceRows, sample } from "../diffusion/sampler.ts";
import type { SamplerKind } from "../diffusion/schedule.ts";
import { InputError } from "../util/errors.ts";
import type { Palette } from "../palette/palette.ts";
import { type PostOptions, postProcessWithPalettes } from "./postprocess.ts";

export { SamplingCancelled as GenerationCancelled } from "../diffusion/sampler.ts";

/** What to draw. Every field is validated by {@link Generator.generate}. */
export interface GenerateRequest {
  /** The class of each sprite, 0…num_classes−1, or num_classes for unconditional. */
  classes: readonly number[];
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  /** DDIM's noise (0 = deterministic); ignored by the other samplers. */
  eta?: number;
  seed: number;
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
  readonly #models = new Map<number, ContextUNet>();
  #queue: Promise<unknown> = Promise.resolve();

  /** A generator over `weights`, whose parameters it uploads once and frees on {@link destroy}. */
  static fromWeights(gpu: Gpu, weights: Weights): Generator {
    return new Generator(gpu, weights.config, weights.classNames, storeFromWeights(gpu, weights));
  }

  /**
   * A generator over parameters that live elsewhere (a trainer's EMA): they may change between
   * requests, since every request re-runs the weight repacks; {@link destroy} leaves them alone.
   */
  constructor(
    readonly gpu: Gpu,
    config: ModelConfig,
    classNames: readonly string[],
    store: ParamStore,
    { ownsStore = true } = {},
  ) {
    this.config = config;
    this.classNames = classNames;
    this.#store = store;
    this.#ownsStore = ownsStore;
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
    const k = this.config.num_classes;
    const n = req.classes.length;
    if (n < 1) throw new RequestError("a request draws at least one sprite");
    const bad = req.classes.find((c) => !Number.isInteger(c) || c < 0 || c > k);
    if (bad !== undefined) {
      throw new RequestError(`class ${bad} is not 0…${k - 1} (or ${k}, unconditional)`);
    }
    if (!(req.guidance >= 0) || !Number.isFinite(req.guidance)) {
      throw new RequestError(`guidance must be a number ≥ 0, not ${req.guidance}`);
    }
    if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > 1000) {
      throw new RequestError(`steps must be an integer in 1…1000, not ${req.steps}`);
    }
    if (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > 2 ** 32 - 1) {
      throw new RequestError(`seed must be an integer in 0…${2 ** 32 - 1}, not ${req.seed}`);
    }
    const max = this.maxSprites(req.guidance);
    if (n > max) {
      throw new RequestError(
        `${n} sprites at guidance ${req.guidance} are more than one step fits on this adapter ` +
          `(maxStorageBufferBindingSize ${this.gpu.maxBinding} bytes); draw ${max} or fewer`,
      );
    }
  }

  async #run(req: GenerateRequest): Promise<Generation> {
    const n = req.classes.length;
    const model = this.#model(guidanceRows(n, req.guidance));
    model.prepare.run();
    const every = req.previewEvery ?? 0;
    const { images: raw, seconds } = await sample(this.gpu, model, {
      classes: req.classes,
      guidance: req.guidance,
      steps: req.steps,
      sampler: req.sampler,
      eta: req.eta,
      seed: req.seed,
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

  /** The prepared UNet for `rows` rows, built on first use; the least recently used goes first. */
  #model(rows: number): ContextUNet {
    let model = this.#models.get(rows);
    if (model) {
      this.#models.delete(rows); // re-inserted below as the most recently used
    } else {
      model = new ContextUNet(this.gpu, this.config, this.#store, rows, { staticWeights: true });
      if (this.#models.size >= CACHED_MODELS) {
        const [oldest, evicted] = this.#models.entries().next().value!;
        evicted.destroy();
        this.#models.delete(oldest);
      }
    }
    this.#models.set(rows, model);
    return model;
  }
}
