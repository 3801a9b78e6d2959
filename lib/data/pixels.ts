/**
 * The one conversion every loader ends in: channel-last pixels of any size
 * (8-bit RGBA images, or the rows of a `.npy` array) to the NCHW [−1, 1]
 * tensor of a {@link SpriteDataset}, NEAREST-resized and with the requested
 * channels. Also the checks all loaders share (labels in range, no empty class).
 */

import { DatasetError } from "./errors.ts";
import type { RgbaImage } from "../io/image.ts";
import type { LoadOptions, SpriteDataset } from "./dataset.ts";

export const DEFAULT_SIZE = 16;

/** Channel-last pixels of `count` equally sized sprites, values in [0, 1] after `scale`. */
export interface PixelArray {
  data: ArrayLike<number>;
  count: number;
  height: number;
  width: number;
  channels: 3 | 4;
  /** Multiplies raw values into [0, 1] (1/255 for 8-bit data). */
  scale: number;
}

/** Some sprites, each its own pixel array (images may differ in size), or one array of all. */
export type Sprites = PixelArray | RgbaImage[];

function isArray(sprites: Sprites): sprites is PixelArray {
  return !Array.isArray(sprites);
}

export const isOpaque = (img: RgbaImage): boolean => {
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) return false;
  return true;
};

/**
 * Builds the dataset. Four channels keep alpha; three from RGBA composite over
 * black (premultiply), which is how the game draws its tiles. Resizing is
 * NEAREST with PyTorch's index rule: source = floor(dest · in / out).
 */
export function buildDataset(
  sprites: Sprites,
  labels: Int32Array<ArrayBuffer>,
  classNames: string[],
  source: string,
  opts: LoadOptions,
): SpriteDataset {
  const count = isArray(sprites) ? sprites.count : sprites.length;
  if (count === 0) throw new DatasetError(`${source}: no sprites`);
  if (labels.length !== count) {
    throw new DatasetError(`${source}: ${count} images but ${labels.length} labels`);
  }
  checkLabels(labels, classNames, source);
  const size = opts.size ?? DEFAULT_SIZE;
  const channels = opts.channels ??
    (isArray(sprites) ? sprites.channels : sprites.every(isOpaque) ? 3 : 4);
  const plane = size * size;
  const images = new Float32Array(count * channels * plane);
  const srcY = new Int32Array(size);
  const srcX = new Int32Array(size);
  for (let i = 0; i < count; i++) {
    const p: PixelArray = isArray(sprites) ? sprites : {
      data: sprites[i].data,
      count: 1,
      height: sprites[i].height,
      width: sprites[i].width,
      channels: 4,
      scale: 1 / 255,
    };
    const base = isArray(sprites) ? i * p.height * p.width * p.channels : 0;
    for (let y = 0; y < size; y++) srcY[y] = Math.floor((y * p.height) / size);
    for (let x = 0; x < size; x++) srcX[x] = Math.floor((x * p.width) / size);
    const out = i * channels * plane;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const at = base + (srcY[y] * p.width + srcX[x]) * p.channels;
        const alpha = p.channels === 4 ? p.data[at + 3] * p.scale : 1;
        // Over black when alpha is dropped; untouched otherwise.
        const keep = channels === 3 ? alpha : 1;
        const o = out + y * size + x;
        for (let c = 0; c < 3; c++) images[o + c * plane] = p.data[at + c] * p.scale * keep * 2 - 1;
        if (channels === 4) images[o + 3 * plane] = alpha * 2 - 1;
      }
    }
  }
  return { images, labels, count, channels, size, classNames, source };
}

/** Labels are −1 or a class index, and every class has at least one sprite. */
function checkLabels(labels: Int32Array, classNames: string[], source: string): void {
  const seen = new Array<boolean>(classNames.length).fill(false);
  labels.forEach((label, i) => {
    if (label < -1 || label >= classNames.length) {
      throw new DatasetError(
        `${source}: label ${label} of sprite ${i} is outside the ${classNames.length} classes (0…${
          classNames.length - 1
        }, or −1 for unlabelled)`,
      );
    }
    if (label >= 0) seen[label] = true;
  });
  const empty = seen.indexOf(false);
  if (empty >= 0) {
    throw new DatasetError(
      `${source}: class ${empty} '${classNames[empty]}' has no sprites; remove it or add sprites`,
    );
  }
}
