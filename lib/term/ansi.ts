/**
 * Images in the terminal as ANSI half-blocks: each cell shows two vertically
 * stacked pixels, "▀" with the upper one as foreground and the lower one as
 * background, so a 16×16 sprite takes 16 columns × 8 lines.
 */

import type { RgbaImage } from "../io/image.ts";
import { CHECKER, compositeOverChecker } from "../io/sheet.ts";

export type ColorMode = "truecolor" | "256" | "none";

/**
 * Decides from the environment: NO_COLOR set (non-empty, as no-color.org says),
 * TERM=dumb, or not a terminal → "none"; COLORTERM truecolor/24bit →
 * "truecolor"; else "256".
 */
export function colorModeFor(
  stream: { isTerminal(): boolean },
  env: { get(key: string): string | undefined } = Deno.env,
): ColorMode {
  if (env.get("NO_COLOR") || env.get("TERM") === "dumb" || !stream.isTerminal()) return "none";
  return colorDepth(env);
}

/** COLORTERM truecolor/24bit → "truecolor", else "256" (when colour is wanted at all). */
export function colorDepth(env: { get(key: string): string | undefined }): "truecolor" | "256" {
  const colorterm = env.get("COLORTERM")?.toLowerCase();
  return colorterm === "truecolor" || colorterm === "24bit" ? "truecolor" : "256";
}

const CUBE_LEVELS = [0, 95, 135, 175, 215, 255];

function nearestCubeLevel(v: number): number {
  let best = 0;
  for (let i = 1; i < CUBE_LEVELS.length; i++) {
    if (Math.abs(CUBE_LEVELS[i] - v) < Math.abs(CUBE_LEVELS[best] - v)) best = i;
  }
  return best;
}

/**
 * The nearest xterm-256 colour (squared RGB distance) among the 6×6×6 cube
 * (16–231) and the grey ramp (232–255: 8, 18, …, 238). The 16 system colours
 * are left out: terminals theme them, so their RGB is unknown.
 */
export function xterm256(r: number, g: number, b: number): number {
  const ri = nearestCubeLevel(r);
  const gi = nearestCubeLevel(g);
  const bi = nearestCubeLevel(b);
  const cubeDist = (CUBE_LEVELS[ri] - r) ** 2 + (CUBE_LEVELS[gi] - g) ** 2 +
    (CUBE_LEVELS[bi] - b) ** 2;
  // The grey level nearest the channel mean minimises the summed squared distance.
  const greyIndex = Math.min(23, Math.max(0, Math.round(((r + g + b) / 3 - 8) / 10)));
  const grey = 8 + 10 * greyIndex;
  const greyDist = (grey - r) ** 2 + (grey - g) ** 2 + (grey - b) ** 2;
  return greyDist < cubeDist ? 232 + greyIndex : 16 + 36 * ri + 6 * gi + bi;
}

/** SGR parameters selecting a colour as foreground (base 38) or background (48). */
function colorParams(base: 38 | 48, data: Uint8Array, i: number, mode: ColorMode): string {
  return mode === "truecolor"
    ? `${base};2;${data[i]};${data[i + 1]};${data[i + 2]}`
    : `${base};5;${xterm256(data[i], data[i + 1], data[i + 2])}`;
}

/**
 * Half-block rendering: one cell per 1×2 pixels, "▀" with fg = upper pixel,
 * bg = lower pixel. Transparent pixels are composited over {@link CHECKER}
 * (squares of 2×2 pixels = 2 cells × 1 line, light #999999 / dark #666666). An
 * odd height leaves the last line's lower halves in the terminal's default
 * background. A colour code is written only where it changes along a line; each
 * line ends with a reset ("\x1b[0m"). Lines are joined by "\n", with no newline
 * after the last. "none" returns "" (callers print summaries instead).
 */
export function renderHalfBlocks(img: RgbaImage, opts: { color: ColorMode }): string {
  const mode = opts.color;
  if (mode === "none" || img.width === 0 || img.height === 0) return "";
  const { width, height, data } = compositeOverChecker(img, CHECKER.square);
  const lines: string[] = [];
  for (let y = 0; y < height; y += 2) {
    let line = "";
    let fg = "";
    let bg = ""; // "" = the terminal default, which each line starts from
    for (let x = 0; x < width; x++) {
      const upper = (y * width + x) * 4;
      const nextFg = colorParams(38, data, upper, mode);
      const nextBg = y + 1 < height ? colorParams(48, data, upper + width * 4, mode) : "";
      const changes: string[] = [];
      if (nextFg !== fg) changes.push(nextFg);
      if (nextBg !== bg) changes.push(nextBg === "" ? "49" : nextBg);
      if (changes.length > 0) line += `\x1b[${changes.join(";")}m`;
      line += "▀";
      fg = nextFg;
      bg = nextBg;
    }
    lines.push(line + "\x1b[0m");
  }
  return lines.join("\n");
}
