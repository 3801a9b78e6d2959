/**
 * A palette: a name and up to 256 distinct opaque colours, in order. Every source — built-in
 * lists, palette files, the dataset's colours, k-means — ends in {@link makePalette}, so
 * duplicates are dropped once and the size limit (what an indexed PNG can hold) is checked once.
 */

import { PaletteError } from "./errors.ts";
import { oklabFromRgb, type Rgb } from "./oklab.ts";

export type { Rgb };

export interface Palette {
  name: string;
  colors: readonly Rgb[];
}

/** An indexed PNG holds 256 entries; a palette may use all of them for opaque colours. */
export const MAX_COLORS = 256;

/** `rrggbb`, lower case. */
export function hexOf([r, g, b]: Rgb): string {
  return ((r << 16) | (g << 8) | b).toString(16).padStart(6, "0");
}

/** `RRGGBB` or `#RRGGBB` (either case) as a colour; undefined when it is not one. */
export function parseHex(text: string): Rgb | undefined {
  const m = /^#?([0-9a-fA-F]{6})$/.exec(text.trim());
  if (!m) return undefined;
  const v = parseInt(m[1], 16);
  return [v >> 16, (v >> 8) & 255, v & 255];
}

/** 24-bit key of a colour, for sets and maps. */
export const keyOf = (r: number, g: number, b: number): number => (r << 16) | (g << 8) | b;

/**
 * A palette from colours in order, duplicates dropped (first kept). `source` names where they
 * came from in the error for more than {@link MAX_COLORS} distinct colours.
 */
export function makePalette(name: string, colors: Iterable<Rgb>, source = name): Palette {
  const seen = new Set<number>();
  const kept: Rgb[] = [];
  for (const c of colors) {
    const key = keyOf(c[0], c[1], c[2]);
    if (!seen.has(key)) seen.add(key), kept.push([c[0], c[1], c[2]]);
  }
  if (kept.length > MAX_COLORS) {
    throw new PaletteError(
      `${source}: ${kept.length} distinct colours; a palette holds at most ${MAX_COLORS}`,
    );
  }
  return { name, colors: kept };
}

/** The palette's colours in OKLab, three numbers per colour. */
export function paletteLab(palette: Palette): Float64Array {
  const lab = new Float64Array(palette.colors.length * 3);
  palette.colors.forEach(([r, g, b], i) => lab.set(oklabFromRgb(r, g, b), i * 3));
  return lab;
}

/** Index of the palette colour nearest (OKLab distance) to (L, a, b); ties go to the lower index. */
export function nearestIndex(lab: Float64Array, L: number, a: number, b: number): number {
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < lab.length; i += 3) {
    const dL = lab[i] - L;
    const da = lab[i + 1] - a;
    const db = lab[i + 2] - b;
    const d = dL * dL + da * da + db * db;
    if (d < bestDistance) bestDistance = d, best = i / 3;
  }
  return best;
}

/** Colours sorted dark to light (OKLab L), then by value: how palette editors show ramps. */
export function byLightness(colors: readonly Rgb[]): Rgb[] {
  const L = new Map(colors.map((c) => [c, oklabFromRgb(...c)[0]]));
  return [...colors].sort((p, q) =>
    L.get(p)! - L.get(q)! || keyOf(p[0], p[1], p[2]) - keyOf(q[0], q[1], q[2])
  );
}

/** The darkest colour (lowest OKLab lightness) of a palette: the usual outline colour. */
export function darkest(palette: Palette): Rgb {
  if (palette.colors.length === 0) throw new RangeError("an empty palette has no darkest colour");
  const lab = paletteLab(palette);
  let best = 0;
  for (let i = 1; i < palette.colors.length; i++) if (lab[i * 3] < lab[best * 3]) best = i;
  return palette.colors[best];
}
