/**
 * The palette options `sample` and `eval` share: `--palette SPEC`, `--palette-scope`, `--dither`,
 * `--outline`, `--despeckle`, and `--list-palettes`. Parsed (and checked) before any work, the
 * palette itself resolved against the weights (for `dataset`).
 */

import { BUILTIN_PALETTES } from "../palette/builtin.ts";
import type { PaletteOptions, PaletteScope } from "../palette/apply.ts";
import { MAX_COLORS, type Palette, parseHex } from "../palette/palette.ts";
import { DITHERS } from "../palette/quantize.ts";
import { type PaletteSpec, parsePaletteSpec, resolvePaletteSpec } from "../palette/spec.ts";
import { UserError } from "./errors.ts";
import { choiceOption } from "./options.ts";

/** The parseArgs entries of the palette options. */
export const PALETTE_ARGS = {
  palette: { type: "string" },
  "palette-scope": { type: "string" },
  dither: { type: "string" },
  outline: { type: "string" },
  despeckle: { type: "boolean" },
  "list-palettes": { type: "boolean" },
} as const;

export const PALETTE_HELP =
  `  --palette SPEC       limit colours to a palette: a built-in name (see --list-palettes),
                       dataset (the training data's colours, stored with the weights),
                       auto:K (K colours by k-means), or a .hex/.gpl/.pal/.png file;
                       sprites are then written as indexed PNGs with .gpl and .hex beside
  --palette-scope S    sprite (default: auto:K per sprite) or batch (one palette shared)
  --dither D           none (default), bayer4, bayer8 or floyd
  --outline COLOR      1-pixel outline around each sprite: RRGGBB, or auto (darkest colour)
  --despeckle          replace orphan pixels by their neighbours' majority colour
  --list-palettes      print the palettes and exit`;

export interface PaletteValues {
  palette?: string;
  "palette-scope"?: string;
  dither?: string;
  outline?: string;
  despeckle?: boolean;
}

/** The checked options, the palette spec still unresolved (`dataset` needs the weights). */
export interface ParsedPaletteOptions extends Omit<PaletteOptions, "palette"> {
  spec?: PaletteSpec;
}

export function parsePaletteOptions(values: PaletteValues): ParsedPaletteOptions {
  const spec = values.palette === undefined ? undefined : parsePaletteSpec(values.palette);
  const scope = choiceOption<PaletteScope>("palette-scope", values["palette-scope"], [
    "sprite",
    "batch",
  ], "sprite");
  if (values["palette-scope"] !== undefined && spec?.kind !== "auto") {
    throw new UserError("--palette-scope applies to --palette auto:K; add it or drop the scope");
  }
  const dither = choiceOption("dither", values.dither, DITHERS, "none");
  if (values.dither !== undefined && !spec) {
    throw new UserError("--dither needs --palette (it chooses between palette colours)");
  }
  let outline: PaletteOptions["outline"];
  if (values.outline === "auto") outline = "auto";
  else if (values.outline !== undefined) {
    outline = parseHex(values.outline);
    if (!outline) {
      throw new UserError(`--outline takes a colour RRGGBB or auto, not '${values.outline}'`);
    }
  }
  return { spec, scope, dither, outline, despeckle: values.despeckle ?? false };
}

/** The options with the palette resolved (a palette file is read here). */
export async function resolvePaletteOptions(
  parsed: ParsedPaletteOptions,
  weights: { palette?: Palette; source: string },
  seed: number,
): Promise<PaletteOptions> {
  const { spec, ...rest } = parsed;
  return {
    ...rest,
    seed,
    ...(spec && { palette: await resolvePaletteSpec(spec, weights) }),
  };
}

/** `--list-palettes`: every choice with its colour count. */
export function listPalettes(datasetPalette: Palette | undefined): string {
  const rows = [...BUILTIN_PALETTES.values()].map((p) => `${p.name}\t${p.colors.length}`);
  rows.push(
    `dataset\t${datasetPalette ? datasetPalette.colors.length : "-\t(these weights carry none)"}`,
    `auto:K\tK\t(k-means, 2–${MAX_COLORS})`,
    `FILE\t\t(.hex, .gpl, .pal or .png)`,
  );
  return rows.join("\n");
}
