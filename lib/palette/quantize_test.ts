import { deepStrictEqual } from "node:assert/strict";
import type { RgbaImage } from "../io/image.ts";
import { makePalette, nearestIndex } from "./palette.ts";
import { bayerMatrix, floydSteinberg, neighbourSpacing, quantize } from "./quantize.ts";

const BW = makePalette("bw", [[0, 0, 0], [255, 255, 255]]);

/** A width×height image of one grey value, opaque. */
const grey = (v: number, width: number, height: number): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from({ length: width * height * 4 }, (_, i) => (i % 4 === 3 ? 255 : v)),
});

/** 1 where the pixel came out white, 0 black, as rows. */
const whiteMask = (img: RgbaImage) =>
  Array.from(
    { length: img.height },
    (_, y) =>
      Array.from(
        { length: img.width },
        (_, x) => (img.data[(y * img.width + x) * 4] === 255 ? 1 : 0),
      ),
  );

Deno.test("quantize: Bayer matrices are the published ones", () => {
  deepStrictEqual(bayerMatrix(2), [[0, 2], [3, 1]]);
  deepStrictEqual(bayerMatrix(4), [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]);
  const m8 = bayerMatrix(8);
  deepStrictEqual(m8[0], [0, 32, 8, 40, 2, 34, 10, 42]);
  deepStrictEqual(m8[1], [48, 16, 56, 24, 50, 18, 58, 26]);
  deepStrictEqual(m8.flat().sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => i));
});

