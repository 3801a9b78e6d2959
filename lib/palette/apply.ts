/**
 * The palette stage of post-processing, in its fixed order: map onto the palette (with the
 * chosen dither), despeckle, outline. `auto:K` palettes are fitted per sprite or once for the
 * whole batch (`scope`), deterministically from `seed`. Returns each sprite's palette too, which
 * its indexed PNG and `.gpl`/`.hex` files carry.
 */

import type { RgbaImage } from "../io/image.ts";
import { despeckle, outline } from "./cleanup.ts";
import { kmeansPalette, opaqueColorCounts } from "./kmeans.ts";
import { oklabFromRgb } from "./oklab.ts";
import { darkest, nearestIndex, type Palette, paletteLab, type Rgb } from "./palette.ts";
import { type Dither, quantize } from "./quantize.ts";
import type { PaletteChoice } from "./spec.ts";

export type PaletteScope = "sprite" | "batch";

export interface PaletteOptions {
  /** Absent: colours stay as they are (despeckle and outline still apply). */
  palette?: PaletteChoice;
  /** For `auto:K`: one palette per sprite (default) or one shared by the batch. */
  scope?: PaletteScope;
  dither?: Dither;
  /** A colour, or `auto`: the darkest palette colour (without a palette, the sprite's darkest). */
  outline?: Rgb | "auto";
  despeckle?: boolean;
  /** Seeds `auto:K`'s k-means; sprite i of a per-sprite run uses seed + i. */
  seed?: number;
}

export interface PaletteResult {
  images: RgbaImage[];
  /** The palette each sprite was mapped onto; undefined without a palette. */
  palettes: (Palette | undefined)[];
}

/** The palette for each sprite, fitting `auto:K` as `opts.scope` says. */
function palettesFor(images: readonly RgbaImage[], opts: PaletteOptions): (Palette | undefined)[] {
  const choice = opts.palette;
  if (!choice) return images.map(() => undefined);
  if ("fixed" in choice) return images.map(() => choice.fixed);
  const seed = opts.seed ?? 0;
  if (opts.scope === "batch") {
    const shared = kmeansPalette(images, choice.auto, seed);
    return images.map(() => shared);
  }
  return images.map((img, i) => kmeansPalette([img], choice.auto, (seed + i) >>> 0));
}

/** The palette colour nearest `color`, so an outline never leaves the palette. */
function inPalette(color: Rgb, palette: Palette): Rgb {
  return palette.colors[nearestIndex(paletteLab(palette), ...oklabFromRgb(...color))];
}

/** The darkest colour a sprite uses (black for a sprite with no opaque pixel). */
function darkestOf(image: RgbaImage): Rgb {
  const keys = [...opaqueColorCounts([image]).keys()];
  if (keys.length === 0) return [0, 0, 0];
  return darkest({ name: "", colors: keys.map((k) => [k >> 16, (k >> 8) & 255, k & 255]) });
}

export function applyPalette(images: readonly RgbaImage[], opts: PaletteOptions): PaletteResult {
  const palettes = palettesFor(images, opts);
  const out = images.map((img, i) => {
    const palette = palettes[i];
    let result = palette ? quantize(img, palette, opts.dither ?? "none") : img;
    if (opts.despeckle) result = despeckle(result);
    if (opts.outline) {
      const color = opts.outline === "auto"
        ? (palette && palette.colors.length ? darkest(palette) : darkestOf(result))
        : palette && palette.colors.length
        ? inPalette(opts.outline, palette)
        : opts.outline;
      result = outline(result, color);
    }
    return result;
  });
  return { images: out, palettes };
}
