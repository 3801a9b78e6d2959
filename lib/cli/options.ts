/** Command-line parsing shared by the commands: node:util parseArgs, with one-line errors. */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { ensureWritableDir } from "../io/atomic.ts";
import { detectDisplay, type Display, PREVIEW_CHOICES } from "../term/detect.ts";
import { UserError } from "./errors.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * `--name -1` → `--name=-1` for string options: parseArgs refuses a separate value
 * that starts with '-' ("argument is ambiguous"), so a negative number would get
 * that confusing message instead of the option's own range error.
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const isString = Object.hasOwn(options, name) && options[name].type === "string";
    if (isString && /^-[\d.]/.test(args[i + 1] ?? "")) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  return joined;
}

export function parseOptions<T extends Options>(
  command: string,
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals,
    });
  } catch (err) {
    throw new UserError(
      `${command}: ${(err as Error).message.split("\n")[0]} (see '${command} --help')`,
    );
  }
}

/** A number option in [min, max] (integer if asked), or a one-line error naming it. */
export function numberOption(
  name: string,
  text: string | undefined,
  fallback: number,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  const kind = integer ? "an integer" : "a number";
  if (text.trim() === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UserError(`--${name} must be ${kind}, not '${text}'`);
  }
  if (value < min || value > max) {
    throw new UserError(`--${name} must be between ${min} and ${max}, not ${value}`);
  }
  return value;
}

export function choiceOption<T extends string>(
  name: string,
  text: string | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (text === undefined) return fallback;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UserError(`--${name} must be one of ${choices.join(", ")}, not '${text}'`);
  }
  return text as T;
}

/** Creates `--out DIR` if needed and checks it is writable, or fails with a one-line error. */
export async function writableOutDir(dir: string): Promise<void> {
  try {
    await ensureWritableDir(dir);
  } catch (err) {
    throw new UserError(`cannot write to --out ${dir}: ${(err as Error).message}`);
  }
}

/** The terminal's width in columns, or `fallback` off a terminal (or a pty reporting 0). */
export const terminalColumns = (fallback = 80): number =>
  (Deno.stdout.isTerminal() && Deno.consoleSize().columns) || fallback;

/** `--preview` and `--preview-scale`, for the commands that draw sprites in the terminal. */
export const PREVIEW_OPTIONS = {
  preview: { type: "string" },
  "preview-scale": { type: "string" },
} as const;

export const PREVIEW_HELP =
  `  --preview MODE       how pictures are drawn: auto (default: what the terminal speaks),
                       kitty, iterm, sixel, blocks (ANSI half-blocks) or none
  --preview-scale K    pixels per sprite pixel (kitty, iterm, sixel) or cells per sprite
                       pixel (blocks), 1–64; default: a sprite as tall as 8 text lines`;

/** The terminal's picture protocol and geometry for `--preview`, and `--preview-scale`. */
export async function previewDisplay(
  values: { preview?: string; "preview-scale"?: string },
): Promise<{ display: Display; scale: number | undefined }> {
  const choice = choiceOption("preview", values.preview, PREVIEW_CHOICES, "auto");
  const scale = values["preview-scale"] === undefined
    ? undefined
    : numberOption("preview-scale", values["preview-scale"], 0, { min: 1, max: 64, integer: true });
  return { display: await detectDisplay(choice), scale };
}
