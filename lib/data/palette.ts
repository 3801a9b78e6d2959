/**
 * The `dataset` palette: the distinct opaque colours of a training set, stored with the weights
 * that `train` writes (metadata key `palette`), so `--palette dataset` maps samples back onto the
 * colours the model learnt from. Only when there are at most 256 (an indexed PNG's limit); the
 * default dataset has 245.
 */

import type { SpriteDataset } from "./dataset.ts";
import {
  byLightness,
  keyOf,
  makePalette,
  MAX_COLORS,
  type Palette,
  type Rgb,
} from "../palette/palette.ts";

/** The dataset's distinct opaque colours, dark to light; undefined when more than 256. */
export function datasetPalette(ds: SpriteDataset): Palette | undefined {
  const plane = ds.size * ds.size;
  const byte = (v: number) => Math.round((v + 1) * 127.5);
  const seen = new Set<number>();
  const colors: Rgb[] = [];
  for (let n = 0; n < ds.count; n++) {
    const base = n * ds.channels * plane;
    for (let p = 0; p < plane; p++) {
      // Three-channel data is opaque everywhere (transparency was composited over black).
      if (ds.channels === 4 && byte(ds.images[base + 3 * plane + p]) < 128) continue;
      const rgb: Rgb = [0, 1, 2].map((c) => byte(ds.images[base + c * plane + p])) as [
        number,
        number,
        number,
      ];
      const key = keyOf(...rgb);
      if (seen.has(key)) continue;
      seen.add(key);
      colors.push(rgb);
      if (colors.length > MAX_COLORS) return undefined;
    }
  }
  return makePalette("dataset", byLightness(colors));
}
