/**
 * Sprite sheets and upscales: NEAREST integer scaling (pixel art must stay crisp)
 * and the checkerboard that makes transparency visible. The terminal preview
 * (lib/term/ansi.ts) uses the same checkerboard, so a sheet and a preview agree.
 */

import type { RgbaImage } from "./image.ts";

/**
 * The checkerboard under transparent pixels: squares of 2×2 sprite pixels, light
 * #999999 at the top-left corner, alternating with dark #666666 (mid-tones, so
 * both black outlines and white highlights stand out against them).
 */
export const CHECKER = { light: 0x99, dark: 0x66, square: 2 } as const;

function assertScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 1) {
    throw new RangeError(`scale must be a positive integer, not ${scale}`);
  }
}

export function upscaleNearest(img: RgbaImage, scale: number): RgbaImage {
  assertScale(scale);
  const width = img.width * scale;
  const height = img.height * scale;
  const data = new Uint8Array(width * height * 4);
  const rowBytes = width * 4;
  for (let sy = 0; sy < img.height; sy++) {
    // Widen one source row, then repeat it `scale` times.
    const top = sy * scale * rowBytes;
    for (let sx = 0; sx < img.width; sx++) {
      const pixel = img.data.subarray((sy * img.width + sx) * 4, (sy * img.width + sx + 1) * 4);
      for (let k = 0; k < scale; k++) data.set(pixel, top + (sx * scale + k) * 4);
    }
    for (let k = 1; k < scale; k++) data.copyWithin(top + k * rowBytes, top, top + rowBytes);
  }
  return { width, height, data };
}

/**
 * An opaque copy of `img` with every pixel alpha-composited over the
 * {@link CHECKER} colours, in squares of `square` pixels.
 */
export function compositeOverChecker(img: RgbaImage, square: number): RgbaImage {
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      const alpha = img.data[i + 3];
      const isLight = ((Math.floor(x / square) + Math.floor(y / square)) & 1) === 0;
      const under = (isLight ? CHECKER.light : CHECKER.dark) * (255 - alpha);
      for (let c = 0; c < 3; c++) data[i + c] = Math.round((img.data[i + c] * alpha + under) / 255);
      data[i + 3] = 255;
    }
  }
  return { width: img.width, height: img.height, data };
}

/** Where each tile of a sheet lies: position and size in sheet pixels, by row and column. */
export interface SheetTile {
  row: number;
  column: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The layout {@link composeSheet} draws: rows of `tile`-sized sprites scaled by `scale`, `gap`
 * pixels between tiles, no outer margin. `rowLengths` gives the number of sprites per row.
 */
export function sheetLayout(
  rowLengths: readonly number[],
  tile: { width: number; height: number },
  opts: { scale: number; gap: number },
): { width: number; height: number; tiles: SheetTile[] } {
  const { scale, gap } = opts;
  assertScale(scale);
  if (!Number.isInteger(gap) || gap < 0) {
    throw new RangeError(`gap must be an integer ≥ 0, not ${gap}`);
  }
  const columns = Math.max(...rowLengths);
  const w = tile.width * scale;
  const h = tile.height * scale;
  const tiles = rowLengths.flatMap((length, row) =>
    Array.from({ length }, (_, column) => ({
      row,
      column,
      x: column * (w + gap),
      y: row * (h + gap),
      w,
      h,
    }))
  );
  return {
    width: columns * w + (columns - 1) * gap,
    height: rowLengths.length * h + (rowLengths.length - 1) * gap,
    tiles,
  };
}

/**
 * Rows of equally sized sprites into one image, laid out by {@link sheetLayout}: rows may be
 * shorter than the longest, each tile NEAREST-scaled by the integer `scale`. Gaps and missing
 * tiles are transparent, unless `checker`: then the whole sheet is composited over the
 * checkerboard (squares of 2·scale pixels, i.e. 2×2 sprite pixels) and is opaque.
 */
export function composeSheet(
  rows: RgbaImage[][],
  opts: { scale: number; gap: number; checker: boolean },
): RgbaImage {
  const { scale, checker } = opts;
  const first = rows.find((row) => row.length > 0)?.[0];
  if (!first) throw new RangeError("a sprite sheet needs at least one sprite");
  for (const tile of rows.flat()) {
    if (tile.width !== first.width || tile.height !== first.height) {
      throw new RangeError(
        `sprite sheet tiles differ in size: ${tile.width}×${tile.height} and ${first.width}×${first.height}`,
      );
    }
  }
  const { width, height, tiles } = sheetLayout(rows.map((row) => row.length), first, opts);
  const data = new Uint8Array(width * height * 4);
  for (const { row, column, x, y: top, w, h } of tiles) {
    const tile = upscaleNearest(rows[row][column], scale);
    for (let y = 0; y < h; y++) {
      data.set(tile.data.subarray(y * w * 4, (y + 1) * w * 4), ((top + y) * width + x) * 4);
    }
  }
  const sheet = { width, height, data };
  return checker ? compositeOverChecker(sheet, CHECKER.square * scale) : sheet;
}

/** A 3×3 repeat of a tile, to see the seams. */
export function repeat3x3(tile: RgbaImage): RgbaImage {
  const w = tile.width * 3;
  const data = new Uint8Array(w * tile.height * 3 * 4);
  for (let y = 0; y < tile.height * 3; y++) {
    for (let x = 0; x < w; x++) {
      const src = ((y % tile.height) * tile.width + (x % tile.width)) * 4;
      data.set(tile.data.subarray(src, src + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: tile.height * 3, data };
}
