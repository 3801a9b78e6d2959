/**
 * The in-memory sprite dataset every loader returns, and `loadDataset`, which
 * picks the loader from what the path is: a `.npy` image array, a sprite sheet
 * `.png`, a folder with a `labels.json` manifest (the default dataset's form),
 * or a folder of class subfolders of PNGs.
 */

import { extname, resolve } from "node:path";
import { DatasetError } from "./errors.ts";
import { loadClassFolders } from "./folder.ts";
import { loadNpyDataset } from "./npy_source.ts";
import { DEFAULT_DATASET, loadDefaultDataset } from "./default.ts";
import { loadManifestFolder, loadSheetDataset } from "./sheet.ts";

export interface SpriteDataset {
  /** count × channels × size × size, NCHW, scaled to [−1, 1]. */
  images: Float32Array<ArrayBuffer>;
  /** One per sprite: a class index, or −1 = unlabelled (trains only the null class). */
  labels: Int32Array<ArrayBuffer>;
  count: number;
  channels: 3 | 4;
  /** Side of every sprite (NEAREST-resized to this when the source differs). */
  size: number;
  classNames: string[];
  /** The path it came from. */
  source: string;
}

export interface LoadOptions {
  /** Sprite side after loading; default 16. */
  size?: number;
  /**
   * 3 = RGB (transparent pixels composited over black), 4 = RGBA. Default: what
   * the source has (PNGs: 4 when any pixel is not fully opaque, else 3).
   */
  channels?: 3 | 4;
  /** Tile side of a sprite sheet PNG; default: the manifest's `tile`, else `size`. */
  tile?: number;
  /** Labels file: a `.npy` for a `.npy` image array, a JSON for a sheet. */
  labels?: string;
}

/** The committed default dataset (Adam Bolt's Angband tiles; see data/angband/). */
export { DEFAULT_DATASET };

export async function loadDataset(path: string, opts: LoadOptions = {}): Promise<SpriteDataset> {
  if (opts.size !== undefined && !(Number.isInteger(opts.size) && opts.size >= 1)) {
    throw new DatasetError(`sprite size must be a positive integer, not ${opts.size}`);
  }
  // The default dataset comes from bytes built into the program, so it loads
  // the same from a source checkout and from a `deno compile` binary.
  if (resolve(path) === DEFAULT_DATASET) return loadDefaultDataset(opts);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot read (${err instanceof Error ? err.message : err})`);
  }
  if (info.isDirectory) {
    if (opts.labels !== undefined) {
      throw new DatasetError(`${path}: --labels applies to a .npy or sheet .png, not to a folder`);
    }
    const manifest = await Deno.stat(`${path}/labels.json`).then(() => true, () => false);
    return manifest ? loadManifestFolder(path, opts) : loadClassFolders(path, opts);
  }
  switch (extname(path).toLowerCase()) {
    case ".npy":
      return loadNpyDataset(path, opts);
    case ".png":
      return loadSheetDataset(path, opts);
    default:
      throw new DatasetError(
        `${path}: not a dataset; give a .npy image array, a sprite sheet .png, or a folder`,
      );
  }
}

/** Sprites per class (index = class), and how many are unlabelled. */
export function classCounts(ds: SpriteDataset): { perClass: number[]; unlabelled: number } {
  const perClass = ds.classNames.map(() => 0);
  let unlabelled = 0;
  for (const label of ds.labels) {
    if (label < 0) unlabelled++;
    else perClass[label]++;
  }
  return { perClass, unlabelled };
}

/**
 * SHA-256 (hex) identifying a dataset's content: the hash of the hashes of its
 * shape and class names, its images (f32 bytes) and its labels (i32 bytes).
 * Hashing the parts separately avoids copying a large image array.
 */
export async function datasetHash(ds: SpriteDataset): Promise<string> {
  const header = JSON.stringify({
    count: ds.count,
    channels: ds.channels,
    size: ds.size,
    classNames: ds.classNames,
  });
  const digest = (view: BufferSource) => crypto.subtle.digest("SHA-256", view);
  const parts = await Promise.all([
    digest(new TextEncoder().encode(header)),
    digest(ds.images),
    digest(ds.labels),
  ]);
  const joined = new Uint8Array(parts.length * 32);
  parts.forEach((p, i) => joined.set(new Uint8Array(p), i * 32));
  const hash = new Uint8Array(await digest(joined));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