Deno.test("quantize: nearest colour by OKLab distance, not RGB distance; binary alpha", () => {
  // Grey 99 has OKLab L = 0.49966, grey 100 has L = 0.50322 (hand-computed through the sRGB
  // curve): 99 is nearer black, 100 nearer white. RGB distance would send both to black.
  const img: RgbaImage = {
    width: 5,
    height: 1,
    data: Uint8Array.from([
      ...[99, 99, 99, 255],
      ...[100, 100, 100, 255],
      ...[40, 10, 10, 128], // alpha 128 → opaque
      ...[40, 10, 10, 127], // alpha 127 → transparent, colour zeroed
      ...[255, 255, 255, 0],
    ]),
  };
  deepStrictEqual(
    [...quantize(img, BW).data],
    [0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  // Ties go to the earlier palette colour; a colour already in the palette maps to itself.
  const tied = Float64Array.from([0, 0, 0, 1, 0, 0, 1, 0, 0]);
  deepStrictEqual([nearestIndex(tied, 0.5, 0, 0), nearestIndex(tied, 0.75, 0, 0)], [0, 1]);
  const pico = makePalette("p", [[0, 135, 81], [171, 82, 54]]);
  const exact = { width: 1, height: 1, data: Uint8Array.from([171, 82, 54, 255]) };
  deepStrictEqual([...quantize(exact, pico).data], [171, 82, 54, 255]);
});

Deno.test("quantize: Bayer spread is the mean nearest-neighbour OKLab distance", () => {
  // L = 0, 0.3, 1 (a = b = 0): nearest distances 0.3, 0.3, 0.7 → mean 13/30.
  const labs = Float64Array.from([0, 0, 0, 0.3, 0, 0, 1, 0, 0]);
  deepStrictEqual(Math.abs(neighbourSpacing(labs) - 13 / 30) < 1e-15, true);
  deepStrictEqual(neighbourSpacing(Float64Array.from([0.5, 0, 0])), 0);
});

Deno.test("quantize: bayer4 on flat greys, hand-computed", () => {
  // Black/white palette: spacing s = 1 (L 0 to 1); L is offset by t = (M + ½)/16 − ½.
  // Grey 100 (L = 0.50322) turns white where L + t ≥ ½, i.e. M ≥ 8: a checkerboard.
  deepStrictEqual(whiteMask(quantize(grey(100, 4, 4), BW, "bayer4")), [
    [0, 1, 0, 1],
    [1, 0, 1, 0],
    [0, 1, 0, 1],
    [1, 0, 1, 0],
  ]);
  // Grey 50 (L = 0.31710) needs t ≥ 0.1829, i.e. M ≥ 11: 5 of 16 white, close to its lightness.
  deepStrictEqual(whiteMask(quantize(grey(50, 4, 4), BW, "bayer4")), [
    [0, 0, 0, 0],
    [1, 0, 1, 0],
    [0, 1, 0, 0],
    [1, 0, 1, 0],
  ]);
  // Palette colours stay put: the largest offset (±0.49) does not carry black or white across.
  deepStrictEqual(whiteMask(quantize(grey(255, 8, 8), BW, "bayer8")).flat().every((v) => v), true);
  deepStrictEqual(whiteMask(quantize(grey(0, 8, 8), BW, "bayer8")).flat().some((v) => v), false);
});

Deno.test("quantize: Floyd–Steinberg error diffusion, hand-computed on OKLab inputs", () => {
  const lightness = (...Ls: number[]) => Float64Array.from(Ls.flatMap((L) => [L, 0, 0]));
  const black = lightness(0, 1); // palette: L = 0 and L = 1
  const all = () => true;
  // 2×2 of L = 0.4: (0,0) → 0, error 0.4 → right 0.575, below 0.525, diagonal 0.425.
  // (1,0) 0.575 → 1, error −0.425 → (0,1) 0.4453, (1,1) 0.2922. (0,1) → 0, error 0.4453 → (1,1)
  // 0.4870 → 0.
  deepStrictEqual([...floydSteinberg(lightness(0.4, 0.4, 0.4, 0.4), 2, 2, all, black)], [
    0,
    1,
    0,
    0,
  ]);
  // (1,0) transparent: it gets no error and passes none. (0,1) 0.525 → 1, error −0.475 → (1,1)
  // 0.425 − 0.2078 = 0.2172 → 0.
  deepStrictEqual(
    [...floydSteinberg(lightness(0.4, 0.4, 0.4, 0.4), 2, 2, (i) => i !== 1, black)],
    [0, -1, 1, 0],
  );
  // The chroma channels diffuse too: a = 0.02 twice, palette a = −0.1 / +0.1. The first goes to
  // +0.1 (error −0.08); the second becomes 0.02 − 0.035 = −0.015 and goes to −0.1.
  const chroma = Float64Array.from([0.5, -0.1, 0, 0.5, 0.1, 0]);
  deepStrictEqual([
    ...floydSteinberg(Float64Array.from([0.5, 0.02, 0, 0.5, 0.02, 0]), 2, 1, all, chroma),
  ], [1, 0]);
  // Each weight on its own. Right (7/16): 0.33 + 0.4·7/16 = 0.505 → 1 (5/16 would give 0.455).
  deepStrictEqual([...floydSteinberg(lightness(0.4, 0.33), 2, 1, all, black)], [0, 1]);
  // Down (5/16): 0.36 → 0.485 → 0 and 0.38 → 0.505 → 1 (7/16 or 3/16 would decide both alike).
  deepStrictEqual([...floydSteinberg(lightness(0.4, 0.36), 1, 2, all, black)], [0, 0]);
  deepStrictEqual([...floydSteinberg(lightness(0.4, 0.38), 1, 2, all, black)], [0, 1]);
  // Down-left (3/16): (1,0) = 0.4 → 0 sends 0.075 to (0,1): 0.43 → 0.505 → 1 (1/16: 0.455 → 0).
  deepStrictEqual(
    [...floydSteinberg(lightness(0, 0.4, 0.43, 0), 2, 2, all, black)],
    [0, 0, 1, 0],
  );
  // Through quantize: a flat image of palette colours has no error to spread.
  deepStrictEqual(whiteMask(quantize(grey(255, 3, 3), BW, "floyd")).flat(), Array(9).fill(1));
});
