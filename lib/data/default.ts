/**
 * The default dataset, built into the program: its atlas and manifest are
 * imported as bytes and JSON, so it loads without reading the source tree
 * (in a `deno compile` binary too). Rebuild it with `main.ts data build`.
 */

import { fileURLToPath } from "node:url";
import atlas from "../../data/angband/atlas.png" with { type: "bytes" };
import manifest from "../../data/angband/labels.json" with { type: "json" };
import type { LoadOptions, SpriteDataset } from "./dataset.ts";
import { manifestDataset } from "./sheet.ts";

/** Where the default dataset lives in the source tree (and what `source` says). */
export const DEFAULT_DATASET: string = fileURLToPath(
  new URL("../../data/angband", import.meta.url),
);

export function loadDefaultDataset(opts: LoadOptions = {}): Promise<SpriteDataset> {
  return manifestDataset(atlas, manifest, DEFAULT_DATASET, opts);
}
