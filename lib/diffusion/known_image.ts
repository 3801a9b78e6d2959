/**
 * Sampling from a known image, for every sampler: img2img starts the step list
 * part-way, from the init image noised to that step's level; inpainting
 * (RePaint, Lugmayr et al. 2022) replaces the kept region after each update
 * with the init noised to the level the update reached, optionally jumping back
 * a step and redoing it (`resample`) so the generated region agrees with it.
 *
 * Both are small kernels dispatched beside the sampler's own update kernel,
 * which stays untouched.
 */

import type { Gpu } from "../gpu/device.ts";
import type { KernelSource } from "../gpu/kernel.ts";
import { Program, type Resource } from "../gpu/program.ts";
import { createTensor, numel, type Tensor, upload } from "../gpu/tensor.ts";
import type { SamplerStep } from "./schedule.ts";
import { GENERATE_RANGES } from "../generate/defaults.ts";
import random from "../../kernels/random.wgsl" with { type: "text" };
import code from "../../kernels/known_image.wgsl" with { type: "text" };

const KERNEL: KernelSource = { name: "known_image", code: `${random}\n${code}` };

/** The init image and how to use it. */
export interface InitImage {
  /** [C, H, W] in [−1, 1], shared by every sprite. */
  image: Float32Array;
  /** 0 < strength ≤ 1: the share of the step list that runs (1 = from pure noise). */
  strength: number;
  /** [H, W]: 1 = generate, 0 = keep the init; absent = generate everywhere (img2img). */
  mask?: Float32Array;
  /** Forward-backward jumps per step while inpainting (default 0). */
  resample?: number;
}

/** The most resampling jumps per step (the range every front end accepts). */
export const MAX_RESAMPLE: number = GENERATE_RANGES.resample.max;

/**
 * Step index img2img starts at: the last round(strength·L) of L steps run. At strength 1 that
 * is all of them from pure noise (ordinary sampling); below 1/(2L) none, and the init comes
 * back as it is.
 */
export function startIndex(steps: number, strength: number): number {
  return steps - Math.round(strength * steps);
}

/**
 * The noise-stream numbers (the `step` argument of kernels/random.wgsl's draws) of one
 * (step, jump): the sampler's update keeps `step` on the first pass, so runs without
 * resampling draw exactly what ordinary sampling does; each kind of draw has its own range.
 */
export function noiseStreams(
  step: number,
  jump: number,
): { update: number; keep: number; jump: number } {
  const index = step + jump * 1024;
  return { update: index, keep: 0x40000000 + index, jump: 0x80000000 + index };
}

/**
 * The known-image kernels over the model's input `x` (2N rows with CFG). `start` writes the
 * noised start, `keep` the kept region after an update, `jump` one step back up.
 */
export class KnownImage {
  readonly start: Program;
  readonly keep: Program;
  readonly jump: Program;
  readonly masked: boolean;
  readonly resample: number;
  readonly #uniform: GPUBuffer;
  readonly #data = new ArrayBuffer(32);
  readonly #known: Tensor;
  readonly #mask: Tensor;

  constructor(
    readonly gpu: Gpu,
    a: { x: Tensor; n: number; cfg: boolean; seed: number; init: InitImage },
  ) {
    const [, c, h, w] = a.x.shape;
    const chw = numel(a.x.shape.slice(1));
    this.masked = a.init.mask !== undefined;
    this.resample = this.masked ? a.init.resample ?? 0 : 0;
    this.#known = createTensor(gpu, [c, h, w], "known");
    upload(gpu, this.#known, a.init.image);
    this.#mask = createTensor(gpu, [h, w], "mask");
    upload(gpu, this.#mask, a.init.mask ?? new Float32Array(h * w).fill(1));
    this.#uniform = gpu.device.createBuffer({
      size: 32,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    new Uint32Array(this.#data)[0] = a.seed >>> 0;
    const consts = { N: a.n, CHW: chw, HW: h * w, CFG: a.cfg };
    const groups = Math.ceil((a.n * chw) / 64);
    // Each entry point binds only what it reads (the layouts are derived from the code).
    const program = (entry: string, bindings: (Resource | undefined)[]) => {
      const p = new Program(gpu, `sample.${entry}`);
      p.add(KERNEL, entry, consts, bindings, groups);
      return p;
    };
    this.start = program("noised_start", [this.#uniform, this.#known, a.x]);
    this.keep = program("keep_known", [this.#uniform, this.#known, a.x, this.#mask]);
    this.jump = program("renoise", [this.#uniform, undefined, a.x]);
  }

  /** Sets the noised start's level: x = √ᾱ·init + √(1−ᾱ)·z at the level of step `s`. */
  setStart(s: SamplerStep): void {
    this.#write({ keepA: s.sqrtAlphaBar, keepB: s.sqrtOneMinusAlphaBar });
  }

  /**
   * Sets pass `jump` of step `index` of `steps`: keep noises the init to the level the update
   * reaches (the next step's, or clean after the last), renoise jumps from there back to
   * this step's level: x = √(ᾱ/ᾱ_next)·x + √(1 − ᾱ/ᾱ_next)·z.
   */
  setPass(steps: readonly SamplerStep[], index: number, jump: number): void {
    const here = steps[index];
    const next = steps[index + 1];
    const keepA = next?.sqrtAlphaBar ?? 1;
    const keepB = next?.sqrtOneMinusAlphaBar ?? 0;
    const ratio = (here.sqrtAlphaBar / keepA) ** 2;
    const streams = noiseStreams(index, jump);
    this.#write({
      keepStep: streams.keep,
      keepA,
      keepB,
      jumpStep: streams.jump,
      jumpA: Math.sqrt(ratio),
      jumpB: Math.sqrt(1 - ratio),
    });
  }

  #write(p: {
    keepStep?: number;
    keepA: number;
    keepB: number;
    jumpStep?: number;
    jumpA?: number;
    jumpB?: number;
  }): void {
    const u = new Uint32Array(this.#data);
    const f = new Float32Array(this.#data);
    u[1] = p.keepStep ?? 0;
    f[2] = p.keepA;
    f[3] = p.keepB;
    u[4] = p.jumpStep ?? 0;
    f[5] = p.jumpA ?? 0;
    f[6] = p.jumpB ?? 0;
    this.gpu.device.queue.writeBuffer(this.#uniform, 0, this.#data);
  }

  destroy(): void {
    this.start.destroy();
    this.keep.destroy();
    this.jump.destroy();
    this.#uniform.destroy();
    this.#known.buffer.destroy();
    this.#mask.buffer.destroy();
  }
}
