/**
 * Palette files, read and written: Lospec/Paint.NET-style `.hex` (one RRGGBB per line), GIMP
 * `.gpl` (with Aseprite's `Channels: RGBA` variant), JASC `.pal`, and a PNG whose pixels are the
 * swatches (a Lospec palette image at any scale). A malformed file is refused with one line
 * naming the file and the line.
 */

import { extname } from "node:path";
import { PaletteError } from "./errors.ts";
import { decodePng } from "../io/png.ts";
import { hexOf, makePalette, MAX_COLORS, type Palette, parseHex, type Rgb } from "./palette.ts";

/** The extensions {@link readPaletteFile} knows. */
export const PALETTE_FILE_TYPES = [".hex", ".gpl", ".pal", ".png"] as const;

/** The numbered, non-blank lines of a text file (1-based line numbers, CR/LF stripped). */
function lines(text: string): { n: number; text: string }[] {
  return text.split(/\r?\n/).map((t, i) => ({ n: i + 1, text: t.trim() })).filter((l) =>
    l.text !== ""
  );
}

function refuse(source: string, line: number | undefined, what: string): never {
  throw new PaletteError(`${source}${line === undefined ? "" : `:${line}`}: ${what}`);
}

function nonEmpty(p: Palette, source: string): Palette {
  if (p.colors.length === 0) refuse(source, undefined, "no colours in this palette file");
  return p;
}

/** `.hex`: one `RRGGBB` (optionally `#RRGGBB`) per line; blank lines ignored. */
export function parseHexPalette(text: string, source: string, name: string): Palette {
  const colors = lines(text).map(({ n, text }) =>
    parseHex(text) ??
      refuse(source, n, `'${text}' is not a colour; a .hex palette has one RRGGBB per line`)
  );
  return nonEmpty(makePalette(name, colors, source), source);
}

/** One `0…255` channel value, or a refusal naming the line. */
function channel(token: string | undefined, source: string, n: number, what: string): number {
  if (token === undefined || !/^\d{1,3}$/.test(token) || Number(token) > 255) {
    refuse(
      source,
      n,
      token === undefined
        ? `${what} missing; expected ${what === "alpha" ? "R G B A" : "R G B"} (0–255 each)`
        : `'${token}' is not a ${what} value (0–255)`,
    );
  }
  return Number(token);
}

/**
 * GIMP `.gpl`: a `GIMP Palette` line, then `Name:`/`Columns:`/`Channels:` headers, `#` comments
 * and `R G B [name]` lines. With Aseprite's `Channels: RGBA`, lines are `R G B A [name]`; entries
 * with alpha below 128 are the editor's transparent slot, not a colour, and are skipped (alpha is
 * binary here, as in the sprites).
 */
export function parseGplPalette(text: string, source: string, fallbackName: string): Palette {
  const all = lines(text);
  if (all[0]?.text !== "GIMP Palette") {
    refuse(source, all[0]?.n ?? 1, "not a GIMP palette (the first line must be 'GIMP Palette')");
  }
  let name = fallbackName;
  let rgba = false;
  const colors: Rgb[] = [];
  for (const { n, text } of all.slice(1)) {
    if (text.startsWith("#")) continue;
    const header = /^(Name|Columns|Channels):\s*(.*)$/i.exec(text);
    if (header) {
      const key = header[1].toLowerCase();
      if (key === "name" && header[2]) name = header[2];
      if (key === "channels") {
        if (!/^rgba?$/i.test(header[2])) {
          refuse(source, n, `channels '${header[2]}' unknown; expected RGB or RGBA`);
        }
        rgba = header[2].toUpperCase() === "RGBA";
      }
      continue;
    }
    const tokens = text.split(/\s+/);
    const [r, g, b] = ["red", "green", "blue"].map((what, i) =>
      channel(tokens[i], source, n, what)
    );
    if (rgba && channel(tokens[3], source, n, "alpha") < 128) continue;
    colors.push([r, g, b]);
  }
  return nonEmpty(makePalette(name, colors, source), source);
}

