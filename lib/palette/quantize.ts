/**
 * Mapping a sprite onto a palette: each opaque pixel becomes a palette colour chosen by OKLab
 * distance, optionally dithered. Alpha is binary on the way out (≥ 128 opaque, else transparent
 * with its colour zeroed), so the result is exactly what an indexed PNG can hold.
 *
 * Dithering (default none: on a 16×16 sprite it is a look, not a fix):
 * - `bayer4`/`bayer8`: ordered dithering on OKLab lightness. The pixel's L is offset by
 *   s·((M[y mod n][x mod n] + ½)/n² − ½), M the n×n Bayer index matrix, before the nearest colour
 *   is taken; s is the palette's mean OKLab distance from each colour to its nearest neighbour, so
 *   a colour midway between two neighbours dithers evenly and palette colours stay themselves.
 *   Lightness only: it is what shading ramps vary, and equal offsets on a and b would be a hue
 *   shift, not a mix.
 * - `floyd`: Floyd–Steinberg error diffusion in OKLab, rows left to right: the difference between
 *   the wanted and the chosen colour goes 7/16 right, 3/16 down-left, 5/16 down, 1/16 down-right.
 *   Transparent pixels are skipped: they pass on no error, and error sent to them is lost, as
 *   past the edges.
 */

import type { RgbaImage } from "../io/image.ts";
import { oklabFromRgb } from "./oklab.ts";
import { nearestIndex, type Palette, paletteLab } from "./palette.ts";

export const DITHERS = ["none", "bayer4", "bayer8", "floyd"] as const;
export type Dither = typeof DITHERS[number];

/**
 * The n×n Bayer index matrix (n a power of two), entries 0…n²−1:
 * M(2n) = [[4M, 4M+2], [4M+3, 4M+1]], starting from M(1) = [[0]].
 */
export function bayerMatrix(n: number): number[][] {
  if (n === 1) return [[0]];
  if (!Number.isInteger(Math.log2(n))) throw new RangeError(`Bayer size ${n} is not a power of 2`);
  const half = bayerMatrix(n / 2);
  const h = n / 2;
  return Array.from({ length: n }, (_, y) =>
    Array.from({ length: n }, (_, x) => {
      const base = 4 * half[y % h][x % h];
      return base + [[0, 2], [3, 1]][Math.floor(y / h)][Math.floor(x / h)];
    }));
}

/**
 * Floyd–Steinberg over OKLab values (three per pixel, row-major): the palette index for each
 * pixel, −1 where `opaque` is false. Exposed for tests on hand-made OKLab inputs.
 */
export function floydSteinberg(
  lab: Float64Array,
  width: number,
  height: number,
  opaque: (i: number) => boolean,
  paletteLabs: Float64Array,
): Int32Array {
  const work = lab.slice();
  const out = new Int32Array(width * height).fill(-1);
  const spread = (x: number, y: number, e: number[], weight: number) => {
    if (x < 0 || x >= width || y >= height) return;
    const at = (y * width + x) * 3;
    for (let c = 0; c < 3; c++) work[at + c] += (e[c] * weight) / 16;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!opaque(i)) continue;
      const k = nearestIndex(paletteLabs, work[i * 3], work[i * 3 + 1], work[i * 3 + 2]);
      out[i] = k;
      const e = [0, 1, 2].map((c) => work[i * 3 + c] - paletteLabs[k * 3 + c]);
      spread(x + 1, y, e, 7);
      spread(x - 1, y + 1, e, 3);
      spread(x, y + 1, e, 5);
      spread(x + 1, y + 1, e, 1);
    }
  }
  return out;
}

/** Mean OKLab distance from each palette colour to its nearest other colour (0 for one colour). */
export function neighbourSpacing(labs: Float64Array): number {
  const n = labs.length / 3;
  if (n < 2) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let nearest = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d = Math.hypot(
        labs[i * 3] - labs[j * 3],
        labs[i * 3 + 1] - labs[j * 3 + 1],
        labs[i * 3 + 2] - labs[j * 3 + 2],
      );
      nearest = Math.min(nearest, d);
    }
    sum += nearest;
  }
  return sum / n;
}

/** `image` with every opaque pixel replaced by a colour of `palette` (see the module comment). */
export function quantize(image: RgbaImage, palette: Palette, dither: Dither = "none"): RgbaImage {
  const { width, height } = image;
  const src = image.data;
  const data = new Uint8Array(src.length);
  const count = width * height;
  const opaque = (i: number) => src[i * 4 + 3] >= 128;
  if (palette.colors.length === 0) {
    for (let i = 0; i < count; i++) if (opaque(i)) throw new RangeError("empty palette");
    return { width, height, data };
  }
  const labs = paletteLab(palette);
  const indices = new Int32Array(count).fill(-1);
  if (dither === "floyd") {
    const lab = new Float64Array(count * 3);
    for (let i = 0; i < count; i++) {
      lab.set(oklabFromRgb(src[i * 4], src[i * 4 + 1], src[i * 4 + 2]), i * 3);
    }
    indices.set(floydSteinberg(lab, width, height, opaque, labs));
  } else {
    const n = dither === "bayer4" ? 4 : dither === "bayer8" ? 8 : 0;
    const matrix = n ? bayerMatrix(n) : [[0]];
    const spread = n ? neighbourSpacing(labs) : 0;
    for (let i = 0; i < count; i++) {
      if (!opaque(i)) continue;
      const x = i % width;
      const y = (i - x) / width;
      const t = n ? spread * ((matrix[y % n][x % n] + 0.5) / (n * n) - 0.5) : 0;
      const [L, a, b] = oklabFromRgb(src[i * 4], src[i * 4 + 1], src[i * 4 + 2]);
      indices[i] = nearestIndex(labs, L + t, a, b);
    }
  }
  for (let i = 0; i < count; i++) {
    if (indices[i] < 0) continue;
    data.set(palette.colors[indices[i]], i * 4);
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}
