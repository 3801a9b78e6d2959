// deno-lint-ignore-file no-control-regex -- terminal replies begin with ESC, and so do their patterns
/**
 * Which picture protocol the terminal speaks, and its geometry, as timg and chafa find out:
 * the environment first (TERM, TERM_PROGRAM, LC_TERMINAL, KITTY_WINDOW_ID, TMUX), then, on
 * an interactive terminal only, one round of queries answered within a short timeout — a
 * kitty graphics query, the cell and window size in pixels (CSI 16 t, CSI 14 t) and the
 * primary device attributes (CSI c, which every terminal answers, so it ends the wait; a
 * parameter 4 announces sixel). A sixel terminal is then asked for its colour registers and
 * graphics area (XTSMGRAPHICS), which give the cell size where window reports are disabled
 * (xterm's default). A terminal that answers nothing costs the timeout and gets half-blocks.
 * NO_COLOR, TERM=dumb and pipes get no pictures under `auto`; an explicit choice is obeyed.
 */

import { colorDepth, type ColorMode, colorModeFor } from "./ansi.ts";
import { KITTY_QUERY, KITTY_QUERY_OK } from "./kitty.ts";
import { DEFAULT_REGISTERS } from "./sixel.ts";

export const PREVIEW_CHOICES = ["auto", "kitty", "iterm", "sixel", "blocks", "none"] as const;
export type PreviewChoice = typeof PREVIEW_CHOICES[number];
export type Protocol = Exclude<PreviewChoice, "auto">;

/** Where pictures go and how: what the renderer and the live view need to know. */
export interface Display {
  protocol: Protocol;
  /** Text colour; "none" = no escape codes at all (a pipe, NO_COLOR). Half-blocks use it. */
  color: ColorMode;
  columns: number;
  rows: number;
  /** Pixels per character cell, as the terminal reported them (else {@link ASSUMED_CELL}). */
  cell: { width: number; height: number };
  /** Sixel colour registers the terminal offers. */
  registers: number;
  /** Inside tmux: kitty and iTerm2 sequences are wrapped in tmux's passthrough. */
  tmux: boolean;
}

/** A common cell size, for a terminal that reports none. */
export const ASSUMED_CELL = { width: 10, height: 20 } as const;

interface Env {
  get(key: string): string | undefined;
}

/** The protocol the environment names for certain, or null when only the terminal can tell. */
export function protocolFromEnv(env: Env): "kitty" | "iterm" | "sixel" | null {
  const term = env.get("TERM") ?? "";
  const program = env.get("TERM_PROGRAM") ?? "";
  if (term === "xterm-kitty" || env.get("KITTY_WINDOW_ID")) return "kitty";
  if (term === "xterm-ghostty" || program === "ghostty") return "kitty";
  if (program === "iTerm.app" || env.get("LC_TERMINAL") === "iTerm2") return "iterm";
  // WezTerm's kitty graphics are off unless configured; its iTerm2 images always work.
  if (program === "WezTerm") return "iterm";
  if (term.startsWith("foot") || term.startsWith("mlterm")) return "sixel";
  return null;
}

/** What the terminal said, parsed out of everything it sent back. */
export interface Replies {
  /** The primary device attributes arrived (the last reply asked for). */
  answered: boolean;
  kitty: boolean;
  sixel: boolean;
  cell?: { width: number; height: number };
  /** Text area in pixels (CSI 14 t). */
  window?: { width: number; height: number };
  /** The sixel graphics area in pixels (XTSMGRAPHICS). */
  sixelArea?: { width: number; height: number };
  registers?: number;
}

const CSI = "\x1b[";
/**
 * The first round: the kitty query (left out inside a multiplexer: tmux and screen take an
 * APC string for a window title), cell size, window size, then device attributes.
 */
export const firstQuery = (multiplexer: boolean): string =>
  `${multiplexer ? "" : KITTY_QUERY}${CSI}16t${CSI}14t${CSI}c`;
