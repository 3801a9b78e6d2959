/**
 * Pixel-space distances between sprites, for memorisation and diversity.
 *
 * The distance is the root-mean-square difference over every value of two [C, 16, 16]
 * sprites in [−1, 1] units (C = 3 or 4, so alpha counts like a colour channel). One pixel
 * changed completely in all four RGBA values (−1 ↔ 1) gives √(4·2²/1024) = 0.125; noise of
 * ±13/255 everywhere gives 0.1.
 */

import { IMAGE_SIZE } from "../model/config.ts";

/**
 * A sample within this RMS distance of a training sprite counts as memorised: closer than
 * one fully changed pixel (0.125), i.e. a copy up to faint noise. Distinct sprites of the
 * dataset are rarely this close (the report shows the real-vs-real share beside it).
 */
export const MEMORISATION_THRESHOLD = 0.1;

/** Every one of `count` sprites [C, H, 16] mirrored left–right. */
export function mirrored(images: Float32Array, count: number, chw: number): Float32Array {
  const out = new Float32Array(count * chw);
  for (let line = 0; line < count * chw; line += IMAGE_SIZE) {
    for (let x = 0; x < IMAGE_SIZE; x++) out[line + x] = images[line + IMAGE_SIZE - 1 - x];
  }
  return out;
}

/** Σ (a − b)² over one sprite of each, stopping early once it exceeds `limit`. */
function squaredDistance(
  a: Float32Array,
  aAt: number,
  b: Float32Array,
  bAt: number,
  length: number,
  limit: number,
): number {
  let sum = 0;
  for (let i = 0; i < length; i += 64) {
    const end = Math.min(length, i + 64);
    for (let j = i; j < end; j++) {
      const d = a[aAt + j] - b[bAt + j];
      sum += d * d;
    }
    if (sum > limit) return sum;
  }
  return sum;
}

export const rmsDistance = (
  a: Float32Array,
  ai: number,
  b: Float32Array,
  bi: number,
  length: number,
): number => Math.sqrt(squaredDistance(a, ai * length, b, bi * length, length, Infinity) / length);

export interface Nearest {
  /** The nearest reference sprite of each query. */
  index: Int32Array;
  /** Whether its mirror image was the nearer one. */
  flipped: Uint8Array;
  /** RMS distance to it. */
  distance: Float64Array;
}

/**
 * The nearest reference sprite of each query, the references' mirror images included (the
 * diffusion model trains with flips, so a mirrored copy is a copy). `exclude[q]`, when given,
 * is a reference that query q is not compared with (itself, when the queries are references).
 */
export function nearestSprites(
  queries: Float32Array,
  queryCount: number,
  reference: Float32Array,
  referenceCount: number,
  chw: number,
  exclude?: ArrayLike<number>,
): Nearest {
  const flippedReference = mirrored(reference, referenceCount, chw);
  const out: Nearest = {
    index: new Int32Array(queryCount),
    flipped: new Uint8Array(queryCount),
    distance: new Float64Array(queryCount),
  };
  for (let q = 0; q < queryCount; q++) {
    let best = Infinity;
    for (let r = 0; r < referenceCount; r++) {
      if (exclude && r === exclude[q]) continue;
      for (const [set, flip] of [[reference, 0], [flippedReference, 1]] as const) {
        const d = squaredDistance(queries, q * chw, set, r * chw, chw, best);
        if (d < best) {
          best = d;
          out.index[q] = r;
          out.flipped[q] = flip;
        }
      }
    }
    out.distance[q] = Math.sqrt(best / chw);
  }
  return out;
}

/** The mean RMS distance over all unordered pairs of `count` sprites (0 for fewer than 2). */
export function meanPairwiseDistance(images: Float32Array, count: number, chw: number): number {
  let total = 0;
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) total += rmsDistance(images, i, images, j, chw);
  }
  return count < 2 ? 0 : total / ((count * (count - 1)) / 2);
}
