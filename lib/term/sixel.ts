/**
 * Sixel (DEC VT340) images: `ESC P 0;1 q`, raster attributes `"1;1;W;H` (square pixels),
 * colour registers `#i;2;r;g;b` (percent), then bands of six pixel rows. In a band each
 * colour paints one line of data bytes (0x3F + six bits, the top row in the lowest bit),
 * runs of four or more equal bytes as `!n<byte>`; `$` returns to the band's start for the
 * next colour, `-` moves to the next band; `ESC \` ends the image.
 *
 * The registers are the image's own colours (as percent triples, in order of first
 * appearance), so a palette-limited sprite maps onto them exactly; an image with more
 * colours than the terminal has registers is reduced by median cut. Pixels with alpha 0
 * are left unpainted (P2 = 1 keeps the background there); any other alpha counts as opaque.
 */

import type { RgbaImage } from "../io/image.ts";

/** xterm and most sixel terminals offer at least 256 registers; the VT340 had 16. */
export const DEFAULT_REGISTERS = 256;

/** 0–255 → the percent a colour register takes. */
const percent = (v: number) => Math.round((v * 100) / 255);

/** A palette of percent triples and each pixel's register (−1 = transparent). */
interface Registers {
  colors: [number, number, number][];
  index: Int32Array;
}

/**
 * The image's colours as registers: every distinct percent triple in order of first
 * appearance when they fit in `limit`, else `limit` median-cut boxes.
 */
export function sixelRegisters(img: RgbaImage, limit = DEFAULT_REGISTERS): Registers {
  const pixels = img.width * img.height;
  const keyOf = new Int32Array(pixels).fill(-1);
  const order = new Map<number, number>(); // key → first-appearance rank
  const counts: number[] = [];
  for (let p = 0; p < pixels; p++) {
    const i = p * 4;
    if (img.data[i + 3] === 0) continue;
    const key = (percent(img.data[i]) << 16) | (percent(img.data[i + 1]) << 8) |
      percent(img.data[i + 2]);
    keyOf[p] = key;
    const rank = order.get(key);
    if (rank === undefined) {
      order.set(key, counts.length);
      counts.push(1);
    } else counts[rank]++;
  }
  const keys = [...order.keys()];
  const triple = (key: number): [number, number, number] => [
    key >> 16,
    (key >> 8) & 0xff,
    key & 0xff,
  ];
  let colors = keys.map(triple);
  let registerOfRank = keys.map((_, rank) => rank);
  if (keys.length > limit) {
    ({ colors, registerOfRank } = medianCut(colors, counts, limit));
  }
  const index = new Int32Array(pixels);
  for (let p = 0; p < pixels; p++) {
    index[p] = keyOf[p] < 0 ? -1 : registerOfRank[order.get(keyOf[p])!];
  }
  return { colors, index };
}

/**
 * Median cut: split the box with the widest channel range at its count-weighted median
 * until there are `limit` boxes; each box's register is its count-weighted mean colour.
 */
function medianCut(
  colors: [number, number, number][],
  counts: number[],
  limit: number,
): { colors: [number, number, number][]; registerOfRank: number[] } {
  /** A box with its widest channel and that channel's range, computed once. */
  const boxOf = (items: number[]) => {
    let channel = 0;
    let widest = 0;
    for (let c = 0; c < 3; c++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const i of items) {
        lo = Math.min(lo, colors[i][c]);
        hi = Math.max(hi, colors[i][c]);
      }
      if (hi - lo > widest) [channel, widest] = [c, hi - lo];
    }
    return { items, channel, widest };
  };
  const boxes = [boxOf(colors.map((_, i) => i))];
  while (boxes.length < limit) {
    const best = boxes.reduce((b, box, i) => box.widest > boxes[b].widest ? i : b, 0);
    const { items, channel, widest } = boxes[best];
    if (widest === 0) break; // every box holds one colour
    items.sort((a, b) => colors[a][channel] - colors[b][channel] || a - b);
    const total = items.reduce((sum, i) => sum + counts[i], 0);
    let cut = 1;
    for (let seen = counts[items[0]]; cut < items.length - 1 && seen * 2 < total; cut++) {
      seen += counts[items[cut]];
    }
    boxes.splice(best, 1, boxOf(items.slice(0, cut)), boxOf(items.slice(cut)));
  }
  const registerOfRank = new Array<number>(colors.length);
  const means = boxes.map(({ items }, b) => {
    const sum = [0, 0, 0];
    let weight = 0;
    for (const i of items) {
      registerOfRank[i] = b;
      for (let c = 0; c < 3; c++) sum[c] += colors[i][c] * counts[i];
      weight += counts[i];
    }
    return sum.map((s) => Math.round(s / weight)) as [number, number, number];
  });
  return { colors: means, registerOfRank };
}

/** One line of data bytes with runs of four or more as `!n<byte>`. */
function runLength(bytes: number[]): string {
  let out = "";
  for (let i = 0; i < bytes.length;) {
    let j = i + 1;
    while (j < bytes.length && bytes[j] === bytes[i]) j++;
    const char = String.fromCharCode(bytes[i]);
    out += j - i >= 4 ? `!${j - i}${char}` : char.repeat(j - i);
    i = j;
  }
  return out;
}

/** The whole sixel image, from `ESC P` to `ESC \`. `registers`: how many the terminal has. */
export function encodeSixel(img: RgbaImage, registers = DEFAULT_REGISTERS): string {
  const { width, height } = img;
  const { colors, index } = sixelRegisters(img, registers);
  let out = `\x1bP0;1q"1;1;${width};${height}`;
  colors.forEach(([r, g, b], i) => out += `#${i};2;${r};${g};${b}`);
  const bands: string[] = [];
  for (let top = 0; top < height; top += 6) {
    const rows = Math.min(6, height - top);
    // Per register present in this band: its six-bit column values, left to right.
    const columns = new Map<number, number[]>();
    for (let x = 0; x < width; x++) {
      for (let dy = 0; dy < rows; dy++) {
        const reg = index[(top + dy) * width + x];
        if (reg < 0) continue;
        let line = columns.get(reg);
        if (!line) columns.set(reg, line = new Array<number>(width).fill(0));
        line[x] |= 1 << dy;
      }
    }
    const lines = [...columns.entries()].sort(([a], [b]) => a - b).map(([reg, bits]) => {
      let end = bits.length;
      while (end > 0 && bits[end - 1] === 0) end--; // trailing empty columns draw nothing
      return `#${reg}${runLength(bits.slice(0, end).map((v) => 0x3f + v))}`;
    });
    bands.push(lines.join("$"));
  }
  return out + bands.join("-") + "\x1b\\";
}
