import { deepStrictEqual } from "node:assert/strict";
import type { RgbaImage } from "../io/image.ts";
import { asText, draw as drawWith } from "./testing.ts";
import { despeckle, outline } from "./cleanup.ts";

/** Pixel art as text: one character per pixel, `.` transparent, letters from `KEY`. */
const KEY: Record<string, number[]> = {
  ".": [0, 0, 0, 0],
  A: [34, 32, 52, 255],
  B: [217, 87, 99, 255],
  C: [95, 205, 228, 255],
  O: [20, 12, 28, 255],
};

const draw = (rows: string[]) => drawWith(rows, KEY);
const text = (img: RgbaImage) => asText(img, KEY);

Deno.test("outline: transparent pixels beside (not diagonal to) opaque ones, inside holes too", () => {
  const sprite = [
    "A...............",
    "................",
    "................",
    "................",
    "................",
    ".....AAA........",
    ".....A.A........",
    ".....AAA........",
    "................",
    "................",
    "...........BC...",
    "................",
    "................",
    "................",
    "................",
    "...............C",
  ];
  deepStrictEqual(text(outline(draw(sprite), KEY.O.slice(0, 3) as [number, number, number])), [
    "AO..............",
    "O...............",
    "................",
    "................",
    ".....OOO........",
    "....OAAAO.......",
    "....OAOAO.......",
    "....OAAAO.......",
    ".....OOO........",
    "...........OO...",
    "..........OBCO..",
    "...........OO...",
    "................",
    "................",
    "...............O",
    "..............OC",
  ]);
});

Deno.test("despeckle: orphans take their neighbours' majority colour; lines and pairs stay", () => {
  const sprite = [
    "BAAAAAAAAAAAAAAA", // corner orphan B: 3 neighbours, all A
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAACBAAAAAAAAAAA", // C and B side by side, each an orphan: both become A
    "AAAAAAAAAAAAAAAA",
    "AAAAAABAAAAAAAAA", // a lone B
    "AAAAAAABAAAAAAAA", // … and its diagonal neighbour: a 2-pixel line, kept
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAA.AAAAA", // a transparent pinhole: filled
    "AAAAAAAAAAAAAAAA",
    "AAAAABAAAAAAAAAA", // B: A above and beside (5) beats C below (3)
    "CCCCCCCCCCCCCCCC",
    "................",
    "..A.........B...", // stray dots on transparency: removed
    "..............AC", // A and C: orphans, removed
    ".C.............B", // C: removed; B's neighbours A, C, . differ from each other: B stays
  ];
  deepStrictEqual(text(despeckle(draw(sprite))), [
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAABAAAAAAAAA",
    "AAAAAAABAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "AAAAAAAAAAAAAAAA",
    "CCCCCCCCCCCCCCCC",
    "................",
    "................",
    "................",
    "...............B",
  ]);
});
