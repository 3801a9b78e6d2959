import { deepStrictEqual } from "node:assert/strict";
import type { RgbaImage } from "../io/image.ts";
import { colorModeFor, renderHalfBlocks } from "./ansi.ts";

const image = (width: number, height: number, pixels: number[][]): RgbaImage => ({
  width,
  height,
  data: Uint8Array.from(pixels.flat()),
});

/**
 * 2×4, rows top to bottom: red green / blue white / brown, transparent /
 * black, half-transparent (10,20,30,128). Pixels (1,2) and (1,3) lie on a dark
 * checker square (#666666 = 102): (1,2) shows 102 grey; (1,3) composites to
 * round((10·128 + 102·127)/255) = 56, and likewise 61, 66.
 */
const known = image(2, 4, [
  [255, 0, 0, 255],
  [0, 255, 0, 255],
  [0, 0, 255, 255],
  [255, 255, 255, 255],
  [128, 64, 32, 255],
  [0, 0, 0, 0],
  [0, 0, 0, 255],
  [10, 20, 30, 128],
]);

Deno.test("truecolor half-blocks of a known 2×4 image", () => {
  deepStrictEqual(
    renderHalfBlocks(known, { color: "truecolor" }),
    "\x1b[38;2;255;0;0;48;2;0;0;255m▀\x1b[38;2;0;255;0;48;2;255;255;255m▀\x1b[0m\n" +
      "\x1b[38;2;128;64;32;48;2;0;0;0m▀\x1b[38;2;102;102;102;48;2;56;61;66m▀\x1b[0m",
  );
});

Deno.test("256-colour half-blocks map to the nearest cube or grey entry", () => {
  // red 196, blue 21, green 46, white 231; brown (128,64,32) → cube (135,95,0) = 94;
  // black 16; grey 102 → ramp 98 = 241; (56,61,66) → ramp 58 = 237.
  deepStrictEqual(
    renderHalfBlocks(known, { color: "256" }),
    "\x1b[38;5;196;48;5;21m▀\x1b[38;5;46;48;5;231m▀\x1b[0m\n" +
      "\x1b[38;5;94;48;5;16m▀\x1b[38;5;241;48;5;237m▀\x1b[0m",
  );
});

Deno.test("no colour renders nothing", () => {
  deepStrictEqual(renderHalfBlocks(known, { color: "none" }), "");
});

Deno.test("odd height: the last line has only upper halves; checker behind transparency", () => {
  // (0,0) transparent on a light square (#999999 = 153); (0,2) on a dark one (102).
  const img = image(1, 3, [[0, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 0]]);
  deepStrictEqual(
    renderHalfBlocks(img, { color: "truecolor" }),
    "\x1b[38;2;153;153;153;48;2;0;0;255m▀\x1b[0m\n\x1b[38;2;102;102;102m▀\x1b[0m",
  );
});

Deno.test("repeated colours are not re-sent along a line", () => {
  const red = [255, 0, 0, 255];
  const img = image(3, 2, [red, red, [9, 9, 9, 255], red, red, red]);
  deepStrictEqual(
    renderHalfBlocks(img, { color: "truecolor" }),
    "\x1b[38;2;255;0;0;48;2;255;0;0m▀▀\x1b[38;2;9;9;9m▀\x1b[0m",
  );
});

Deno.test("colour mode from the environment", () => {
  const tty = { isTerminal: () => true };
  const pipe = { isTerminal: () => false };
  const env = (vars: Record<string, string>) => ({ get: (key: string) => vars[key] });
  deepStrictEqual(colorModeFor(tty, env({ COLORTERM: "truecolor" })), "truecolor");
  deepStrictEqual(colorModeFor(tty, env({ COLORTERM: "24bit" })), "truecolor");
  deepStrictEqual(colorModeFor(tty, env({})), "256");
  deepStrictEqual(colorModeFor(tty, env({ COLORTERM: "truecolor", NO_COLOR: "1" })), "none");
  deepStrictEqual(colorModeFor(tty, env({ COLORTERM: "truecolor", NO_COLOR: "" })), "truecolor");
  deepStrictEqual(colorModeFor(tty, env({ TERM: "dumb" })), "none");
  deepStrictEqual(colorModeFor(pipe, env({ COLORTERM: "truecolor" })), "none");
});
