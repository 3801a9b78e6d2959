/**
 * The original project's format: `sprites.npy` (N×H×W×3 or ×4, uint8, or
 * floats in [0, 1]) with `sprites_labels.npy` beside it (one-hot N×K, or
 * integers N; −1 = unlabelled).
 */

import { basename, dirname, extname } from "node:path";
import { DatasetError } from "./errors.ts";
import { type NpyArray, parseNpy } from "../io/npy.ts";
import type { LoadOptions, SpriteDataset } from "./dataset.ts";
import { buildDataset } from "./pixels.ts";

/** The course dataset's class names, used when a `.npy` pair has its five classes. */
export const ORIGINAL_CLASS_NAMES = [
  "Characters",
  "Monsters / Creatures",
  "Fruits / Food",
  "Equipment / Armor",
  "Fighters / Player Classes",
];

async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new DatasetError(`${path}: cannot read (${err instanceof Error ? err.message : err})`);
  }
  try {
    return parseNpy(bytes, path);
  } catch (err) {
    throw new DatasetError(err instanceof Error ? err.message : String(err));
  }
}

const shapeText = (shape: number[]) => `(${shape.join(", ")})`;

/** `<stem>_labels.npy` beside the images, else the one other `*labels*.npy` there. */
async function findLabels(path: string): Promise<string | undefined> {
  const dir = dirname(path);
  const sibling = `${dir}/${basename(path, extname(path))}_labels.npy`;
  if (await Deno.stat(sibling).then(() => true, () => false)) return sibling;
  const candidates: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const name = entry.name;
    if (entry.isFile && name.toLowerCase().endsWith(".npy") && name.includes("labels")) {
      if (`${dir}/${name}` !== path) candidates.push(`${dir}/${name}`);
    }
  }
  if (candidates.length > 1) {
    throw new DatasetError(
      `${path}: several label files beside it (${
        candidates.sort().join(", ")
      }); choose one with --labels`,
    );
  }
  return candidates[0];
}

/** Class per sprite from one-hot rows (N×K) or integers (N or N×1), and the class names. */
async function readLabels(
  path: string,
  count: number,
): Promise<{ labels: Int32Array<ArrayBuffer>; classNames: string[] }> {
  const { shape, data } = await readNpy(path);
  if (shape.length < 1 || shape.length > 2 || shape[0] !== count) {
    throw new DatasetError(
      `${path}: labels of shape ${
        shapeText(shape)
      } do not match ${count} images; expected (${count},) integers or (${count}, K) one-hot`,
    );
  }
  const labels = new Int32Array(count);
  const oneHot = shape.length === 2 && shape[1] > 1;
  const classes = oneHot ? shape[1] : 1;
  for (let i = 0; i < count; i++) {
    if (!oneHot) {
      const label = data[i];
      if (!Number.isInteger(label) || label < -1) {
        throw new DatasetError(
          `${path}: label ${label} of sprite ${i} is not a class index (or -1)`,
        );
      }
      labels[i] = label;
      continue;
    }
    let hot = -1;
    for (let k = 0; k < classes; k++) {
      const v = data[i * classes + k];
      if (v === 1 && hot === -1) hot = k;
      else if (v !== 0) hot = -2;
    }
    if (hot < 0) {
      throw new DatasetError(`${path}: row ${i} is not one-hot (exactly one 1, the rest 0)`);
    }
    labels[i] = hot;
  }
  const k = oneHot ? classes : labels.reduce((m, l) => Math.max(m, l + 1), 0);
  const classNames = k === ORIGINAL_CLASS_NAMES.length
    ? [...ORIGINAL_CLASS_NAMES]
    : Array.from({ length: k }, (_, c) => `class ${c}`);
  return { labels, classNames };
}

export async function loadNpyDataset(path: string, opts: LoadOptions): Promise<SpriteDataset> {
  const { shape, dtype, data } = await readNpy(path);
  const channels = shape[3];
  if (shape.length !== 4 || (channels !== 3 && channels !== 4) || !(shape[1] * shape[2] > 0)) {
    throw new DatasetError(
      `${path}: images of shape ${
        shapeText(shape)
      }; expected N×H×W×3 (RGB) or N×H×W×4 (RGBA), channels last`,
    );
  }
  const kind = dtype.slice(1);
  if (kind !== "u1" && kind !== "f4" && kind !== "f8") {
    throw new DatasetError(
      `${path}: images of dtype '${dtype}'; expected uint8, or float32/float64 in [0, 1]`,
    );
  }
  if (kind !== "u1") {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (!(v >= 0 && v <= 1)) {
        throw new DatasetError(
          `${path}: float image value ${v} at element ${i} is outside [0, 1]; save uint8, or floats scaled to [0, 1]`,
        );
      }
    }
  }
  const count = shape[0];
  const labelsPath = opts.labels ?? await findLabels(path);
  const { labels, classNames } = labelsPath === undefined
    ? { labels: new Int32Array(count).fill(-1), classNames: [] }
    : await readLabels(labelsPath, count);
  const pixels = {
    data,
    count,
    height: shape[1],
    width: shape[2],
    channels: channels as 3 | 4,
    scale: kind === "u1" ? 1 / 255 : 1,
  };
  return buildDataset(pixels, labels, classNames, path, opts);
}
