import { deepStrictEqual, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { RgbaImage } from "../io/image.ts";
import { decodePng, encodePng } from "../io/png.ts";
import { ASSUMED_CELL, type Display } from "./detect.ts";
import { gridLayout, placePicture, renderedText, renderGrid, tmuxPassthrough } from "./render.ts";

const image = (width: number, height: number, pixels: number[][]): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from(pixels.flat()),
});

/** red green / blue transparent. */
const known = image(2, 2, [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [0, 0, 0, 0]]);
/** The same over the checkerboard: one 2×2 light square (#999999 = 153) under all of it. */
const knownOnChecker = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 153, 153, 153, 255];

const display = (protocol: Display["protocol"], extra: Partial<Display> = {}): Display => ({
  protocol,
  color: "truecolor",
  columns: 80,
  rows: 24,
  cell: { ...ASSUMED_CELL },
  registers: 256,
  tmux: false,
  ...extra,
});

/** Base64 by node's Buffer, not the encoders' own. */
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/** The base64 payload of a kitty escape or an iTerm2 one, decoded as a PNG. */
async function payloadImage(escape: string, from: string, to: string): Promise<RgbaImage> {
  const start = escape.indexOf(from) + from.length;
  const base64 = escape.slice(start, escape.indexOf(to, start));
  return await decodePng(new Uint8Array(Buffer.from(base64, "base64")), "payload");
}

Deno.test("kitty: a known 2×2 image at scale 1, exact bytes, the PNG holds its pixels", async () => {
  const r = await renderGrid([known], display("kitty"), { scale: 1, imageId: 9 });
  const png = await encodePng(image(2, 2, [knownOnChecker]));
  deepStrictEqual(
    r.picture,
    { escape: `\x1b_Ga=T,f=100,q=2,C=1,i=9,m=0;${base64(png)}\x1b\\`, rows: 1 }, // 2 px, 20-px cells
  );
  const shown = await payloadImage(r.picture.escape, ";", "\x1b\\");
  deepStrictEqual([shown.width, shown.height, [...shown.data]], [2, 2, knownOnChecker]);
  deepStrictEqual(r.lines, []);
});

Deno.test("iTerm2: a known 2×2 image at scale 1, exact bytes", async () => {
  const r = await renderGrid([known], display("iterm"), { scale: 1 });
  const png = await encodePng(image(2, 2, [knownOnChecker]));
  deepStrictEqual(r.picture, {
    escape: `\x1b]1337;File=inline=1;size=${png.length};width=2px;height=2px;` +
      `preserveAspectRatio=1:${base64(png)}\x07`,
    rows: 1,
  });
  const shown = await payloadImage(r.picture.escape, ":", "\x07");
  deepStrictEqual([shown.width, shown.height, [...shown.data]], [2, 2, knownOnChecker]);
});

Deno.test("sixel: a known 2×2 image upscaled NEAREST ×2, exact bytes", async () => {
  const r = await renderGrid([known], display("sixel"), { scale: 2 });
  // 4×4: rows 0–1 red red green green, rows 2–3 blue blue grey grey; one band.
  // Red: bits 0+1 = 3 → 'B' in columns 0–1; green the same in 2–3; blue bits 2+3 = 12 → 'K'.
  deepStrictEqual(
    r.picture?.escape,
    '\x1bP0;1q"1;1;4;4#0;2;100;0;0#1;2;0;100;0#2;2;0;0;100#3;2;60;60;60' +
      "#0BB$#1??BB$#2KK$#3??KK\x1b\\",
  );
});

Deno.test("half-blocks: a known 2×2 image, exact bytes", async () => {
  const r = await renderGrid([known], display("blocks"), { scale: 1 });
  deepStrictEqual(r.picture, undefined);
  deepStrictEqual(r.lines, [
    "\x1b[38;2;255;0;0;48;2;0;0;255m▀\x1b[38;2;0;255;0;48;2;153;153;153m▀\x1b[0m",
  ]);
});

Deno.test("tmux: kitty and iTerm2 go through passthrough with ESC doubled; sixel as is", async () => {
  const inTmux = { tmux: true };
  const kitty = await renderGrid([known], display("kitty", inTmux), { scale: 1, imageId: 9 });
  const bare = await renderGrid([known], display("kitty"), { scale: 1, imageId: 9 });
  deepStrictEqual(kitty.picture?.escape, tmuxPassthrough(bare.picture!.escape));
  ok(kitty.picture?.escape.startsWith("\x1bPtmux;\x1b\x1b_Ga=T"));
  deepStrictEqual(tmuxPassthrough("\x1b_Gx\x1b\\"), "\x1bPtmux;\x1b\x1b_Gx\x1b\x1b\\\x1b\\");
  const sixel = await renderGrid([known], display("sixel", inTmux), { scale: 1 });
  ok(sixel.picture?.escape.startsWith("\x1bP0;1q"));
});

Deno.test("a picture is placed from its saved corner and leaves the cursor below it", () => {
  deepStrictEqual(
    placePicture({ escape: "<pic>", rows: 3 }),
    "\n\n\n\x1b[3A\x1b7<pic>\x1b8\n\n\n",
  );
  deepStrictEqual(
    renderedText({ picture: { escape: "<pic>", rows: 1 }, lines: ["note"], layout: {} as never }),
    "\n\x1b[1A\x1b7<pic>\x1b8\nnote",
  );
});

