/**
 * What `--palette SPEC` names: a built-in palette, `dataset` (the colours stored with the
 * weights), `auto:K` (k-means, per sprite or per batch), or a palette file. Parsing is separate
 * from resolving so front ends can check a spec before loading anything.
 */

import { PaletteError } from "./errors.ts";
import { BUILTIN_PALETTES } from "./builtin.ts";
import { PALETTE_FILE_TYPES, readPaletteFile } from "./files.ts";
import { MAX_COLORS, type Palette } from "./palette.ts";

export type PaletteSpec =
  | { kind: "builtin"; palette: Palette }
  | { kind: "dataset" }
  | { kind: "auto"; colors: number }
  | { kind: "file"; path: string };

/** A resolved spec: a fixed palette, or the number of colours k-means is to choose. */
export type PaletteChoice = { fixed: Palette } | { auto: number };

export function parsePaletteSpec(spec: string): PaletteSpec {
  const builtin = BUILTIN_PALETTES.get(spec.toLowerCase());
  if (builtin) return { kind: "builtin", palette: builtin };
  if (spec === "dataset") return { kind: "dataset" };
  const auto = /^auto:(.*)$/.exec(spec);
  if (auto) {
    const k = /^\d+$/.test(auto[1]) ? Number(auto[1]) : NaN;
    if (!(k >= 2 && k <= MAX_COLORS)) {
      throw new PaletteError(
        `palette '${spec}': auto:K needs a whole number of colours K from 2 to ${MAX_COLORS}`,
      );
    }
    return { kind: "auto", colors: k };
  }
  if ((PALETTE_FILE_TYPES as readonly string[]).some((ext) => spec.toLowerCase().endsWith(ext))) {
    return { kind: "file", path: spec };
  }
  throw new PaletteError(
    `unknown palette '${spec}': give a built-in name (${
      [...BUILTIN_PALETTES.keys()].join(", ")
    }), dataset, auto:K, or a ${PALETTE_FILE_TYPES.join("/")} file`,
  );
}

/**
 * The palette a spec stands for. `dataset` needs the palette stored with the weights (`source`
 * names the weights file in the error when there is none).
 */
export async function resolvePaletteSpec(
  spec: PaletteSpec,
  dataset: { palette?: Palette; source: string },
): Promise<PaletteChoice> {
  switch (spec.kind) {
    case "builtin":
      return { fixed: spec.palette };
    case "auto":
      return { auto: spec.colors };
    case "file":
      return { fixed: await readPaletteFile(spec.path) };
    case "dataset":
      if (!dataset.palette) {
        throw new PaletteError(
          `${dataset.source} carries no dataset palette (weights trained before palettes were stored, or data with more than ${MAX_COLORS} colours); add one with scripts/add_palette.ts, or choose another palette`,
        );
      }
      return { fixed: dataset.palette };
  }
}
