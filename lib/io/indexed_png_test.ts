import { deepStrictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import type { RgbaImage } from "./image.ts";
import { crc32, encodeIndexedPng } from "./indexed_png.ts";
import { hasPil, runPythonJson } from "./pil_testing.ts";
import { decodePng } from "./png.ts";

const PALETTE: [number, number, number][] = [[20, 12, 28], [208, 70, 72], [222, 238, 214]];

/** 5×3 sprite: palette colours and transparent pixels, every palette entry used but the last. */
function sprite(): RgbaImage {
  const T = [0, 0, 0, 0];
  const [K, R] = PALETTE.map((c) => [...c, 255]);
  const pixels = [T, K, K, K, T, K, R, R, K, T, T, K, R, K, T];
  return { width: 5, height: 3, data: Uint8Array.from(pixels.flat()) };
}

interface PilView {
  mode: string;
  palette: number[][];
  transparency: number | null;
  indices: number[];
  rgba: number[][];
}

/** PIL's view of a PNG: mode, palette entries, tRNS, index per pixel, RGBA per pixel. */
async function readWithPil(path: string) {
  const script = `
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
im.load()
pal = im.getpalette()
print(json.dumps({
  "mode": im.mode,
  "palette": [pal[i:i + 3] for i in range(0, len(pal), 3)],
  "transparency": im.info.get("transparency"),
  "indices": list(im.getdata()),
  "rgba": [list(p) for p in im.convert("RGBA").getdata()],
}))`;
  return await runPythonJson<PilView>(script, [path]);
}

Deno.test("indexed png: CRC-32 check values", () => {
  const ascii = (s: string) => new TextEncoder().encode(s);
  deepStrictEqual(crc32(ascii("123456789")), 0xcbf43926); // the standard check value
  deepStrictEqual(crc32(ascii("IEND")), 0xae426082); // the CRC every PNG ends with
});

Deno.test("indexed png: imagescript reads back the same pixels; chunks as specified", async () => {
  const img = sprite();
  const png = encodeIndexedPng(img, PALETTE);
  deepStrictEqual(await decodePng(png, "sprite.png"), img);
  // IHDR: 5×3, 8-bit indexed; PLTE = transparent entry + palette; tRNS marks entry 0 only.
  const view = new DataView(png.buffer);
  const chunks: [string, number[]][] = [];
  for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) {
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    chunks.push([type, [...png.subarray(at + 8, at + 8 + view.getUint32(at))]]);
  }
  deepStrictEqual(chunks.map(([type]) => type), ["IHDR", "PLTE", "tRNS", "IDAT", "IEND"]);
  deepStrictEqual(chunks[0][1], [0, 0, 0, 5, 0, 0, 0, 3, 8, 3, 0, 0, 0]);
  deepStrictEqual(chunks[1][1], [0, 0, 0, ...PALETTE.flat()]);
  deepStrictEqual(chunks[2][1], [0]);
  // A fully opaque sprite still gets the transparent entry, so every file of one palette has
  // the same indices.
  const opaque: RgbaImage = { width: 1, height: 1, data: Uint8Array.of(208, 70, 72, 255) };
  deepStrictEqual(await decodePng(encodeIndexedPng(opaque, PALETTE), "o.png"), opaque);
});

Deno.test({
  name: "indexed png: Python's PIL reads the same palette, indices and transparency",
  ignore: !hasPil,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "indexed-png-" });
    try {
      const img = sprite();
      const path = join(dir, "sprite.png");
      await Deno.writeFile(path, encodeIndexedPng(img, PALETTE));
      const pil = await readWithPil(path);
      deepStrictEqual(pil.mode, "P");
      deepStrictEqual(pil.palette.slice(0, 4), [[0, 0, 0], ...PALETTE]);
      deepStrictEqual(pil.transparency, 0);
      deepStrictEqual(pil.indices, [0, 1, 1, 1, 0, 1, 2, 2, 1, 0, 0, 1, 2, 1, 0]);
      deepStrictEqual(pil.rgba.flat(), [...img.data]);

      // 256 colours and transparency: only the colours used are written, after the clear entry.
      const full = Array.from(
        { length: 256 },
        (_, i) => [i, 255 - i, 7] as [number, number, number],
      );
      const wide: RgbaImage = {
        width: 3,
        height: 1,
        data: Uint8Array.from([...full[200], 255, 0, 0, 0, 0, ...full[3], 255]),
      };
      await Deno.writeFile(path, encodeIndexedPng(wide, full));
      const pil2 = await readWithPil(path);
      deepStrictEqual(pil2.palette.slice(0, 3), [[0, 0, 0], full[3], full[200]]);
      deepStrictEqual(pil2.indices, [2, 0, 1]);
      deepStrictEqual(pil2.rgba.flat(), [...wide.data]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("indexed png: colours outside the palette and soft alpha are refused", () => {
  const stray: RgbaImage = { width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 0, 1, 2, 3, 255) };
  throws(() => encodeIndexedPng(stray, PALETTE), {
    message: "pixel (1, 0) #010203 is not in the palette",
  });
  const soft: RgbaImage = { width: 1, height: 1, data: Uint8Array.of(20, 12, 28, 100) };
  throws(() => encodeIndexedPng(soft, PALETTE), {
    message: "pixel 0 has alpha 100; snap alpha first",
  });
});