const sprite = { width: 16, height: 16 };

Deno.test("grid layout: wraps rows to the terminal, shrinks the default scale to show all", () => {
  // Half-blocks at scale 1 in 80×24 (22 lines = 44 px): 16 + 1 gap → ⌊81/17⌋ = 4 per row,
  // ⌊45/17⌋ = 2 rows: the default 8 sprites all fit.
  deepStrictEqual(gridLayout(8, sprite, display("blocks")), {
    scale: 1,
    subsample: 1,
    perRow: 4,
    rows: 2,
    shown: 8,
  });
  // Pictures with 10×20 cells: 800×440 px. The default scale makes a sprite 8 lines (160 px)
  // tall, 10; 8 sprites at 10 need ⌊(800+10)/170⌋ = 4 per row, ⌊450/170⌋ = 2 rows: all fit.
  deepStrictEqual(gridLayout(8, sprite, display("sixel")).scale, 10);
  deepStrictEqual(gridLayout(8, sprite, display("sixel")).shown, 8);
  // 32 sprites: scale 10 shows 8, … scale 5 shows ⌊805/85⌋ = 9 × ⌊445/85⌋ = 5 = 45 ≥ 32.
  const many = gridLayout(32, sprite, display("sixel"));
  deepStrictEqual([many.scale, many.perRow, many.rows, many.shown], [5, 9, 4, 32]);
  // A scale given is kept: 32 at scale 10 show 4 × 2, the rest counted.
  const kept = gridLayout(32, sprite, display("sixel"), { scale: 10 });
  deepStrictEqual([kept.scale, kept.shown], [10, 8]);
  // One class per row.
  deepStrictEqual(gridLayout(8, sprite, display("blocks"), { perRow: 1, lines: 100 }).rows, 8);
});

Deno.test("sprites that do not fit are counted in a line below the grid", async () => {
  const tiles = new Array(11).fill(known);
  const r = await renderGrid(tiles, display("blocks", { columns: 5, rows: 4 }), { scale: 1 });
  // 5 columns: ⌊6/3⌋ = 2 per row; 2 lines = 4 px: ⌊5/3⌋ = 1 row. 2 shown, 9 not.
  deepStrictEqual(r.layout.shown, 2);
  deepStrictEqual(r.lines.at(-1), "… 9 of 11 not shown: the terminal is too small for them");
  const quiet = await renderGrid(tiles, display("blocks", { columns: 5, rows: 4 }), {
    scale: 1,
    note: false,
  });
  deepStrictEqual(quiet.lines.length, 1);
});

Deno.test("a picture bigger than the terminal is shown subsampled", () => {
  // 1054 px wide in 80 columns of half-blocks: every 14th pixel.
  const big = gridLayout(1, { width: 1054, height: 526 }, display("blocks"), { lines: 1000 });
  deepStrictEqual([big.subsample, big.scale], [14, 1]);
  // Half-blocks that scroll are held to the width only: 8 rows of 16 in 80×24.
  const logged = gridLayout(32, sprite, display("blocks"), { perRow: 4, scrolls: true });
  deepStrictEqual([logged.scale, logged.rows, logged.shown], [1, 8, 32]);
  deepStrictEqual(gridLayout(32, sprite, display("blocks"), { perRow: 4 }).rows, 2);
  // Pictures are held to the height even then: 8 rows at scale 10 would be 1350 px.
  const picture = gridLayout(32, sprite, display("kitty"), { perRow: 4, scrolls: true });
  deepStrictEqual([picture.shown, picture.scale], [32, 3]); // ⌊(440+3)/51⌋ = 8 rows at 3
  // A 16×16 sprite in 10×20 cells: no subsampling, the default scale.
  deepStrictEqual(gridLayout(1, sprite, display("kitty")).subsample, 1);
});

Deno.test("none draws nothing", async () => {
  const r = await renderGrid([known], display("none"));
  deepStrictEqual([r.picture, r.lines], [undefined, []]);
});

Deno.test("kitty: a larger picture goes in 4096-byte chunks that reassemble to its pixels", async () => {
  // 64×64 of noise does not compress: its PNG is over 12 KB, four chunks or more.
  let seed = 1;
  const noise = Array.from({ length: 64 * 64 }, () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return [seed & 255, (seed >> 8) & 255, (seed >> 16) & 255, 255];
  });
  const r = await renderGrid([image(64, 64, noise)], display("kitty"), { scale: 1, imageId: 3 });
  const parts = r.picture!.escape.split("\x1b\\").slice(0, -1);
  ok(parts.length >= 4, `${parts.length} chunks`);
  const payloads = parts.map((p, i) => {
    const [keys, payload] = p.slice(3).split(";");
    const m = i === parts.length - 1 ? "m=0" : "m=1";
    deepStrictEqual(keys, i === 0 ? `a=T,f=100,q=2,C=1,i=3,${m}` : `${m},q=2`);
    ok(payload.length === 4096 || (i === parts.length - 1 && payload.length < 4096));
    return payload;
  });
  const png = await decodePng(new Uint8Array(Buffer.from(payloads.join(""), "base64")), "chunks");
  deepStrictEqual(png.data, Uint8Array.from(noise.flat()));
});
