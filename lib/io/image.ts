/**
 * The in-memory picture every output path shares: 8-bit RGBA, row-major.
 * Model tensors ([C,H,W] in [−1, 1], C = 3 or 4) convert here once.
 */

export interface RgbaImage {
  width: number;
  height: number;
  /** width·height·4 bytes, RGBA, rows top to bottom. */
  data: Uint8Array;
}

/** Converts one [C,H,W] sample in [−1,1] (C = 3 opaque RGB, or 4 RGBA) to an image. */
export function imageFromTensor(
  values: ArrayLike<number>,
  channels: number,
  height: number,
  width: number,
  offset = 0,
): RgbaImage {
  if (channels !== 3 && channels !== 4) {
    throw new RangeError(`images have 3 or 4 channels, not ${channels}`);
  }
  const plane = height * width;
  const data = new Uint8Array(plane * 4);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 4; c++) {
      const v = c < channels ? values[offset + c * plane + i] : 1;
      data[i * 4 + c] = Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5);
    }
  }
  return { width, height, data };
}

/**
 * Images back to one [N, C, H, W] tensor in [−1, 1] (the inverse of {@link imageFromTensor}
 * up to its 8-bit rounding); C = 3 drops alpha.
 */
export function tensorFromImages(images: readonly RgbaImage[], channels: number): Float32Array {
  if (channels !== 3 && channels !== 4) {
    throw new RangeError(`images have 3 or 4 channels, not ${channels}`);
  }
  const plane = images.length ? images[0].width * images[0].height : 0;
  const out = new Float32Array(images.length * channels * plane);
  images.forEach((image, n) => {
    for (let c = 0; c < channels; c++) {
      const base = (n * channels + c) * plane;
      for (let i = 0; i < plane; i++) out[base + i] = image.data[i * 4 + c] / 127.5 - 1;
    }
  });
  return out;
}

/**
 * Hard-edged transparency, as pixel-art sprites have it: alpha ≥ 128 becomes opaque, the rest
 * fully transparent with its colour zeroed (so no stray colour hides in invisible pixels).
 * A model's alpha is continuous; without this its sprites keep a faint half-transparent fringe.
 */
export function snapAlpha(image: RgbaImage): RgbaImage {
  const data = image.data.slice();
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] >= 128) data[i] = 255;
    else data.fill(0, i - 3, i + 1);
  }
  return { ...image, data };
}
