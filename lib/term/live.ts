/**
 * A block redrawn in place at the bottom of the output: a sprite grid, its status line,
 * the progress line. On a TTY each frame moves the cursor back up over the previous one and
 * rewrites only the lines that changed, so a preview updated every step neither scrolls nor
 * floods the terminal. A picture (kitty, iTerm2, sixel) heads the block: it is drawn from
 * the block's saved top-left corner (DECSC/DECRC), under the same kitty image id each time,
 * so a new frame replaces the last. Elsewhere (a pipe, a file, NO_COLOR) only `log` writes,
 * as plain lines.
 */

import type { RgbaImage } from "../io/image.ts";
import type { ColorMode } from "./ansi.ts";
import { blocksDisplay, type Display } from "./detect.ts";
import { kittyDelete } from "./kitty.ts";
import { type GridOptions, placePicture, type Rendered, renderGrid } from "./render.ts";

const ESC = "\x1b[";
/** Synchronized output (DEC mode 2026): the terminal shows a frame only once complete; others ignore it. */
const BEGIN_FRAME = `${ESC}?2026h`;
const END_FRAME = `${ESC}?2026l`;
/** Erase to the end of the line (after writing it, so the old line never flashes blank). */
const ERASE_LINE_END = `${ESC}K`;
const ERASE_BELOW = `${ESC}J`;

/** The kitty id of the live frame; pictures logged for good get the ids after it. */
const LIVE_IMAGE_ID = 0x5e000 + (Deno.pid % 0x1000) * 0x100;

/**
 * Redraws a block in place on a TTY (cursor up + clear line, no scrolling flood); on a
 * non-TTY, or with colour mode "none", writes plain lines only when asked (`log`). Handles
 * the block growing and shrinking; `done()` leaves the final frame on screen and starts
 * afresh below it. Lines must fit the terminal width and the block its height, or the
 * terminal wraps/scrolls and the cursor arithmetic no longer matches (the grid layout sees
 * to that for pictures).
 */
export class LiveView {
  readonly #out: { writeSync(b: Uint8Array): number };
  readonly #live: boolean;
  readonly #display: Display;
  readonly #encoder = new TextEncoder();
  /** The picture heading the block, if any. */
  #picture: Picture | undefined;
  /** The text lines on screen below it; the cursor sits at the start of the line below them. */
  #shown: string[] = [];
  /** Frames are encoded asynchronously, in order; one superseded meanwhile is not drawn. */
  #requested = 0;
  #pending: Promise<void> = Promise.resolve();
  /** The first error of an asynchronous frame, thrown by `done()`. */
  #failure: unknown;
  #nextLogId = LIVE_IMAGE_ID + 1;

  /**
   * `display` says how `show` and `logImages` draw pictures; without one they use
   * half-blocks in `color`.
   */
  constructor(
    out: { writeSync(b: Uint8Array): number; isTerminal(): boolean },
    color: ColorMode,
    display?: Display,
  ) {
    this.#out = out;
    this.#live = color !== "none" && out.isTerminal();
    this.#display = display ?? blocksDisplay(color);
  }

