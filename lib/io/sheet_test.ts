import { deepStrictEqual, throws } from "node:assert/strict";
import type { RgbaImage } from "./image.ts";
import { composeSheet, sheetLayout, upscaleNearest } from "./sheet.ts";

/** A 2×2 sprite whose pixel (x, y) is [base + 10x + y, 1, 2, alpha(x, y)]. */
function sprite(base: number, alpha = () => 255): RgbaImage {
  const data = new Uint8Array(16);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 2; x++) data.set([base + 10 * x + y, 1, 2, alpha()], (y * 2 + x) * 4);
  }
  return { width: 2, height: 2, data };
}

const pixel = (img: RgbaImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x + 1) * 4));

Deno.test("upscaleNearest repeats each pixel scale×scale times", () => {
  const img = { width: 2, height: 1, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };
  const up = upscaleNearest(img, 3);
  deepStrictEqual([up.width, up.height], [6, 3]);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 6; x++) {
      deepStrictEqual(pixel(up, x, y), x < 3 ? [1, 2, 3, 4] : [5, 6, 7, 8]);
    }
  }
});

// Rows [A, B] and [C]: 2×2 tiles, scale 2, gap 1 → 9×9; the missing tile's place is empty.
const rows = [[sprite(100), sprite(150)], [sprite(200)]];

Deno.test("composeSheet places scaled tiles with transparent gaps", () => {
  const sheet = composeSheet(rows, { scale: 2, gap: 1, checker: false });
  deepStrictEqual([sheet.width, sheet.height], [9, 9]);
  deepStrictEqual(pixel(sheet, 0, 0), [100, 1, 2, 255]); // A(0,0)
  deepStrictEqual(pixel(sheet, 1, 1), [100, 1, 2, 255]); // A(0,0), scaled
  deepStrictEqual(pixel(sheet, 2, 1), [110, 1, 2, 255]); // A(1,0)
  deepStrictEqual(pixel(sheet, 3, 3), [111, 1, 2, 255]); // A(1,1)
  deepStrictEqual(pixel(sheet, 4, 0), [0, 0, 0, 0]); // gap column
  deepStrictEqual(pixel(sheet, 5, 0), [150, 1, 2, 255]); // B(0,0)
  deepStrictEqual(pixel(sheet, 8, 2), [161, 1, 2, 255]); // B(1,1)
  deepStrictEqual(pixel(sheet, 0, 4), [0, 0, 0, 0]); // gap row
  deepStrictEqual(pixel(sheet, 0, 5), [200, 1, 2, 255]); // C(0,0)
  deepStrictEqual(pixel(sheet, 3, 7), [211, 1, 2, 255]); // C(1,1)
  deepStrictEqual(pixel(sheet, 7, 7), [0, 0, 0, 0]); // no tile
});

Deno.test("composeSheet with checker: opaque, transparency over 2·scale squares", () => {
  const halfClear = [[sprite(100, () => 0), sprite(150, () => 128)]];
  const sheet = composeSheet(halfClear, { scale: 2, gap: 1, checker: true });
  // Squares of 4 px: light #999999 (153) where ⌊x/4⌋+⌊y/4⌋ is even, dark #666666 (102) else.
  deepStrictEqual(pixel(sheet, 0, 0), [153, 153, 153, 255]); // fully transparent A
  deepStrictEqual(pixel(sheet, 4, 0), [102, 102, 102, 255]); // gap on a dark square
  // B(0,0) = (150,1,2) at alpha 128 over dark 102 at (5,0): round((c·128 + 102·127)/255).
  deepStrictEqual(pixel(sheet, 5, 0), [126, 51, 52, 255]);
  // B(1,1) = (161,1,2) at (8,3): ⌊8/4⌋ = 2 → light 153: round((c·128 + 153·127)/255).
  deepStrictEqual(pixel(sheet, 8, 3), [157, 77, 77, 255]);
});

Deno.test("composeSheet rejects bad input", () => {
  const other = { width: 3, height: 2, data: new Uint8Array(24) };
  throws(() => composeSheet([[sprite(0), other]], { scale: 1, gap: 0, checker: false }), /differ/);
  throws(() => composeSheet([[]], { scale: 1, gap: 0, checker: false }), /at least one/);
  throws(() => composeSheet(rows, { scale: 0, gap: 0, checker: false }), /scale/);
  throws(() => upscaleNearest(sprite(0), 1.5), /scale/);
});

Deno.test("sheetLayout: the rectangles composeSheet draws each sprite in", () => {
  const sheet = composeSheet(rows, { scale: 2, gap: 1, checker: false });
  const layout = sheetLayout([2, 1], { width: 2, height: 2 }, { scale: 2, gap: 1 });
  deepStrictEqual([layout.width, layout.height], [sheet.width, sheet.height]);
  deepStrictEqual(layout.tiles, [
    { row: 0, column: 0, x: 0, y: 0, w: 4, h: 4 },
    { row: 0, column: 1, x: 5, y: 0, w: 4, h: 4 },
    { row: 1, column: 0, x: 0, y: 5, w: 4, h: 4 },
  ]);
  for (const t of layout.tiles) {
    const base = [100, 150, 200][t.row * 2 + t.column];
    deepStrictEqual(pixel(sheet, t.x, t.y), [base, 1, 2, 255]);
    deepStrictEqual(pixel(sheet, t.x + t.w - 1, t.y + t.h - 1), [base + 11, 1, 2, 255]);
  }
});
