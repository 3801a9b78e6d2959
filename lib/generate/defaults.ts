/**
 * Sampling defaults, chosen from measurements of the shipped model on the CPU
 * fallback adapter (README, "Sampling defaults"; weights/MODEL.md), and the
 * ranges every front end accepts. `sample`'s options and `serve`'s JSON fields
 * start from these, so a request means the same wherever it is made.
 */

import type { SamplerKind } from "../diffusion/schedule.ts";

export const GENERATE_DEFAULTS: {
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  /** The fade-in: a preview every this many steps. */
  previewEvery: number;
  /** NEAREST upscale of the large PNGs (16 → 256 px, as the original shows). */
  scale: number;
  /** How far a variation moves from its init sprite (0 < strength ≤ 1). */
  strength: number;
} = {
  guidance: 3,
  steps: 100,
  sampler: "ddpm",
  eta: 0,
  seed: 0,
  previewEvery: 20,
  scale: 16,
  strength: 0.6,
};

export interface Range {
  min: number;
  max: number;
  integer?: boolean;
}

/** The accepted values of each numeric option. */
export const GENERATE_RANGES: {
  guidance: Range;
  steps: Range;
  eta: Range;
  seed: Range;
  previewEvery: Range;
  scale: Range;
} = {
  guidance: { min: 0, max: 100 },
  steps: { min: 1, max: 1000, integer: true },
  eta: { min: 0, max: 1 },
  seed: { min: 0, max: 2 ** 32 - 1, integer: true },
  previewEvery: { min: 0, max: 1000, integer: true },
  scale: { min: 1, max: 64, integer: true },
};

/** Whether `value` is a number inside `range`. */
export const inRange = (value: number, range: Range): boolean =>
  Number.isFinite(value) && value >= range.min && value <= range.max &&
  (!range.integer || Number.isInteger(value));
