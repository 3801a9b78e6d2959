/**
 * The data loaders read every PNG colour type sprites come in: indexed (1–8 bits, with and
 * without tRNS), grey (1–16 bits, with alpha or a tRNS colour key) and RGB with a colour key.
 * The files are written by Python's PIL (an independent encoder) and by our indexed writer;
 * the expected pixels are PIL's own RGBA reading of each file.
 */

import { deepStrictEqual } from "node:assert/strict";
import { join } from "node:path";
import { encodeIndexedPng } from "../io/indexed_png.ts";
import { hasPil, runPythonJson } from "../io/pil_testing.ts";
import { loadDataset } from "./dataset.ts";

// Writes one 4×4 PNG per kind into argv[1] and prints {name: RGBA bytes} as PIL reads them back.
const WRITE_PNGS = `
import json, os, random, sys
from PIL import Image
random.seed(3)
out = sys.argv[1]
v = [random.randrange(256) for _ in range(16)]
def save(name, im, **kw):
    im.save(os.path.join(out, name + ".png"), **kw)
def grey(mode, values):
    im = Image.new(mode, (4, 4)); im.putdata(values); return im
save("grey8", grey("L", v))
save("grey-alpha", grey("LA", [(x, 255 if x > 90 else 0) for x in v]))
save("grey1", grey("1", [255 if x > 128 else 0 for x in v]))
save("grey-key", grey("L", v), transparency=v[5])
save("grey16", grey("I;16", [x * 257 for x in v]))
rgb = Image.new("RGB", (4, 4)); rgb.putdata([(x, 255 - x, x // 2) for x in v])
save("rgb-key", rgb, transparency=(v[2], 255 - v[2], v[2] // 2))
pal = Image.new("P", (4, 4)); pal.putpalette([9, 9, 9, 250, 20, 30, 20, 200, 90, 40, 50, 220])
pal.putdata([x % 4 for x in v])
save("indexed2", pal, bits=2, transparency=0)
save("indexed8-alpha", pal, transparency=bytes([0, 255, 255, 255]))
save("indexed4-opaque", pal, bits=4)
result = {}
for name in sorted(os.listdir(out)):
    im = Image.open(os.path.join(out, name))
    if im.mode == "I":  # PIL clips 16-bit grey when converting; take the high byte as PNG viewers do
        px = [(p >> 8,) * 3 + (255,) for p in im.getdata()]
    else:
        px = list(im.convert("RGBA").getdata())
    result[name] = [c for p in px for c in p]
print(json.dumps(result))
`;

/** RGBA bytes with the colour of fully transparent pixels zeroed (it is invisible). */
const visible = (rgba: number[]) => rgba.map((v, i) => (rgba[i - (i % 4) + 3] === 0 ? 0 : v));

Deno.test({
  name: "data: indexed, grey and colour-keyed PNGs load with the pixels PIL reads",
  ignore: !hasPil,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "png-kinds-" });
    try {
      const sprites = join(dir, "sprites");
      await Deno.mkdir(sprites);
      const expected = await runPythonJson<Record<string, number[]>>(WRITE_PNGS, [sprites]);
      // One written here too: our indexed writer, read back by the loaders.
      const [clear, red, green] = [[0, 0, 0, 0], [250, 20, 30, 255], [20, 200, 90, 255]];
      const ours = Array.from({ length: 16 }, (_, i) => [clear, red, green][i % 3]).flat();
      await Deno.writeFile(
        join(sprites, "ours-indexed.png"),
        encodeIndexedPng({ width: 4, height: 4, data: Uint8Array.from(ours) }, [
          [250, 20, 30],
          [20, 200, 90],
        ]),
      );
      expected["ours-indexed.png"] = ours;

      // A class-folder dataset with one class; files load in name order.
      const names = Object.keys(expected).sort();
      deepStrictEqual(names.length, 10);
      const ds = await loadDataset(dir, { channels: 4 });
      deepStrictEqual([ds.count, ds.size], [10, 16]);
      // 4×4 sprites are NEAREST-scaled ×4 to 16×16: read every fourth pixel back.
      names.forEach((name, index) => {
        const bytes: number[] = [];
        for (let y = 0; y < 16; y += 4) {
          for (let x = 0; x < 16; x += 4) {
            for (let c = 0; c < 4; c++) {
              const v = ds.images[((index * 4 + c) * 16 + y) * 16 + x];
              bytes.push(Math.round((v + 1) * 127.5));
            }
          }
        }
        deepStrictEqual(visible(bytes), visible(expected[name]), name);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
