/**
 * Init and mask sprites for variations and inpainting, read one way wherever they come from:
 * `sample --init/--mask` reads a file, `serve` an uploaded PNG or a sprite it drew. Each becomes
 * a [channels, 16, 16] tensor in [−1, 1], converted as the training data is (RGB from RGBA over
 * black; NEAREST resizing only when asked for), so the same PNG gives the same bytes from either.
 *
 * Mask convention: a mask with any transparent pixel (alpha < 128) is an alpha mask, opaque =
 * generate; a fully opaque mask is read by brightness, white (mean RGB ≥ 127.5) = generate,
 * black = keep the init.
 */

import { buildDataset } from "../data/pixels.ts";
import type { RgbaImage } from "../io/image.ts";
import { decodePng, pngDimensions } from "../io/png.ts";
import { IMAGE_SIZE } from "../model/config.ts";
import { InputError } from "../util/errors.ts";

/** `image` as a [channels, 16, 16] tensor in [−1, 1], as the training data is converted. */
export function spriteTensor(image: RgbaImage, source: string, channels: 3 | 4): Float32Array {
  const opts = { size: IMAGE_SIZE, channels };
  return buildDataset([image], new Int32Array([-1]), [], source, opts).images;
}

export interface SpriteReading {
  channels: 3 | 4;
  /** Resize another size to 16×16 (NEAREST) instead of refusing it. */
  resize: boolean;
  /** How this front end asks for resizing, appended to the refusal of another size. */
  resizeHint: string;
  /** Refuse, before decoding, a PNG whose header declares a larger side (a small file can). */
  maxSide?: number;
}

/** The PNG `bytes` (named `source` in errors) as a sprite tensor; any refusal is an InputError. */
export async function spriteFromPng(
  bytes: Uint8Array,
  source: string,
  { channels, resize, resizeHint, maxSide }: SpriteReading,
): Promise<Float32Array> {
  const declared = pngDimensions(bytes);
  if (declared && maxSide !== undefined && Math.max(declared.width, declared.height) > maxSide) {
    throw new InputError(
      `${source} is ${declared.width}×${declared.height}; the most read is ${maxSide}×${maxSide}`,
    );
  }
  let image: RgbaImage;
  try {
    image = await decodePng(bytes, source);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  if ((image.width !== IMAGE_SIZE || image.height !== IMAGE_SIZE) && !resize) {
    throw new InputError(
      `${source} is ${image.width}×${image.height}, not ${IMAGE_SIZE}×${IMAGE_SIZE}; ${resizeHint}`,
    );
  }
  return spriteTensor(image, source, channels);
}

/** A [4, 16, 16] mask image in [−1, 1] as [16·16] weights, 1 = generate (see the top). */
export function maskFromImage(rgba: Float32Array): Float32Array {
  const plane = IMAGE_SIZE ** 2;
  const alpha = rgba.subarray(3 * plane);
  const alphaMask = alpha.some((a) => a < 0);
  return Float32Array.from({ length: plane }, (_, p) => {
    if (alphaMask) return alpha[p] >= 0 ? 1 : 0;
    return rgba[p] + rgba[plane + p] + rgba[2 * plane + p] >= 0 ? 1 : 0;
  });
}
