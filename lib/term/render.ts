/**
 * Sprites on a {@link Display}: laid out as a grid that wraps into as many rows as the
 * terminal holds, each sprite over the transparency checkerboard and NEAREST-upscaled, then
 * drawn with the display's protocol — kitty, iTerm2 or sixel as one picture, half-blocks as
 * text lines. What does not fit is counted in a line below.
 *
 * Sizes are in pixels of the picture and cells of the terminal; for half-blocks a cell is
 * 1×2 pixels, so the same layout serves every protocol. The scale (`--preview-scale`) is
 * pixels per sprite pixel for pictures and cells per sprite pixel for half-blocks.
 */

import type { RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import { CHECKER, composeSheet, compositeOverChecker } from "../io/sheet.ts";
import { renderHalfBlocks } from "./ansi.ts";
import type { Display } from "./detect.ts";
import { encodeIterm } from "./iterm.ts";
import { encodeKitty } from "./kitty.ts";
import { encodeSixel } from "./sixel.ts";

export interface GridOptions {
  /**
   * Pixels (pictures) or cells (half-blocks) per sprite pixel. Default: a sprite as tall as
   * 8 text lines, made smaller until every sprite fits; a scale given is kept (only made
   * smaller if one sprite would not fit at all).
   */
  scale?: number;
  /** At most this many sprites per row (e.g. one class per row). */
  perRow?: number;
  /** At most this many rows. */
  maxRows?: number;
  /** Terminal lines the grid may take (default: the terminal's rows less 2). */
  lines?: number;
  /**
   * Output that scrolls away like text (printed or logged for good, not redrawn): half-blocks
   * are then not held to the terminal's height. Pictures always are, as they are drawn from a
   * saved cursor position that scrolling would move.
   */
  scrolls?: boolean;
  /** Whether a line says how many sprites are not shown (default true). */
  note?: boolean;
  /** The kitty image id: a frame drawn with the same id replaces the last. */
  imageId?: number;
}

export interface Layout {
  scale: number;
  /** Every `subsample`-th pixel of a sprite too big for the terminal even at scale 1. */
  subsample: number;
  perRow: number;
  rows: number;
  shown: number;
}

/** Pixels per terminal cell: the display's for pictures, 1×2 for half-blocks. */
const cellPixels = (display: Display) =>
  display.protocol === "blocks" ? { width: 1, height: 2 } : display.cell;

/** The default scale: a 16-pixel sprite as tall as 8 text lines, a pixel about a cell wide. */
export function defaultScale(display: Display, spriteHeight: number): number {
  return Math.max(1, Math.round((8 * cellPixels(display).height) / spriteHeight));
}

export function gridLayout(
  count: number,
  sprite: { width: number; height: number },
  display: Display,
  opts: GridOptions = {},
): Layout {
  const cell = cellPixels(display);
  const lines = opts.scrolls && display.protocol === "blocks"
    ? Infinity
    : Math.max(1, opts.lines ?? display.rows - 2);
  const room = { width: display.columns * cell.width, height: lines * cell.height };
  // The sprite drawn 1:1 must fit; a bigger one (a sheet given to `show`) is subsampled.
  const subsample = Math.max(
    1,
    Math.ceil(sprite.width / room.width),
    Math.ceil(sprite.height / room.height),
  );
  const w = Math.ceil(sprite.width / subsample);
  const h = Math.ceil(sprite.height / subsample);
  const largest = Math.max(1, Math.min(Math.floor(room.width / w), Math.floor(room.height / h)));
  const at = (scale: number): Layout => {
    const gap = scale;
    const across = Math.floor((room.width + gap) / (w * scale + gap));
    const down = Math.floor((room.height + gap) / (h * scale + gap));
    const perRow = Math.max(1, Math.min(count, opts.perRow ?? Infinity, across));
    const rows = Math.max(1, Math.min(Math.ceil(count / perRow), opts.maxRows ?? Infinity, down));
    return { scale, subsample, perRow, rows, shown: Math.min(count, perRow * rows) };
  };
  if (opts.scale !== undefined) return at(Math.min(opts.scale, largest));
  let layout = at(Math.min(defaultScale(display, h), largest));
  while (layout.shown < count && layout.scale > 1) layout = at(layout.scale - 1);
  return layout;
}

/** Every `step`-th pixel in each direction (NEAREST downscaling). */
function subsampled(img: RgbaImage, step: number): RgbaImage {
  if (step === 1) return img;
  const width = Math.ceil(img.width / step);
  const height = Math.ceil(img.height / step);
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = ((y * step) * img.width + x * step) * 4;
      data.set(img.data.subarray(from, from + 4), (y * width + x) * 4);
    }
  }
  return { width, height, data };
}

