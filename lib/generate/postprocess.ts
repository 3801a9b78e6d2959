/**
 * The one post-processing pipeline between the model's output and the sprites
 * users get. Every front end (sample, serve, training grids, eval's "as
 * delivered" scores) runs exactly this, so a sprite looks the same wherever it
 * is made.
 */

import { type RgbaImage, snapAlpha } from "../io/image.ts";

export interface PostOptions {
  /** Keep the model's continuous alpha instead of snapping it to opaque/transparent. */
  softAlpha?: boolean;
}

/** Applies the pipeline to each sprite; the inputs are not modified. */
export function postProcess(images: readonly RgbaImage[], post: PostOptions = {}): RgbaImage[] {
  return images.map((image) => post.softAlpha ? image : snapAlpha(image));
}
