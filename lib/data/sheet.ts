/**
 * Sprite sheets: one PNG cut into square tiles in row-major order, with an
 * optional labels JSON. The default dataset is this too: a folder holding an
 * atlas PNG and its `labels.json` manifest, which names the image.
 *
 * Labels JSON: `{ "tile"?: n, "classNames": [...], "labels": [...], "image"?: "x.png" }`;
 * `labels[i]` is the class of tile i (−1 = unlabelled); tiles past the end of
 * `labels` must be empty. Fully transparent tiles are skipped, labelled or not.
 * Other keys (provenance) are ignored.
 */

import { basename, dirname, extname } from "node:path";
import { DatasetError } from "./errors.ts";
import type { RgbaImage } from "../io/image.ts";
import { decodePng } from "../io/png.ts";
import type { LoadOptions, SpriteDataset } from "./dataset.ts";
import { buildDataset, DEFAULT_SIZE } from "./pixels.ts";

export interface SheetLabels {
  /** The sheet beside a manifest (folder datasets); a file name, no directories. */
  image?: string;
  tile?: number;
  classNames: string[];
  labels: number[];
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot read (${err instanceof Error ? err.message : err})`);
  }
}

/** Reads and decodes a PNG; any failure is a {@link DatasetError} naming the file. */
export async function readPng(path: string): Promise<RgbaImage> {
  return decodeSprite(await readBytes(path), path);
}

async function decodeSprite(bytes: Uint8Array, source: string): Promise<RgbaImage> {
  try {
    return await decodePng(bytes, source);
  } catch (err) {
    throw new DatasetError(err instanceof Error ? err.message : String(err));
  }
}

/** Checks the shape of a labels JSON value; `source` names it in errors. */
export function parseSheetLabels(value: unknown, source: string): SheetLabels {
  const fail = (what: string): never => {
    throw new DatasetError(`${source}: ${what}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail('expected a JSON object with "classNames" and "labels"');
  }
  const { image, tile, classNames, labels } = value as Record<string, unknown>;
  if (!Array.isArray(classNames) || !classNames.every((n) => typeof n === "string" && n !== "")) {
    fail('"classNames" must be an array of non-empty strings');
  }
  if (!Array.isArray(labels) || !labels.every((l) => Number.isInteger(l))) {
    fail('"labels" must be an array of integers (class index, or -1 for unlabelled)');
  }
  if (tile !== undefined && !(Number.isInteger(tile) && (tile as number) >= 1)) {
    fail('"tile" must be a positive integer');
  }
  if (image !== undefined && (typeof image !== "string" || basename(image) !== image)) {
    fail('"image" must be the file name of a PNG beside this file');
  }
  return {
    image: image as string | undefined,
    tile: tile as number | undefined,
    classNames: classNames as string[],
    labels: labels as number[],
  };
}

async function readLabels(path: string): Promise<SheetLabels> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(await readBytes(path)));
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(`${path}: not valid JSON (${err instanceof Error ? err.message : err})`);
  }
  return parseSheetLabels(value, path);
}

const isEmptyTile = (sheet: RgbaImage, left: number, top: number, tile: number): boolean => {
  for (let y = top; y < top + tile; y++) {
    for (let x = left; x < left + tile; x++) {
      if (sheet.data[(y * sheet.width + x) * 4 + 3] !== 0) return false;
    }
  }
  return true;
};

/** Copies one tile out of a sheet. */
export function cutTile(sheet: RgbaImage, left: number, top: number, tile: number): RgbaImage {
  const data = new Uint8Array(tile * tile * 4);
  for (let y = 0; y < tile; y++) {
    const from = ((top + y) * sheet.width + left) * 4;
    data.set(sheet.data.subarray(from, from + tile * 4), y * tile * 4);
  }
  return { width: tile, height: tile, data };
}

/** A dataset from a decoded sheet and its labels (if any); `source` names the sheet. */
export function sheetDataset(
  sheet: RgbaImage,
  labels: SheetLabels | undefined,
  source: string,
  opts: LoadOptions,
): SpriteDataset {
  const tile = opts.tile ?? labels?.tile ?? opts.size ?? DEFAULT_SIZE;
  if (!(Number.isInteger(tile) && tile >= 1)) {
    throw new DatasetError(`tile size must be a positive integer, not ${tile}`);
  }
  if (sheet.width % tile !== 0 || sheet.height % tile !== 0) {
    throw new DatasetError(
      `${source}: ${sheet.width}×${sheet.height} is not divisible by the tile size ${tile}; pass the sheet's tile size with --tile`,
    );
  }
  const columns = sheet.width / tile;
  const tiles = columns * (sheet.height / tile);
  if (labels && labels.labels.length > tiles) {
    throw new DatasetError(
      `${source}: ${labels.labels.length} labels but the sheet has only ${tiles} tiles of ${tile}×${tile}`,
    );
  }
  const sprites: RgbaImage[] = [];
  const kept: number[] = [];
  for (let i = 0; i < tiles; i++) {
    const left = (i % columns) * tile;
    const top = Math.floor(i / columns) * tile;
    if (isEmptyTile(sheet, left, top, tile)) continue;
    if (labels && i >= labels.labels.length) {
      throw new DatasetError(
        `${source}: tile ${i} (row ${top / tile}, column ${
          left / tile
        }) is not empty but has no label; the labels cover ${labels.labels.length} tiles`,
      );
    }
    sprites.push(cutTile(sheet, left, top, tile));
    kept.push(labels ? labels.labels[i] : -1);
  }
  return buildDataset(sprites, Int32Array.from(kept), labels?.classNames ?? [], source, opts);
}

/**
 * A sheet PNG; labels from `opts.labels`, else from a sibling `<name>_labels.json`
 * when there is one (as `sprites_labels.npy` sits beside `sprites.npy`).
 */
export async function loadSheetDataset(path: string, opts: LoadOptions): Promise<SpriteDataset> {
  const sibling = `${dirname(path)}/${basename(path, extname(path))}_labels.json`;
  const labelsPath = opts.labels ??
    await Deno.stat(sibling).then(() => sibling, () => undefined);
  const labels = labelsPath === undefined ? undefined : await readLabels(labelsPath);
  return sheetDataset(await readPng(path), labels, path, opts);
}

/** A folder with a `labels.json` manifest that names its sheet (`"image"`). */
export async function loadManifestFolder(path: string, opts: LoadOptions): Promise<SpriteDataset> {
  const manifestPath = `${path}/labels.json`;
  const manifest = await readLabels(manifestPath);
  if (manifest.image === undefined) {
    throw new DatasetError(`${manifestPath}: no "image" naming the sheet PNG beside it`);
  }
  return sheetDataset(await readPng(`${path}/${manifest.image}`), manifest, path, opts);
}

/** The same from bytes already in memory (the default dataset built into the program). */
export async function manifestDataset(
  sheetBytes: Uint8Array,
  manifest: unknown,
  source: string,
  opts: LoadOptions,
): Promise<SpriteDataset> {
  const labels = parseSheetLabels(manifest, `${source}/labels.json`);
  return sheetDataset(await decodeSprite(sheetBytes, source), labels, source, opts);
}
