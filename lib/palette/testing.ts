/**
 * Pixel art as text for the clean-up and post-processing tests: one character per pixel, `.`
 * transparent, other characters from a key of RGBA colours. Test-only.
 */

import type { RgbaImage } from "../io/image.ts";

export type PixelKey = Record<string, readonly number[]>;

/** The image `rows` draw with `key`. */
export function draw(rows: string[], key: PixelKey): RgbaImage {
  const data = Uint8Array.from(rows.flatMap((row) => [...row].flatMap((ch) => key[ch])));
  return { width: rows[0].length, height: rows.length, data };
}

/** `img` as rows of key characters (`?` for a colour not in the key). */
export function asText(img: RgbaImage, key: PixelKey): string[] {
  const name = (i: number) =>
    Object.keys(key).find((k) => key[k].every((v, c) => img.data[i * 4 + c] === v)) ?? "?";
  return Array.from(
    { length: img.height },
    (_, y) => Array.from({ length: img.width }, (_, x) => name(y * img.width + x)).join(""),
  );
}