/** JASC `.pal`: `JASC-PAL`, `0100`, the colour count, then exactly that many `R G B` lines. */
export function parseJascPalette(text: string, source: string, name: string): Palette {
  const all = lines(text);
  if (all[0]?.text !== "JASC-PAL") {
    refuse(source, all[0]?.n ?? 1, "not a JASC palette (the first line must be 'JASC-PAL')");
  }
  if (all[1]?.text !== "0100") {
    refuse(source, all[1]?.n ?? 2, `version '${all[1]?.text ?? ""}' unknown; expected 0100`);
  }
  const countLine = all[2] ?? refuse(source, 3, "colour count missing");
  const count = /^\d+$/.test(countLine.text) ? Number(countLine.text) : NaN;
  if (!(count >= 1 && count <= MAX_COLORS)) {
    refuse(source, countLine.n, `'${countLine.text}' is not a colour count (1–${MAX_COLORS})`);
  }
  const body = all.slice(3);
  if (body.length !== count) {
    refuse(source, countLine.n, `the header says ${count} colours, the file has ${body.length}`);
  }
  const colors = body.map(({ n, text }): Rgb => {
    const tokens = text.split(/\s+/);
    if (tokens.length > 3) refuse(source, n, `'${text}': expected R G B`);
    const [r, g, b] = ["red", "green", "blue"].map((what, i) =>
      channel(tokens[i], source, n, what)
    );
    return [r, g, b];
  });
  return makePalette(name, colors, source);
}

/**
 * A PNG of swatches: its distinct opaque colours in reading order (transparent pixels ignored),
 * so a Lospec palette image works at 1× or scaled up.
 */
export async function parsePngPalette(
  bytes: Uint8Array,
  source: string,
  name: string,
): Promise<Palette> {
  const image = await decodePng(bytes, source).catch((err) =>
    refuse(source, undefined, err.message.replace(`${source}: `, ""))
  );
  const colors: Rgb[] = [];
  const seen = new Set<number>();
  const d = image.data;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] < 128) continue;
    const key = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    if (seen.has(key)) continue;
    seen.add(key);
    colors.push([d[i], d[i + 1], d[i + 2]]);
    if (colors.length > MAX_COLORS) {
      refuse(
        source,
        undefined,
        `more than ${MAX_COLORS} distinct colours: not a palette image (one pixel or square per colour)`,
      );
    }
  }
  return nonEmpty(makePalette(name, colors, source), source);
}

/** Reads a palette file, the format chosen by its extension. */
export async function readPaletteFile(path: string): Promise<Palette> {
  const ext = extname(path).toLowerCase();
  const name = path.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "");
  if (!(PALETTE_FILE_TYPES as readonly string[]).includes(ext)) {
    refuse(path, undefined, `unknown palette file type; use ${PALETTE_FILE_TYPES.join(", ")}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    refuse(path, undefined, `cannot read (${err instanceof Error ? err.message : err})`);
  }
  if (ext === ".png") return parsePngPalette(bytes, path, name);
  const text = new TextDecoder().decode(bytes);
  if (ext === ".hex") return parseHexPalette(text, path, name);
  if (ext === ".gpl") return parseGplPalette(text, path, name);
  return parseJascPalette(text, path, name);
}

/** `.hex` text: one `rrggbb` per line. */
export function formatHexPalette(p: Palette): string {
  return p.colors.map((c) => hexOf(c) + "\n").join("");
}

/** GIMP `.gpl` text (RGB), each colour named by its hex value, as GIMP and Aseprite read it. */
export function formatGplPalette(p: Palette): string {
  const rows = p.colors.map((c) =>
    `${c.map((v) => String(v).padStart(3)).join(" ")}\t#${hexOf(c)}\n`
  );
  return `GIMP Palette\nName: ${p.name}\nColumns: 8\n#\n${rows.join("")}`;
}
