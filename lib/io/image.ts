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
