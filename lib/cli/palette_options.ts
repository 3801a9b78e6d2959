/**
 * The palette options `sample`, `train` (for its sample grids) and `eval` share: `--palette SPEC`,
 * `--palette-scope`, `--dither`, `--outline`, `--despeckle`, and `--list-palettes`. Parsed (and
 * checked) before any work, the palette itself resolved against the weights (for `dataset`).
 */

import { BUILTIN_PALETTES } from "../palette/builtin.ts";
import type { PaletteOptions, PaletteScope } from "../palette/apply.ts";
import { MAX_COLORS, type Palette, parseHex } from "../palette/palette.ts";
import { DITHERS } from "../palette/quantize.ts";
import { type PaletteSpec, parsePaletteSpec, resolvePaletteSpec } from "../palette/spec.ts";
import { UserError } from "./errors.ts";
import { InputError } from "../util/errors.ts";
import { choiceOption, type OptionValues, parseOptions } from "./options.ts";

/** The palette options, declared once for `sample`, `train` (its sample grids) and `eval`. */
export const PALETTE_OPTIONS = {
  palette: {
    value: "SPEC",
    help: "limit colours to a palette: a built-in name (see --list-palettes),\n" +
      "dataset (the training data's colours, stored with the weights), auto:K\n" +
      "(K colours by k-means), or a .hex/.gpl/.pal/.png palette file",
  },
  "palette-scope": {
    value: "sprite|batch",
    help: "auto:K palettes: one per sprite (default) or one shared by the batch",
  },
  dither: { value: DITHERS.join("|"), help: "dithering onto the palette (default none)" },
  outline: {
    value: "COLOR",
    help: "a 1-pixel outline around each sprite: RRGGBB, or auto (the darkest\n" +
      "palette colour)",
  },
  despeckle: { help: "orphan pixels take the colour most of their 8 neighbours share" },
} as const;

export const LIST_PALETTES_OPTION = {
  "list-palettes": { help: "print the palettes and exit" },
} as const;

export type PaletteValues = OptionValues<typeof PALETTE_OPTIONS>;

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
  if (values.despeckle && !spec) {
    // On unmapped colours no two pixels match exactly, so every edge pixel would count as an
    // orphan and the sprite would erode (measured: 93 % → 73 % class accuracy, weights/MODEL.md).
    throw new UserError("--despeckle needs --palette (it works on exact palette colours)");
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

/**
 * Eval's post-processing variants: `--variants "palette=dataset; palette=dataset despeckle"` is a
 * `;`-separated list, each part the palette options without their dashes (`name=value` or a
 * flag's name). Each must change something (a palette, despeckle or an outline).
 */
export function parseVariants(text: string): { label: string; options: ParsedPaletteOptions }[] {
  return text.split(";").map((part) => part.trim()).filter((part) => part !== "").map((label) => {
    try {
      const args = label.split(/\s+/).flatMap((token) => {
        const [name, ...value] = token.split("=");
        return value.length ? [`--${name}`, value.join("=")] : [`--${name}`];
      });
      const { values } = parseOptions("eval", args, PALETTE_OPTIONS);
      const options = parsePaletteOptions(values);
      if (!options.spec && !options.despeckle && !options.outline) {
        throw new UserError("it changes nothing; give palette=…, despeckle or outline=…");
      }
      return { label, options };
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      throw new UserError(`--variants '${label}': ${err.message}`);
    }
  });
}

/** The palette options given on a command line, as one variant in {@link parseVariants}' form. */
export function variantText(values: PaletteValues): string {
  return Object.keys(PALETTE_OPTIONS).flatMap((name) => {
    const value = values[name as keyof PaletteValues];
    return value === undefined ? [] : [typeof value === "string" ? `${name}=${value}` : name];
  }).join(" ");
}
