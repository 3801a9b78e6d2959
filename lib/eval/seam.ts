/**
 * How visible the seam of a repeated tile is: the mean absolute difference between
 * neighbouring pixels across the wrap edge (the last column beside the first, the last row
 * above the first) against the same between neighbours inside the tile. Values are 8-bit
 * RGBA differences averaged over the four channels; a ratio near 1 (or below) means the wrap
 * edge looks like any other edge of the tile.
 */

import type { RgbaImage } from "../io/image.ts";

export interface Seam {
  /** Mean |difference| across the wrap edges (x: last column → first, y: last row → first). */
  wrap: number;
  /** Mean |difference| between horizontally and vertically adjacent pixels inside the tile. */
  interior: number;
}

/** Mean over RGBA of |a − b| between pixels (x0, y0) and (x1, y1). */
function pixelDiff(img: RgbaImage, x0: number, y0: number, x1: number, y1: number): number {
  const a = (y0 * img.width + x0) * 4;
  const b = (y1 * img.width + x1) * 4;
  let s = 0;
  for (let c = 0; c < 4; c++) s += Math.abs(img.data[a + c] - img.data[b + c]);
  return s / 4;
}

/** The seam of `img` repeated along `axes` ("x", "y" or "xy"). */
export function seam(img: RgbaImage, axes: string): Seam {
  const { width: w, height: h } = img;
  let wrap = 0;
  let wrapCount = 0;
  let interior = 0;
  let interiorCount = 0;
  if (axes.includes("x")) {
    for (let y = 0; y < h; y++) {
      wrap += pixelDiff(img, w - 1, y, 0, y);
      wrapCount++;
      for (let x = 0; x + 1 < w; x++) interior += pixelDiff(img, x, y, x + 1, y);
      interiorCount += w - 1;
    }
  }
  if (axes.includes("y")) {
    for (let x = 0; x < w; x++) {
      wrap += pixelDiff(img, x, h - 1, x, 0);
      wrapCount++;
      for (let y = 0; y + 1 < h; y++) interior += pixelDiff(img, x, y, x, y + 1);
      interiorCount += h - 1;
    }
  }
  return { wrap: wrap / wrapCount, interior: interior / interiorCount };
}
