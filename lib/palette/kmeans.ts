/**
 * `auto:K` palettes: K colours chosen by weighted k-means in OKLab over the distinct opaque
 * colours of one sprite or of a whole batch (each colour weighted by its pixel count).
 * Deterministic for a seed: k-means++ seeding draws from mulberry32(seed), Lloyd iterations
 * break ties by index and run until no colour changes cluster. When there are at most K distinct
 * colours they are the palette, unchanged.
 */

import type { RgbaImage } from "../io/image.ts";
import { mulberry32 } from "../util/rng.ts";
import { oklabFromRgb, rgbFromOklab } from "./oklab.ts";
import { byLightness, makePalette, nearestIndex, type Palette, type Rgb } from "./palette.ts";

/** Lloyd iterations stop here even if a colour still moves (they converge far sooner). */
const MAX_ITERATIONS = 100;

/** Distinct opaque colours (alpha ≥ 128) of `images`, as 24-bit keys with their pixel counts. */
export function opaqueColorCounts(images: readonly RgbaImage[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { data } of images) {
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] < 128) continue;
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

const rgbOfKey = (key: number): Rgb => [key >> 16, (key >> 8) & 255, key & 255];

/** A palette of at most `k` colours for `images` (see the module comment). */
export function kmeansPalette(
  images: readonly RgbaImage[],
  k: number,
  seed: number,
  name = `auto${k}`,
): Palette {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}`);
  const counts = opaqueColorCounts(images);
  const keys = [...counts.keys()].sort((a, b) => a - b);
  if (keys.length <= k) return makePalette(name, byLightness(keys.map(rgbOfKey)));

  const n = keys.length;
  const weight = Float64Array.from(keys, (key) => counts.get(key)!);
  const lab = new Float64Array(n * 3);
  keys.forEach((key, i) => lab.set(oklabFromRgb(...rgbOfKey(key)), i * 3));
  const dist2 = (i: number, c: Float64Array, j: number) =>
    (lab[i * 3] - c[j * 3]) ** 2 + (lab[i * 3 + 1] - c[j * 3 + 1]) ** 2 +
    (lab[i * 3 + 2] - c[j * 3 + 2]) ** 2;

  // k-means++: the first centre drawn by weight, each next one by weight × squared distance to
  // the nearest centre so far.
  const random = mulberry32(seed);
  const centres = new Float64Array(k * 3);
  const nearest2 = new Float64Array(n).fill(Infinity);
  const draw = (p: Float64Array) => {
    let total = 0;
    for (const v of p) total += v;
    let target = random() * total;
    for (let i = 0; i < n; i++) if ((target -= p[i]) < 0 && p[i] > 0) return i;
    return p.findLastIndex((v) => v > 0);
  };
  for (let c = 0; c < k; c++) {
    const pick = draw(c === 0 ? weight : weight.map((w, i) => w * nearest2[i]));
    centres.set(lab.subarray(pick * 3, pick * 3 + 3), c * 3);
    for (let i = 0; i < n; i++) nearest2[i] = Math.min(nearest2[i], dist2(i, centres, c));
  }

  // Lloyd: assign, re-centre (weighted mean), until nothing moves.
  const assign = new Int32Array(n).fill(-1);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    let moved = false;
    for (let i = 0; i < n; i++) {
      const c = nearestIndex(centres, lab[i * 3], lab[i * 3 + 1], lab[i * 3 + 2]);
      if (c !== assign[i]) assign[i] = c, moved = true;
    }
    if (!moved) break;
    const sum = new Float64Array(k * 3);
    const mass = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      mass[assign[i]] += weight[i];
      for (let d = 0; d < 3; d++) sum[assign[i] * 3 + d] += weight[i] * lab[i * 3 + d];
    }
    for (let c = 0; c < k; c++) {
      if (mass[c] > 0) {
        for (let d = 0; d < 3; d++) centres[c * 3 + d] = sum[c * 3 + d] / mass[c];
        continue;
      }
      // An empty cluster takes the colour that its own centre explains worst.
      let worst = 0;
      let worstCost = -1;
      for (let i = 0; i < n; i++) {
        const cost = weight[i] * dist2(i, centres, assign[i]);
        if (cost > worstCost) worstCost = cost, worst = i;
      }
      centres.set(lab.subarray(worst * 3, worst * 3 + 3), c * 3);
    }
  }
  const colors = Array.from(
    { length: k },
    (_, c) => rgbFromOklab(centres[c * 3], centres[c * 3 + 1], centres[c * 3 + 2]),
  );
  return makePalette(name, byLightness(colors));
}