/** What a grid becomes on the terminal. */
export interface Rendered {
  /** A picture drawn at the cursor (kitty, iTerm2, sixel), `rows` text lines tall. */
  picture?: { escape: string; rows: number };
  /** Text lines below it: half-block rows, then the note on sprites not shown. */
  lines: string[];
  layout: Layout;
}

/** Wraps a sequence for tmux's passthrough (`allow-passthrough on`): ESC doubled inside. */
export const tmuxPassthrough = (escape: string): string =>
  `\x1bPtmux;${escape.replaceAll("\x1b", "\x1b\x1b")}\x1b\\`;

/** Lays out and draws `images` (all the same size) on `display`. */
export async function renderGrid(
  images: RgbaImage[],
  display: Display,
  opts: GridOptions = {},
): Promise<Rendered> {
  const layout = gridLayout(images.length, images[0], display, opts);
  const hidden = images.length - layout.shown;
  const note = hidden > 0 && opts.note !== false
    ? [`… ${hidden} of ${images.length} not shown: the terminal is too small for them`]
    : [];
  if (display.protocol === "none") return { lines: [], layout };
  // Each sprite over the checkerboard; the gaps between them stay transparent.
  const tiles = images.slice(0, layout.shown).map((img) =>
    compositeOverChecker(subsampled(img, layout.subsample), CHECKER.square)
  );
  const rows = Array.from(
    { length: layout.rows },
    (_, r) => tiles.slice(r * layout.perRow, (r + 1) * layout.perRow),
  );
  const sheet = composeSheet(rows, { scale: layout.scale, gap: layout.scale, checker: false });
  if (display.protocol === "blocks") {
    return {
      lines: [...renderHalfBlocks(sheet, { color: display.color }).split("\n"), ...note],
      layout,
    };
  }
  let escape: string;
  if (display.protocol === "sixel") escape = encodeSixel(sheet, display.registers);
  else {
    const png = await encodePng(sheet);
    escape = display.protocol === "kitty"
      ? encodeKitty(png, opts.imageId ?? 1)
      : encodeIterm(png, sheet.width, sheet.height);
    if (display.tmux) escape = tmuxPassthrough(escape);
  }
  return {
    picture: { escape, rows: Math.ceil(sheet.height / display.cell.height) },
    lines: note,
    layout,
  };
}

/**
 * A picture drawn at the start of the cursor's line, leaving the cursor at the start of the
 * line below it, whatever the protocol does with the cursor: room is made first (newlines,
 * scrolling if needed, then back up), so the saved position (DECSC) stays valid; the picture
 * is drawn; the cursor is restored (DECRC) and moved down past it.
 */
export function placePicture(picture: { escape: string; rows: number }): string {
  const down = "\n".repeat(picture.rows);
  return `${down}\x1b[${picture.rows}A\x1b7${picture.escape}\x1b8${down}`;
}

/**
 * A rendered grid as output that scrolls like text (`show`, `data preview`), to be printed
 * as a line (it has no newline of its own at the end).
 */
export function renderedText(rendered: Rendered): string {
  const picture = rendered.picture ? placePicture(rendered.picture) : "";
  return (picture + rendered.lines.map((l) => l + "\n").join("")).replace(/\n$/, "");
}
