// deno-lint-ignore-file no-control-regex -- the sixel header begins with ESC
import { deepStrictEqual, ok } from "node:assert/strict";
import type { RgbaImage } from "../io/image.ts";
import { encodeSixel, sixelRegisters } from "./sixel.ts";

/**
 * A sixel decoder written from the VT340 description, independent of the encoder: colour
 * definitions `#n;2;r;g;b` (percent), selection `#n`, data bytes 0x3F–0x7E (six pixels, the
 * top one in the lowest bit), repeats `!n`, `$` (band start) and `-` (next band). Unpainted
 * pixels stay transparent.
 */
function decodeSixel(text: string): RgbaImage {
  const head = /^\x1bP([\d;]*)q"1;1;(\d+);(\d+)/.exec(text);
  ok(head, `no DCS/raster header in ${JSON.stringify(text.slice(0, 20))}`);
  ok(text.endsWith("\x1b\\"), "no string terminator");
  deepStrictEqual(head[1], "0;1", "P2=1 (unpainted pixels keep the background)");
  const width = Number(head[2]);
  const height = Number(head[3]);
  const data = new Uint8Array(width * height * 4);
  const palette = new Map<number, number[]>();
  let color: number[] = [];
  let x = 0;
  let top = 0;
  const body = text.slice(head[0].length, -2);
  for (let i = 0; i < body.length;) {
    const c = body[i];
    if (c === "#") {
      const m = /^#(\d+)(;2;(\d+);(\d+);(\d+))?/.exec(body.slice(i));
      ok(m);
      const n = Number(m[1]);
      if (m[2]) palette.set(n, [m[3], m[4], m[5]].map((p) => Math.round(Number(p) * 2.55)));
      else color = palette.get(n)!;
      i += m[0].length;
    } else if (c === "$") {
      x = 0;
      i++;
    } else if (c === "-") {
      x = 0;
      top += 6;
      i++;
    } else {
      let repeat = 1;
      if (c === "!") {
        const m = /^!(\d+)/.exec(body.slice(i));
        ok(m);
        repeat = Number(m[1]);
        i += m[0].length;
      }
      const bits = body.charCodeAt(i++) - 0x3f;
      ok(bits >= 0 && bits < 64, `not a sixel data byte: ${JSON.stringify(body[i - 1])}`);
      for (let r = 0; r < repeat; r++, x++) {
        for (let dy = 0; dy < 6; dy++) {
          if (!(bits & (1 << dy))) continue;
          ok(x < width && top + dy < height, `pixel (${x}, ${top + dy}) outside the image`);
          data.set([...color, 255], ((top + dy) * width + x) * 4);
        }
      }
    }
  }
  return { width, height, data };
}

/** The colour a register holds for an 8-bit value: to percent and back, as the decoder does. */
const viaPercent = (v: number) => Math.round(Math.round((v * 100) / 255) * 2.55);

const image = (width: number, height: number, pixels: number[][]): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from(pixels.flat()),
});

Deno.test("sixel bytes of a known 2×2 image", () => {
  // red green / blue transparent: one band; per colour its line of columns, trailing '?' cut.
  const img = image(2, 2, [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [0, 0, 0, 0]]);
  deepStrictEqual(
    encodeSixel(img),
    '\x1bP0;1q"1;1;2;2' +
      "#0;2;100;0;0#1;2;0;100;0#2;2;0;0;100" +
      "#0@$#1?@$#2A" + // red: row 0 of column 0 (bit 1); green: column 1; blue: row 1 (bit 2)
      "\x1b\\",
  );
});

Deno.test("runs of four or more repeat with !n; bands of six rows, the last one partial", () => {
  // 7 wide × 7 tall, one colour: band 0 is six full rows, band 1 one row.
  const gray = [128, 128, 128, 255];
  const img = image(7, 7, new Array(49).fill(gray));
  // 0x3F + 63 = '~' (six rows), 0x3F + 1 = '@' (one row); 128 → 50 %.
  deepStrictEqual(encodeSixel(img), '\x1bP0;1q"1;1;7;7#0;2;50;50;50#0!7~-#0!7@\x1b\\');
  // A run of three stays literal: "!3x" saves nothing.
  const three = image(3, 1, new Array(3).fill(gray));
  deepStrictEqual(encodeSixel(three), '\x1bP0;1q"1;1;3;1#0;2;50;50;50#0@@@\x1b\\');
});

Deno.test("sixel output decodes back to the image (colours to percent and back)", () => {
  // 13×20: four bands (the last of two rows), transparency, runs, and a 16-colour palette.
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const palette = Array.from(
    { length: 16 },
    (_, i) => [i * 17, 255 - i * 13, (i * 71) % 256, 255],
  );
  const pixels = Array.from({ length: 13 * 20 }, (_, p) => {
    if (p % 13 < 5 && Math.floor(p / 13) < 9) return palette[3]; // a block: long runs
    return random() < 0.2 ? [0, 0, 0, 0] : palette[Math.floor(random() * 16)];
  });
  const img = image(13, 20, pixels);
  const decoded = decodeSixel(encodeSixel(img));
  deepStrictEqual([decoded.width, decoded.height], [13, 20]);
  const expected = Uint8Array.from(
    pixels.flatMap(([r, g, b, a]) =>
      a === 0 ? [0, 0, 0, 0] : [viaPercent(r), viaPercent(g), viaPercent(b), 255]
    ),
  );
  deepStrictEqual(decoded.data, expected);
});

Deno.test("more colours than registers: median cut, each pixel gets its box's weighted mean", () => {
  // Percents (0,0,0) ×3, (5,0,0) ×1, (95,100,100) ×1, (100,100,100) ×3. Two registers: the
  // widest channel (red, range 100; ties go to the first) splits where the count passes
  // half (4 of 8): {0, 5} and {95, 100}. Count-weighted means: red (0·3 + 5)/4 = 1.25 → 1
  // and (95 + 100·3)/4 = 98.75 → 99 (unweighted they would be 3 and 98).
  const black = [0, 0, 0, 255];
  const white = [255, 255, 255, 255];
  const img = image(8, 1, [
    black,
    black,
    black,
    [13, 0, 0, 255],
    [242, 255, 255, 255],
    white,
    white,
    white,
  ]);
  const { colors, index } = sixelRegisters(img, 2);
  deepStrictEqual(colors, [[1, 0, 0], [99, 100, 100]]);
  deepStrictEqual([...index], [0, 0, 0, 0, 1, 1, 1, 1]);
  const decoded = decodeSixel(encodeSixel(img, 2));
  const dark = [Math.round(2.55), 0, 0, 255];
  const light = [Math.round(99 * 2.55), 255, 255, 255];
  deepStrictEqual([...decoded.data], [dark, dark, dark, dark, light, light, light, light].flat());
});

Deno.test("a sprite's own colours become the registers, in order of first appearance", () => {
  const a = [10, 20, 30, 255];
  const b = [200, 100, 0, 255];
  const img = image(3, 1, [b, a, b]);
  const { colors, index } = sixelRegisters(img);
  deepStrictEqual(colors, [[78, 39, 0], [4, 8, 12]]);
  deepStrictEqual([...index], [0, 1, 0]);
});
