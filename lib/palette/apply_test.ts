import { deepStrictEqual, notDeepStrictEqual, strictEqual } from "node:assert/strict";
import { mulberry32 } from "../util/rng.ts";
import type { RgbaImage } from "../io/image.ts";
import { asText, draw as drawWith } from "./testing.ts";
import { applyPalette } from "./apply.ts";
import { kmeansPalette } from "./kmeans.ts";
import { makePalette } from "./palette.ts";

const KEY: Record<string, number[]> = {
  ".": [0, 0, 0, 0],
  K: [20, 12, 28, 255], // the palette's darkest
  R: [208, 70, 72, 255],
  W: [222, 238, 214, 255],
  r: [200, 60, 80, 255], // near R
  w: [250, 250, 250, 255], // near W
};
const PALETTE = makePalette("p", [[208, 70, 72], [20, 12, 28], [222, 238, 214]]);

const draw = (rows: string[]) => drawWith(rows, KEY);
const text = (img: RgbaImage) => asText(img, KEY);

Deno.test("applyPalette: map, then despeckle, then outline (auto = darkest palette colour)", () => {
  const sprite = [
    "........",
    ".rrrr...",
    ".rrwr...", // w is an orphan once mapped to W
    ".rrrr...",
    "........",
    "......w.", // a stray dot: despeckled away before the outline, so it gets no ring
    "........",
    "........",
  ];
  const { images, palettes } = applyPalette([draw(sprite)], {
    palette: { fixed: PALETTE },
    despeckle: true,
    outline: "auto",
  });
  deepStrictEqual(palettes, [PALETTE]);
  deepStrictEqual(text(images[0]), [
    ".KKKK...",
    "KRRRRK..",
    "KRRRRK..",
    "KRRRRK..",
    ".KKKK...",
    "........",
    "........",
    "........",
  ]);
  // An outline colour outside the palette becomes the nearest palette colour.
  const white = applyPalette([draw(["r."])], {
    palette: { fixed: PALETTE },
    outline: [255, 255, 255],
  });
  deepStrictEqual(text(white.images[0]), ["RW"]);
  // Without a palette colours are kept; auto outline is the sprite's darkest colour.
  deepStrictEqual(text(applyPalette([draw(["wr."])], { outline: "auto" }).images[0]), ["wrr"]);
});

Deno.test("applyPalette: auto:K per sprite (seed + i) or one palette for the batch", () => {
  // Noisy 16×16 sprites: many colours, so k-means++ seeding matters.
  const random = mulberry32(11);
  const noisy = (): RgbaImage => ({
    width: 16,
    height: 16,
    data: Uint8Array.from({ length: 1024 }, (_, i) => (i % 4 === 3 ? 255 : random() * 256)),
  });
  const [a, b] = [noisy(), noisy()];
  notDeepStrictEqual(kmeansPalette([b], 4, 9), kmeansPalette([b], 4, 10)); // seeds matter here
  const perSprite = applyPalette([a, b], { palette: { auto: 4 }, seed: 9 });
  deepStrictEqual(perSprite.palettes, [kmeansPalette([a], 4, 9), kmeansPalette([b], 4, 10)]);
  const batch = applyPalette([a, b], { palette: { auto: 4 }, scope: "batch", seed: 9 });
  strictEqual(batch.palettes[0], batch.palettes[1]);
  deepStrictEqual(batch.palettes[0], kmeansPalette([a, b], 4, 9));
  // Every opaque pixel is a colour of its sprite's palette.
  for (const result of [perSprite, batch]) {
    for (const [i, img] of result.images.entries()) {
      const allowed = new Set(result.palettes[i]!.colors.map((c) => c.join()));
      for (let p = 0; p < img.data.length; p += 4) {
        strictEqual(allowed.has([...img.data.slice(p, p + 3)].join()), true);
      }
    }
  }
});
