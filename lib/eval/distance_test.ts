import { deepStrictEqual, ok } from "node:assert/strict";
import { randn } from "../nn/testing.ts";
import {
  meanPairwiseDistance,
  MEMORISATION_THRESHOLD,
  mirrored,
  nearestSprites,
  rmsDistance,
} from "./distance.ts";

const CHW = 4 * 256;

/** `count` random sprites in [−1, 1]. */
const sprites = (count: number, seed: number) =>
  Float32Array.from(randn(count * CHW, seed), (v) => Math.max(-1, Math.min(1, v / 2)));

Deno.test("distance: RMS per value, with the documented one-pixel and constant-offset values", () => {
  const a = sprites(1, 1);
  const offset = a.map((v) => v + 0.25);
  deepStrictEqual(Math.abs(rmsDistance(a, 0, offset, 0, CHW) - 0.25) < 1e-6, true);
  const pixel = new Float32Array(CHW).fill(-1);
  const changed = pixel.slice();
  for (let c = 0; c < 4; c++) changed[c * 256 + 37] = 1; // one pixel, all four values −1 → 1
  deepStrictEqual(rmsDistance(pixel, 0, changed, 0, CHW), 0.125);
});

Deno.test("memorisation: a copy of a training sprite (or of its mirror image) is memorised, a far sample is not", () => {
  const train = sprites(50, 2);
  const samples = new Float32Array(3 * CHW);
  samples.set(train.subarray(17 * CHW, 18 * CHW), 0); // an exact copy of sprite 17
  samples.set(mirrored(train.subarray(4 * CHW, 5 * CHW), 1, CHW), CHW); // sprite 4, mirrored
  // Sprite 30 with faint noise (±0.05): still a copy.
  const noise = randn(CHW, 3, 0.05);
  samples.set(train.subarray(30 * CHW, 31 * CHW).map((v, i) => v + noise[i]), 2 * CHW);
  const near = nearestSprites(samples, 3, train, 50, CHW);
  deepStrictEqual([...near.index], [17, 4, 30]);
  deepStrictEqual([...near.flipped], [0, 1, 0]);
  deepStrictEqual(near.distance[0], 0);
  deepStrictEqual(near.distance[1], 0);
  ok(near.distance[2] < MEMORISATION_THRESHOLD, `noisy copy at ${near.distance[2]}`);

  const far = sprites(1, 4);
  const result = nearestSprites(far, 1, train, 50, CHW);
  ok(result.distance[0] > MEMORISATION_THRESHOLD, `random sprite at ${result.distance[0]}`);
  // The early exit must not change the answer: compare with the exhaustive minimum.
  let best = Infinity;
  for (let r = 0; r < 50; r++) {
    best = Math.min(best, rmsDistance(far, 0, train, r, CHW));
    best = Math.min(best, rmsDistance(far, 0, mirrored(train, 50, CHW), r, CHW));
  }
  ok(Math.abs(result.distance[0] - best) < 1e-9);
});

Deno.test("memorisation: within one set, a sprite is not its own neighbour, a duplicate is", () => {
  const set = sprites(6, 5);
  set.copyWithin(5 * CHW, 2 * CHW, 3 * CHW); // sprite 5 duplicates sprite 2
  const near = nearestSprites(set, 6, set, 6, CHW, [0, 1, 2, 3, 4, 5]);
  deepStrictEqual([near.index[2], near.index[5]], [5, 2]);
  deepStrictEqual([near.distance[2], near.distance[5]], [0, 0]);
  ok(near.distance[0] > MEMORISATION_THRESHOLD);
});

Deno.test("diversity: identical samples give 0; two sprites give their distance", () => {
  const one = sprites(1, 6);
  const same = new Float32Array(5 * CHW);
  for (let i = 0; i < 5; i++) same.set(one, i * CHW);
  deepStrictEqual(meanPairwiseDistance(same, 5, CHW), 0);
  const two = sprites(2, 7);
  ok(Math.abs(meanPairwiseDistance(two, 2, CHW) - rmsDistance(two, 0, two, 1, CHW)) < 1e-12);
  deepStrictEqual(meanPairwiseDistance(one, 1, CHW), 0);
});
