/**
 * Sampling defaults, chosen from measurements of the shipped model on the CPU
 * fallback adapter (README, "Sampling defaults"; weights/MODEL.md). Every front
 * end starts from these.
 */

import type { SamplerKind } from "../diffusion/schedule.ts";

export const GENERATE_DEFAULTS: {
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
} = { guidance: 3, steps: 100, sampler: "ddpm", eta: 0 };
