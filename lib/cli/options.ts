/** Command-line parsing shared by the commands: node:util parseArgs, with one-line errors. */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { ensureWritableDir } from "../io/atomic.ts";
import { PREVIEW_CHOICES, type PreviewChoice } from "../term/detect.ts";
import { UserError } from "./errors.ts";

/**
 * One command-line option, declared once: how parseArgs reads it and the line `--help` prints.
 * `value` names the argument an option takes (`--n N`); an option without one is a flag.
 */
export interface OptionSpec {
  value?: string;
  /** The help text; "\n" starts an indented continuation line. */
  help: string;
  short?: string;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The parsed values of a table: strings for options with a value, booleans for flags. */
export type OptionValues<T extends OptionTable> = {
  [K in keyof T]?: T[K] extends { value: string } ? string : boolean;
};

/** `table` as parseArgs options, with `--help`/`-h` added. */
function parseArgsOptions(table: OptionTable): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {
    help: { type: "boolean", short: "h" },
  };
  for (const [name, spec] of Object.entries(table)) {
    options[name] = spec.short
      ? { type: spec.value ? "string" : "boolean", short: spec.short }
      : { type: spec.value ? "string" : "boolean" };
  }
  return options;
}

/**
 * `--name -1` → `--name=-1` for options with a value: parseArgs refuses a separate value
 * that starts with '-' ("argument is ambiguous"), so a negative number would get
 * that confusing message instead of the option's own range error.
 */
function joinNegativeValues(args: string[], table: OptionTable): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const takesValue = Object.hasOwn(table, name) && table[name].value !== undefined;
    if (takesValue && /^-[\d.]/.test(args[i + 1] ?? "")) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  return joined;
}

/** Parses `args` against `table`; an unknown option or a missing value is a one-line error. */
export function parseOptions<T extends OptionTable>(
  command: string,
  args: string[],
  table: T,
  allowPositionals = false,
): { values: OptionValues<T> & { help?: boolean }; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, table),
      options: parseArgsOptions(table),
      strict: true,
      allowPositionals,
    });
    return { values: values as OptionValues<T> & { help?: boolean }, positionals };
  } catch (err) {
    throw new UserError(
      `${command}: ${(err as Error).message.split("\n")[0]} (see '${command} --help')`,
    );
  }
}

/** One aligned help entry per option of `table`, each line indented by `indent`. */
export function optionLines(table: OptionTable, indent = "  "): string {
  const left = Object.entries(table).map(([name, spec]) =>
    `${indent}--${name}${spec.value ? ` ${spec.value}` : ""}`
  );
  const column = Math.min(indent.length + 24, Math.max(...left.map((l) => l.length)) + 2);
  return Object.values(table).map((spec, i) => {
    const [first, ...rest] = spec.help.split("\n");
    const head = left[i].length + 1 > column
      ? `${left[i]}\n${" ".repeat(column)}${first}`
      : `${left[i].padEnd(column)}${first}`;
    return [head, ...rest.map((line) => " ".repeat(column) + line)].join("\n");
  }).join("\n");
}

/** The `--help` text of a command: usage, description, its options, a footer. */
export function helpText(usage: string, about: string, table: OptionTable, footer = ""): string {
  return [`usage: ${usage}`, "", about, "", optionLines(table), ...(footer ? ["", footer] : [])]
    .join("\n");
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

/** `--preview` and `--preview-scale`, declared once for the commands that draw sprites. */
export const PICTURE_OPTIONS = {
  preview: {
    value: "MODE",
    help: "how sprites are drawn in the terminal: auto (default: what it speaks),\n" +
      "kitty, iterm, sixel (real pixels), blocks (ANSI half-blocks) or none",
  },
  "preview-scale": {
    value: "K",
    help: "pixels (kitty, iterm, sixel) or cells (blocks) per sprite pixel, 1–64\n" +
      "(default: a sprite 8 text lines tall, smaller until all fit)",
  },
} as const;

/** `--preview` and `--preview-scale`, checked (no terminal is asked anything yet). */
export function pictureOptions(
  values: OptionValues<typeof PICTURE_OPTIONS>,
): { preview: PreviewChoice; scale: number | undefined } {
  const preview = choiceOption("preview", values.preview, PREVIEW_CHOICES, "auto");
  const scale = values["preview-scale"] === undefined
    ? undefined
    : numberOption("preview-scale", values["preview-scale"], 0, { min: 1, max: 64, integer: true });
  return { preview, scale };
}
