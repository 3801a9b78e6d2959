import { ok } from "node:assert/strict";
import {
  linearToSrgb,
  oklabFromLinear,
  oklabFromRgb,
  rgbFromOklab,
  srgbToLinear,
} from "./oklab.ts";

const near = (got: readonly number[], want: readonly number[], tol: number, what: string) =>
  ok(
    got.every((v, i) => Math.abs(v - want[i]) <= tol),
    `${what}: got [${got.map((v) => v.toFixed(6))}], want [${want}] ± ${tol}`,
  );

// CIE XYZ (D65) → linear sRGB, IEC 61966-2-1 primaries (Lindbloom's 7-digit matrix).
const XYZ_TO_LINEAR_SRGB = [
  [3.2404542, -1.5371385, -0.4985314],
  [-0.9692660, 1.8760108, 0.0415560],
  [0.0556434, -0.2040259, 1.0572252],
];

Deno.test("oklab: Ottosson's published XYZ → OKLab pairs (3 decimals)", () => {
  // The table in "A perceptual color space for image processing" (B. Ottosson, 2020).
  const table: [number[], number[]][] = [
    [[0.950, 1.000, 1.089], [1.000, 0.000, 0.000]],
    [[1.000, 0.000, 0.000], [0.450, 1.236, -0.019]],
    [[0.000, 1.000, 0.000], [0.922, -0.671, 0.263]],
    [[0.000, 0.000, 1.000], [0.153, -1.415, -0.449]],
  ];
  for (const [xyz, lab] of table) {
    const [r, g, b] = XYZ_TO_LINEAR_SRGB.map((row) =>
      row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2]
    );
    // ±0.0005 from the 3-decimal rounding, the rest from the two matrices' own precision.
    near(oklabFromLinear(r, g, b), lab, 1e-3, `XYZ ${xyz}`);
  }
});

Deno.test("oklab: CSS Color 4's sRGB primaries in OKLCh", () => {
  // W3C CSS Color Module Level 4: red = oklch(0.6279553606145516 0.2576833077361 29.2338851923426);
  // green and blue as commonly quoted from it, to fewer digits. Tolerance = half the last digit.
  const cases: [number[], number[], number[]][] = [
    [[255, 0, 0], [0.6279553606, 0.2576833077, 29.2338851923], [5e-11, 5e-11, 5e-11]],
    [[0, 255, 0], [0.8664396, 0.2948272, 142.5], [5e-8, 5e-8, 0.05]],
    [[0, 0, 255], [0.4520137, 0.3132, 264.05], [5e-8, 5e-5, 0.005]],
  ];
  for (const [[r, g, b], want, tol] of cases) {
    const [l, a, bb] = oklabFromRgb(r, g, b);
    const lch = [l, Math.hypot(a, bb), (((Math.atan2(bb, a) * 180) / Math.PI) + 360) % 360];
    lch.forEach((v, i) => near([v], [want[i]], tol[i], `rgb ${r},${g},${b} component ${i}`));
  }
  near(oklabFromRgb(255, 255, 255), [1, 0, 0], 1e-7, "white");
  near(oklabFromRgb(0, 0, 0), [0, 0, 0], 0, "black");
});

Deno.test("oklab: sRGB transfer curve at its published break points, and 8-bit round trips", () => {
  near([srgbToLinear(0.04045)], [0.04045 / 12.92], 1e-12, "linear segment");
  near([srgbToLinear(0.5)], [0.21404114048223255], 1e-12, "mid grey"); // ((0.5+0.055)/1.055)^2.4
  near([linearToSrgb(srgbToLinear(0.73))], [0.73], 1e-12, "inverse");
  for (let r = 0; r < 256; r += 5) {
    for (let g = 0; g < 256; g += 3) {
      for (let b = 0; b < 256; b += 7) {
        const back = rgbFromOklab(...oklabFromRgb(r, g, b));
        ok(back[0] === r && back[1] === g && back[2] === b, `${r},${g},${b} came back as ${back}`);
      }
    }
  }
  near(rgbFromOklab(2, 0, 0), [255, 255, 255], 0, "out of gamut clamps");
});
