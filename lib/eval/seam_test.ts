import { deepStrictEqual } from "node:assert/strict";
import { seam } from "./seam.ts";

Deno.test("seam: hand-computed wrap and interior differences", () => {
  // A 3 × 2 grey ramp, opaque: columns 0, 30, 90 in RGB (alpha 255 everywhere).
  const data = new Uint8Array(3 * 2 * 4);
  [0, 30, 90, 0, 30, 90].forEach((v, p) => data.set([v, v, v, 255], p * 4));
  const img = { width: 3, height: 2, data };
  // x: wrap |90 − 0|·3/4 = 67.5 per row; interior (30 + 60)·3/4 / 2 = 33.75.
  deepStrictEqual(seam(img, "x"), { wrap: 67.5, interior: 33.75 });
  // y: both rows are alike, so every vertical difference is 0.
  deepStrictEqual(seam(img, "y"), { wrap: 0, interior: 0 });
  // xy: wrap (2·67.5 + 3·0) / 5 = 27; interior (4·33.75 + 3·0) / 7 = 135 / 7.
  deepStrictEqual(seam(img, "xy"), { wrap: 27, interior: 135 / 7 });
});
