/**
 * The one post-processing pipeline between the model's output and the sprites
 * users get. Every front end (sample, serve, training grids, eval's "as
 * delivered" scores) runs exactly this, so a sprite looks the same wherever it
 * is made: alpha snapped to opaque/transparent (unless `softAlpha`), then the
 * palette stage (lib/palette/apply.ts): palette mapping with optional dithering,
 * despeckle, outline.
 */

import { type RgbaImage, snapAlpha } from "../io/image.ts";
import { applyPalette, type PaletteOptions } from "../palette/apply.ts";
import type { Palette } from "../palette/palette.ts";

export interface PostOptions extends PaletteOptions {
  /** Keep the model's continuous alpha instead of snapping it to opaque/transparent. */
  softAlpha?: boolean;
}

export interface PostResult {
  images: RgbaImage[];
  /** The palette each sprite was mapped onto (undefined without `palette`). */
  palettes: (Palette | undefined)[];
}

/** Whether `post` does more than snap alpha (what eval scores beside the raw output). */
export const hasPaletteStage = (post: PostOptions): boolean =>
  post.palette !== undefined || post.despeckle === true || post.outline !== undefined;

/** Applies the pipeline to each sprite; the inputs are not modified. */
export function postProcessWithPalettes(
  images: readonly RgbaImage[],
  post: PostOptions = {},
): PostResult {
  const snapped = post.softAlpha ? [...images] : images.map(snapAlpha);
  if (!hasPaletteStage(post)) return { images: snapped, palettes: snapped.map(() => undefined) };
  return applyPalette(snapped, post);
}

/** {@link postProcessWithPalettes}, the sprites only. */
export function postProcess(images: readonly RgbaImage[], post: PostOptions = {}): RgbaImage[] {
  return postProcessWithPalettes(images, post).images;
}
