/**
 * Sampling defaults, chosen from measurements on the CPU fallback adapter
 * (docs/samplers.md): SDE-DPM-Solver++(2M) in 10 steps matched the ancestral
 * DDPM's 100 within the run-to-run noise of class accuracy and sprite FID.
 * Every front end starts from these.
 */

import type { SamplerKind } from "../diffusion/schedule.ts";

export const GENERATE_DEFAULTS: {
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
  /** Guidance only at steps with t/T in [lo, hi]; undefined: at every step. */
  guidanceInterval: readonly [number, number] | undefined;
} = { guidance: 3, steps: 10, sampler: "dpm++sde", eta: 0, guidanceInterval: undefined };

/** Frames a live preview shows whatever the step count: the fade-in looks alike at 10 or 1000. */
export const PREVIEW_FRAMES = 20;

/** The preview cadence that gives about {@link PREVIEW_FRAMES} frames over `steps` steps. */
export const previewEveryFor = (steps: number): number =>
  Math.max(1, Math.round(steps / PREVIEW_FRAMES));
