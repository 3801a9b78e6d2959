/**
 * Regression test of the shipped weights: a fixed-seed, few-step sample with the
 * `sample` defaults must look like the sprites it was trained on, not like noise.
 *
 * Measured (25 steps, seed 7, raw model output, alpha not snapped): real sprites
 * have roughness 0.21, 47 % opaque pixels and binary alpha; untrained weights give
 * roughness 0.68, 32 % opaque and 31 % of alpha values between −0.8 and 0.8; the
 * shipped weights (11,000 steps) give 0.26, 43 % opaque and 0.4 % soft alpha.
 */

import { ok } from "node:assert/strict";
import { getGpu } from "../lib/gpu/device.ts";
import { Generator } from "../lib/generate/generator.ts";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import { DEFAULT_DATASET, loadDataset } from "../lib/data/dataset.ts";
import { loadDefaultWeights } from "../lib/model/default_weights.ts";

interface SpriteStats {
  /** Share of alpha values strictly between the two ends (−0.8…0.8 in model units). */
  softAlpha: number;
  opaque: number;
  /** Mean |difference| between horizontally adjacent RGB values of opaque pixels. */
  roughness: number;
}

function stats(images: Float32Array, count: number): SpriteStats {
  const plane = 256;
  let soft = 0;
  let opaque = 0;
  let rough = 0;
  let pairs = 0;
  for (let n = 0; n < count; n++) {
    const base = n * 4 * plane;
    for (let i = 0; i < plane; i++) {
      const a = images[base + 3 * plane + i];
      if (Math.abs(a) < 0.8) soft++;
      if (a > 0) opaque++;
      const right = i % 16 < 15 ? i + 1 : -1;
      if (a > 0 && right >= 0 && images[base + 3 * plane + right] > 0) {
        for (let c = 0; c < 3; c++) {
          rough += Math.abs(images[base + c * plane + i] - images[base + c * plane + right]);
        }
        pairs += 3;
      }
    }
  }
  return {
    softAlpha: soft / (count * plane),
    opaque: opaque / (count * plane),
    roughness: rough / Math.max(1, pairs),
  };
}

Deno.test("default weights: a fixed-seed sample is sprite-like, not noise", async () => {
  const weights = loadDefaultWeights();
  const data = await loadDataset(DEFAULT_DATASET);
  const real = stats(data.images, data.count);
  const gpu = await getGpu();
  const generator = Generator.fromWeights(gpu, weights);
  const k = weights.config.num_classes;
  const classes = Array.from({ length: 2 * k }, (_, i) => i % k);
  const { raw } = await generator.generate({ ...GENERATE_DEFAULTS, classes, steps: 25, seed: 7 });
  generator.destroy();
  const got = stats(raw, classes.length);
  const report = `samples ${JSON.stringify(got)} vs dataset ${JSON.stringify(real)}`;
  ok(got.softAlpha < 0.05, `alpha is far from binary: ${report}`);
  ok(Math.abs(got.opaque - real.opaque) < 0.1, `opaque share far from the dataset's: ${report}`);
  ok(
    got.roughness < 1.5 * real.roughness,
    `samples are much rougher than sprites (noise?): ${report}`,
  );
});
