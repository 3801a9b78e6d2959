import { deepStrictEqual, ok } from "node:assert/strict";
import { DEFAULT_DATASET, loadDataset, type SpriteDataset } from "./dataset.ts";
import { hasPil, runPythonJson } from "../io/pil_testing.ts";
import { datasetPalette } from "./palette.ts";
import { hexOf } from "../palette/palette.ts";

/** A dataset of one 2×2 sprite per entry of `pixels` (RGBA bytes, four pixels each). */
function tiny(channels: 3 | 4, pixels: number[][][]): SpriteDataset {
  const plane = 4;
  const images = new Float32Array(pixels.length * channels * plane);
  pixels.forEach((sprite, n) =>
    sprite.forEach((px, p) => {
      for (let c = 0; c < channels; c++) {
        images[(n * channels + c) * plane + p] = px[c] / 127.5 - 1;
      }
    })
  );
  return {
    images,
    labels: new Int32Array(pixels.length),
    count: pixels.length,
    channels,
    size: 2,
    classNames: ["x"],
    source: "tiny",
  };
}

Deno.test("dataset palette: distinct opaque colours, dark to light; none beyond 256", () => {
  const sprites = [
    [[255, 255, 255, 255], [200, 0, 0, 255], [9, 9, 9, 0], [200, 0, 0, 255]],
    [[0, 0, 255, 255], [255, 255, 255, 128], [1, 2, 3, 127], [0, 0, 0, 0]],
  ];
  deepStrictEqual(datasetPalette(tiny(4, sprites))?.colors.map(hexOf), [
    "0000ff",
    "c80000",
    "ffffff",
  ]);
  // Three channels: every pixel is a colour (the loader composited transparency over black).
  deepStrictEqual(datasetPalette(tiny(3, sprites))?.colors.map(hexOf), [
    "000000",
    "010203",
    "090909",
    "0000ff",
    "c80000",
    "ffffff",
  ]);
  const many = Array.from(
    { length: 65 },
    (_, n) => Array.from({ length: 4 }, (_, p) => [n, p, 7, 255]),
  );
  deepStrictEqual(datasetPalette(tiny(4, many.slice(0, 64)))?.colors.length, 256);
  deepStrictEqual(datasetPalette(tiny(4, many)), undefined);
});

Deno.test({
  name: "dataset palette: the default dataset's 245 colours, as PIL counts them in the atlas",
  ignore: !hasPil,
  async fn() {
    const palette = datasetPalette(await loadDataset(DEFAULT_DATASET));
    ok(palette);
    const script = `
import json, sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGBA")
print(json.dumps(sorted({"%02x%02x%02x" % p[:3] for p in im.getdata() if p[3] >= 128})))`;
    const pil = await runPythonJson<string[]>(script, [`${DEFAULT_DATASET}/atlas.png`]);
    deepStrictEqual(pil.length, 245);
    deepStrictEqual(palette.colors.map(hexOf).sort(), pil);
  },
});
