/**
 * A block of lines redrawn in place at the bottom of the output: the progress
 * line and the sprite preview. On a TTY each frame moves the cursor back up over
 * the previous one and rewrites only the lines that changed, so a preview
 * updated every step neither scrolls nor floods the terminal with bytes.
 * Elsewhere (a pipe, a file, NO_COLOR) it writes plain lines, and only `log`s.
 */

import type { ColorMode } from "./ansi.ts";

const ESC = "\x1b[";
/** Synchronized output (DEC mode 2026): the terminal shows a frame only once complete; others ignore it. */
const BEGIN_FRAME = `${ESC}?2026h`;
const END_FRAME = `${ESC}?2026l`;
/** Erase to the end of the line (after writing it, so the old line never flashes blank). */
const ERASE_LINE_END = `${ESC}K`;
const ERASE_BELOW = `${ESC}J`;

/**
 * Redraws a block of lines in place on a TTY (cursor up + clear line, no
 * scrolling flood); on a non-TTY, or with colour mode "none", writes plain lines
 * only when asked (`log`). Handles the block growing and shrinking; `done()`
 * leaves the final frame on screen and starts afresh below it. Lines must fit
 * the terminal width and the block its height, or the terminal wraps/scrolls
 * and the cursor arithmetic no longer matches.
 */
export class LiveView {
  readonly #out: { writeSync(b: Uint8Array): number };
  readonly #live: boolean;
  readonly #encoder = new TextEncoder();
  /** The lines on screen; the cursor sits at the start of the line below them. */
  #shown: string[] = [];

  constructor(out: { writeSync(b: Uint8Array): number; isTerminal(): boolean }, color: ColorMode) {
    this.#out = out;
    this.#live = color !== "none" && out.isTerminal();
  }

  /** Shows `lines` ("\n"-separated; one trailing "\n" is ignored) as the block's new frame. */
  update(lines: string): void {
    if (!this.#live) return;
    const next = lines.replace(/\n$/, "").split("\n");
    const prev = this.#shown;
    if (next.length === prev.length && next.every((line, i) => line === prev[i])) return;
    let frame = BEGIN_FRAME + this.#cursorToTop();
    next.forEach((line, i) => {
      // An unchanged line is stepped over: "\n" from column 0 only moves down.
      frame += (line === prev[i] ? "" : line + ERASE_LINE_END) + "\n";
    });
    if (next.length < prev.length) frame += ERASE_BELOW;
    this.#write(frame + END_FRAME);
    this.#shown = next;
  }

  /** Writes `line` for good: above the block on a TTY, as a plain line elsewhere. */
  log(line: string): void {
    if (!this.#live) {
      this.#write(line + "\n");
      return;
    }
    const block = this.#shown.map((l) => l + ERASE_LINE_END + "\n").join("");
    // The block moves down one line; every old line is overwritten, so nothing needs erasing.
    this.#write(
      BEGIN_FRAME + this.#cursorToTop() + line + ERASE_LINE_END + "\n" + block + END_FRAME,
    );
  }

  /** Leaves the last frame where it is; a later `update` draws a new block below it. */
  done(): void {
    this.#shown = [];
  }

  #cursorToTop(): string {
    return this.#shown.length > 0 ? `${ESC}${this.#shown.length}A` : "";
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    // writeSync may write less than asked (pipes, terminals under load).
    for (let done = 0; done < bytes.length;) done += this.#out.writeSync(bytes.subarray(done));
  }
}
