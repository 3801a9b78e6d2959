/**
 * Sampling defaults, chosen from measurements on the CPU fallback adapter
 * (docs/samplers.md: SDE-DPM-Solver++(2M) in 10 steps matched the ancestral
 * DDPM's 100 within the run-to-run noise of class accuracy and sprite FID), and
 * the ranges every front end accepts. `sample`'s options and `serve`'s JSON
 * fields start from these, so a request means the same wherever it is made.
 */

import type { SamplerKind } from "../diffusion/schedule.ts";

export const GENERATE_DEFAULTS: {
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  /** Guidance only at steps with t/T in [lo, hi]; undefined: at every step. */
  guidanceInterval: readonly [number, number] | undefined;
  /** NEAREST upscale of the large PNGs (16 → 256 px, as the original shows). */
  scale: number;
  /** How far a variation moves from its init sprite (0 < strength ≤ 1). */
  strength: number;
} = {
  guidance: 3,
  steps: 10,
  sampler: "dpm++sde",
  eta: 0,
  seed: 0,
  guidanceInterval: undefined,
  scale: 16,
  strength: 0.6,
};

/** Frames a live preview shows whatever the step count: the fade-in looks alike at 10 or 1000. */
export const PREVIEW_FRAMES = 20;

/** The preview cadence that gives about {@link PREVIEW_FRAMES} frames over `steps` steps. */
export const previewEveryFor = (steps: number): number =>
  Math.max(1, Math.round(steps / PREVIEW_FRAMES));

export interface Range {
  min: number;
  max: number;
  integer?: boolean;
  /** `min` itself is refused: the value must lie above it. */
  exclusiveMin?: boolean;
}

/** The accepted values of each numeric option. */
export const GENERATE_RANGES: {
  guidance: Range;
  steps: Range;
  eta: Range;
  seed: Range;
  previewEvery: Range;
  scale: Range;
  /** A variation's share of the step list (1 = from pure noise). */
  strength: Range;
  /** Inpainting's forward-backward jumps per step (each one more model pass per step). */
  resample: Range;
  /** Dynamic thresholding's percentile of |x0|. */
  threshold: Range;
  /** Each end of a guidance interval, a fraction of t/T (and lo < hi). */
  guidanceInterval: Range;
} = {
  guidance: { min: 0, max: 100 },
  steps: { min: 1, max: 1000, integer: true },
  eta: { min: 0, max: 1 },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  previewEvery: { min: 0, max: 1000, integer: true },
  scale: { min: 1, max: 64, integer: true },
  strength: { min: 0, max: 1, exclusiveMin: true },
  resample: { min: 0, max: 20, integer: true },
  threshold: { min: 0, max: 100, exclusiveMin: true },
  guidanceInterval: { min: 0, max: 1 },
};

/** Whether `value` is a number inside `range`. */
export const inRange = (value: number, range: Range): boolean =>
  Number.isFinite(value) && (range.exclusiveMin ? value > range.min : value >= range.min) &&
  value <= range.max && (!range.integer || Number.isInteger(value));

/** Whether [lo, hi] is a guidance interval: both ends in 0…1 and lo below hi. */
export const isGuidanceInterval = ([lo, hi]: readonly [number, number]): boolean =>
  inRange(lo, GENERATE_RANGES.guidanceInterval) && inRange(hi, GENERATE_RANGES.guidanceInterval) &&
  lo < hi;