/** The second round, sixel terminals only: colour registers and graphics area (XTSMGRAPHICS). */
export const SIXEL_QUERY = `${CSI}?1;1;0S${CSI}?2;1;0S${CSI}c`;
const DA1_REPLY = /\x1b\[\?([\d;]*)c/;

export function parseReplies(text: string): Replies {
  const da1 = DA1_REPLY.exec(text);
  const pair = (m: RegExpExecArray | null) =>
    m ? { width: Number(m[2]), height: Number(m[1]) } : undefined;
  const registers = /\x1b\[\?1;0;(\d+)S/.exec(text);
  const area = /\x1b\[\?2;0;(\d+);(\d+)S/.exec(text);
  return {
    answered: da1 !== null,
    kitty: text.includes(KITTY_QUERY_OK),
    sixel: da1 !== null && da1[1].split(";").includes("4"),
    cell: pair(/\x1b\[6;(\d+);(\d+)t/.exec(text)),
    window: pair(/\x1b\[4;(\d+);(\d+)t/.exec(text)),
    sixelArea: area ? { width: Number(area[1]), height: Number(area[2]) } : undefined,
    registers: registers ? Number(registers[1]) : undefined,
  };
}

/**
 * The `auto` decision for an interactive terminal: the environment when it is certain
 * (outside tmux), else a kitty reply, else sixel from the device attributes, else
 * half-blocks. Inside tmux or screen only sixel counts (tmux 3.4+ draws it itself and says
 * so in its own device attributes); tmux passes kitty and iTerm2 images on only with
 * `allow-passthrough`, so those are used there only when asked for by name.
 */
export function chooseProtocol(env: Env, replies: Replies): Protocol {
  const named = inMultiplexer(env) ? null : protocolFromEnv(env);
  if (named) return named;
  if (replies.kitty) return "kitty";
  return replies.sixel ? "sixel" : "blocks";
}

/** Inside tmux or GNU screen, whose environment may still name the terminal outside. */
export function inMultiplexer(env: Env): boolean {
  const term = env.get("TERM") ?? "";
  return Boolean(env.get("TMUX") || env.get("STY")) || term.startsWith("tmux") ||
    term.startsWith("screen");
}

/** The cell size in pixels from the best source the replies hold. */
export function cellSize(
  replies: Replies,
  size: { columns: number; rows: number },
): { width: number; height: number } {
  const plausible = (c?: { width: number; height: number }) =>
    c && c.width >= 2 && c.height >= 4 && c.width <= 400 && c.height <= 800 ? c : undefined;
  const per = (px?: { width: number; height: number }) =>
    px && size.columns > 0 && size.rows > 0
      ? {
        width: Math.floor(px.width / size.columns),
        height: Math.floor(px.height / size.rows),
      }
      : undefined;
  return plausible(replies.cell) ?? plausible(per(replies.window)) ??
    plausible(per(replies.sixelArea)) ?? { ...ASSUMED_CELL };
}

/**
 * Writes `query` to the controlling terminal and collects what it sends back until the
 * device-attributes reply arrives or `timeoutMs` passes. The terminal is in cbreak mode
 * (no echo, Ctrl-C still works) meanwhile; closing it cancels a read still waiting. ""
 * when there is no terminal to ask.
 */
export async function queryTerminal(query: string, timeoutMs: number): Promise<string> {
  let tty: Deno.FsFile;
  try {
    tty = await Deno.open("/dev/tty", { read: true, write: true });
  } catch {
    return "";
  }
  let text = "";
  try {
    tty.setRaw(true, { cbreak: true });
    const bytes = new TextEncoder().encode(query);
    for (let done = 0; done < bytes.length;) done += tty.writeSync(bytes.subarray(done));
    const buffer = new Uint8Array(1024);
    const decoder = new TextDecoder();
    const deadline = performance.now() + timeoutMs;
    while (!DA1_REPLY.test(text)) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), left));
      const read = tty.read(buffer).catch(() => null); // rejected when closed below
      const n = await Promise.race([read, timeout]);
      clearTimeout(timer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
  } finally {
    try {
      tty.setRaw(false);
    } finally {
      tty.close();
    }
  }
  return text;
}

export interface DetectOptions {
  out?: { isTerminal(): boolean };
  env?: Env;
  /** How long to wait for each round of replies (ms). */
  timeoutMs?: number;
  /** The terminal's size; default: Deno.consoleSize() on a terminal, else 80×24. */
  size?: { columns: number; rows: number };
}

/** Half-blocks in `color`, with the cell and terminal size given or assumed: no queries. */
export function blocksDisplay(
  color: ColorMode,
  size: { columns: number; rows: number } = terminalSize(Deno.stdout),
): Display {
  return {
    protocol: color === "none" ? "none" : "blocks",
    color,
    ...size,
    cell: { ...ASSUMED_CELL },
    registers: DEFAULT_REGISTERS,
    tmux: false,
  };
}

/** Columns and rows of `out` when it is a terminal (that reports a size), else 80×24. */
export function terminalSize(out: { isTerminal(): boolean }): { columns: number; rows: number } {
  if (out.isTerminal()) {
    try {
      const { columns, rows } = Deno.consoleSize();
      if (columns > 0 && rows > 0) return { columns, rows };
    } catch {
      // no console size (a pty reporting none): fall through to the default
    }
  }
  return { columns: 80, rows: 24 };
}

/** Resolves `--preview CHOICE` into a {@link Display}, asking the terminal only when needed. */
export async function detectDisplay(
  choice: PreviewChoice,
  opts: DetectOptions = {},
): Promise<Display> {
  const out = opts.out ?? Deno.stdout;
  const env = opts.env ?? Deno.env;
  const timeoutMs = opts.timeoutMs ?? 300;
  const size = opts.size ?? terminalSize(out);
  const auto = colorModeFor(out, env);
  // An explicit choice is obeyed even in a pipe or under NO_COLOR (the user asked for it).
  const color = choice === "auto" || choice === "none" ? auto : colorDepth(env);
  const display = blocksDisplay(color, size);
  display.tmux = Boolean(env.get("TMUX"));
  if (choice === "none" || choice === "blocks") {
    display.protocol = choice;
    return display;
  }
  if (choice === "auto" && (auto === "none" || env.get("TERM") === "linux")) {
    return display; // no pictures: a pipe, NO_COLOR, a dumb terminal; the console has no graphics
  }
  // Graphics need the cell size, which only the terminal knows.
  const replies = out.isTerminal() ? await ask(firstQuery(inMultiplexer(env))) : parseReplies("");
  display.protocol = choice === "auto" ? chooseProtocol(env, replies) : choice;
  if (display.protocol === "sixel" && replies.answered) {
    const more = await ask(SIXEL_QUERY);
    replies.registers = more.registers;
    replies.sixelArea = more.sixelArea;
  }
  display.cell = cellSize(replies, size);
  // More than 1024 registers is beyond what the sixel terminals we know handle.
  display.registers = Math.min(replies.registers ?? DEFAULT_REGISTERS, 1024);
  return display;

  async function ask(query: string): Promise<Replies> {
    return parseReplies(await queryTerminal(query, timeoutMs));
  }
}