  /** Shows `lines` ("\n"-separated; one trailing "\n" is ignored) as the block's new frame. */
  update(lines: string): void {
    if (!this.#live) return;
    this.#requested++;
    this.#draw(undefined, lines.replace(/\n$/, "").split("\n"));
  }

  /**
   * Shows `images` as a grid with `status` ("\n"-separated lines) below it as the block's
   * new frame, once the frames before it are drawn; one superseded meanwhile is skipped.
   * The images are read then, so they must not change after the call.
   */
  show(images: RgbaImage[], status: string, opts: GridOptions = {}): Promise<void> {
    if (!this.#live) return Promise.resolve();
    const frame = ++this.#requested;
    const statusLines = status.split("\n");
    // Room for the grid: the terminal less the status, the note and the cursor's line.
    const lines = this.#display.rows - statusLines.length - 2;
    return this.#queue(async () => {
      if (frame !== this.#requested) return; // superseded before its turn: not even encoded
      const grid = { lines, ...opts, imageId: LIVE_IMAGE_ID };
      const { picture, lines: gridLines } = await renderGrid(images, this.#display, grid);
      if (frame === this.#requested) this.#draw(picture, [...gridLines, ...statusLines]);
    });
  }

  /** Writes `line` for good: above the block on a TTY, as a plain line elsewhere. */
  log(line: string): void {
    if (!this.#live) {
      this.#write(line + "\n");
      return;
    }
    this.#aboveBlock(line + ERASE_LINE_END + "\n");
  }

  /** Writes a grid of `images` for good above the block (nothing off a TTY). */
  logImages(images: RgbaImage[], opts: GridOptions = {}): Promise<void> {
    if (!this.#live) return Promise.resolve();
    const imageId = this.#nextLogId++;
    return this.#queue(async () => {
      const grid = { scrolls: true, ...opts, imageId };
      const { picture, lines } = await renderGrid(images, this.#display, grid);
      this.#aboveBlock(textLines(lines), picture);
    });
  }

  /**
   * Waits for the frames asked for, then leaves the last where it is; a later frame draws a
   * new block below it. Throws the error of a frame that failed.
   */
  async done(): Promise<void> {
    await this.#pending;
    this.#picture = undefined;
    this.#shown = [];
    if (this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Runs `step` after the steps before it. The promise returned never rejects, so a caller
   * that does not wait for a frame cannot leave a rejection unhandled; `done()` reports it.
   */
  #queue(step: () => Promise<void>): Promise<void> {
    this.#pending = this.#pending.then(step).catch((err) => {
      this.#failure ??= err;
    });
    return this.#pending;
  }

  /** Draws a frame over the block on screen, rewriting only what changed. */
  #draw(picture: Picture | undefined, next: string[]): void {
    const old = this.#picture;
    if (!picture && !old && sameLines(next, this.#shown)) return;
    let frame = BEGIN_FRAME + this.#cursorToTop();
    // Text lines are stepped over only where they sit where they did.
    let prev = this.#shown;
    if (old && old.rows !== picture?.rows) {
      frame += ERASE_BELOW + this.#deleteLivePicture();
      prev = [];
    }
    if (picture) frame += placePicture(picture);
    next.forEach((line, i) => {
      // An unchanged line is stepped over: "\n" from column 0 only moves down.
      frame += (line === prev[i] ? "" : line + ERASE_LINE_END) + "\n";
    });
    if ((picture?.rows ?? 0) + next.length < this.#height()) frame += ERASE_BELOW;
    this.#write(frame + END_FRAME);
    this.#picture = picture;
    this.#shown = next;
  }

  /** Writes `text` where the block starts and draws the block again below it. */
  #aboveBlock(text: string, picture?: Picture): void {
    // Text overwrites the block's old lines; a picture does not (text shows through it and
    // beside it), so where one is drawn, or one moves down with the block, the old block is
    // erased first.
    const erase = this.#picture || picture ? ERASE_BELOW : "";
    const logged = (picture ? placePicture(picture) : "") + text;
    const block = (this.#picture ? placePicture(this.#picture) : "") + textLines(this.#shown);
    this.#write(BEGIN_FRAME + this.#cursorToTop() + erase + logged + block + END_FRAME);
  }

  /** Kitty pictures survive erasing the text under them; the live one is deleted by id. */
  #deleteLivePicture(): string {
    return this.#display.protocol === "kitty" ? kittyDelete(LIVE_IMAGE_ID) : "";
  }

  #height(): number {
    return (this.#picture?.rows ?? 0) + this.#shown.length;
  }

  #cursorToTop(): string {
    return this.#height() > 0 ? `${ESC}${this.#height()}A` : "";
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    // writeSync may write less than asked (pipes, terminals under load).
    for (let done = 0; done < bytes.length;) done += this.#out.writeSync(bytes.subarray(done));
  }
}

type Picture = NonNullable<Rendered["picture"]>;

const sameLines = (a: string[], b: string[]) =>
  a.length === b.length && a.every((line, i) => line === b[i]);

/** Each line written whole, erasing what was behind it. */
const textLines = (lines: string[]) => lines.map((l) => l + ERASE_LINE_END + "\n").join("");
