import { deepStrictEqual, notDeepStrictEqual } from "node:assert/strict";
import type { RgbaImage } from "../io/image.ts";
import { mulberry32 } from "../util/rng.ts";
import { kmeansPalette } from "./kmeans.ts";
import { oklabFromRgb, rgbFromOklab } from "./oklab.ts";

/** A 1-row image of `pixels` (RGB, opaque) plus `clear` transparent pixels of a loud colour. */
function row(pixels: number[][], clear = 0): RgbaImage {
  const all = [...pixels.map((p) => [...p, 255]), ...Array(clear).fill([255, 0, 255, 0])];
  return { width: all.length, height: 1, data: Uint8Array.from(all.flat()) };
}

Deno.test("kmeans: at most K distinct colours are kept as they are, dark to light", () => {
  const img = row([[255, 255, 255], [0, 0, 0], [200, 30, 30], [0, 0, 0]], 3);
  deepStrictEqual(kmeansPalette([img], 3, 1).colors, [[0, 0, 0], [200, 30, 30], [255, 255, 255]]);
  deepStrictEqual(kmeansPalette([row([], 4)], 3, 1).colors, []); // transparent only
});

Deno.test("kmeans: two clear groups give their weighted OKLab means, whatever the seed", () => {
  // Reds: (200,0,0) ×5 and (210,0,0) ×1; blues: (0,0,200) ×2 and (0,0,190) ×2.
  const reds = [...Array(5).fill([200, 0, 0]), [210, 0, 0]];
  const blues = [[0, 0, 200], [0, 0, 200], [0, 0, 190], [0, 0, 190]];
  const img = row([...blues.slice(0, 2), ...reds, ...blues.slice(2)]);
  const mean = (colors: number[][]) => {
    const labs = colors.map(([r, g, b]) => oklabFromRgb(r, g, b));
    const m = [0, 1, 2].map((d) => labs.reduce((s, l) => s + l[d], 0) / labs.length);
    return [...rgbFromOklab(m[0], m[1], m[2])];
  };
  const want = [mean(blues), mean(reds)]; // blue is darker (L 0.44 against 0.58)
  for (const seed of [0, 1, 2, 3, 42]) deepStrictEqual(kmeansPalette([img], 2, seed).colors, want);
});

Deno.test("kmeans: deterministic for a seed; pooled over a batch", () => {
  const random = mulberry32(7);
  const noisy = (n: number) =>
    row(Array.from({ length: n }, () => [0, 1, 2].map(() => Math.floor(random() * 256))));
  const a = noisy(256);
  const b = noisy(256);
  const first = kmeansPalette([a], 8, 5);
  deepStrictEqual(first.colors.length, 8);
  deepStrictEqual(kmeansPalette([a], 8, 5), first);
  // A batch palette is fitted to all sprites' pixels at once: the same as one joined image.
  const joined: RgbaImage = {
    width: 512,
    height: 1,
    data: Uint8Array.from([...a.data, ...b.data]),
  };
  deepStrictEqual(kmeansPalette([a, b], 8, 5), kmeansPalette([joined], 8, 5));
  notDeepStrictEqual(kmeansPalette([a, b], 8, 5), first);
});
