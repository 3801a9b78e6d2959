/**
 * PyTorch's default initialisation, seeded: Linear/Conv weights and biases
 * U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5), GroupNorm γ = 1, β = 0,
 * Embedding N(0, 1).
 */

import type { ParamLayout } from "../nn/params.ts";
import { mulberry32 } from "../util/rng.ts";

export function initParams(layout: ParamLayout, seed: number): Float32Array {
  const rand = mulberry32(seed ^ 0x5eed);
  const flat = new Float32Array(layout.size);
  const fanIn = new Map<string, number>();
  for (const e of layout.entries) {
    if (e.name.endsWith(".weight") && e.shape.length >= 2) {
      fanIn.set(e.name.slice(0, -".weight".length), e.shape.slice(1).reduce((a, b) => a * b, 1));
    }
  }
  for (const e of layout.entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const out = flat.subarray(e.offset, e.offset + n);
    const module = e.name.slice(0, e.name.lastIndexOf("."));
    if (e.name === "label_emb.weight") {
      for (let i = 0; i < n; i++) {
        out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      }
    } else if (fanIn.has(module)) {
      const bound = 1 / Math.sqrt(fanIn.get(module)!);
      for (let i = 0; i < n; i++) out[i] = (2 * rand() - 1) * bound;
    } else if (e.name.endsWith(".weight")) {
      out.fill(1); // GroupNorm scale
    } // GroupNorm shift stays 0
  }
  return flat;
}
