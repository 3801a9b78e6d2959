/** PNG and GIF encoding/decoding through imagescript, on {@link RgbaImage}s. */

import { Frame, GIF, Image } from "imagescript";
import type { RgbaImage } from "./image.ts";

export async function decodePng(bytes: Uint8Array, source: string): Promise<RgbaImage> {
  const isPng = bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e &&
    bytes[3] === 0x47;
  if (!isPng) throw new Error(`${source}: not a PNG file`);
  let image: Image;
  try {
    image = await Image.decode(bytes) as Image;
  } catch (err) {
    throw new Error(`${source}: unreadable PNG (${err instanceof Error ? err.message : err})`);
  }
  return { width: image.width, height: image.height, data: new Uint8Array(image.bitmap) };
}

function toImage(img: RgbaImage): Image {
  const image = new Image(img.width, img.height);
  image.bitmap.set(img.data);
  return image;
}

/** PNG bytes that depend only on the pixels (no creation-time chunk), so outputs are reproducible. */
export async function encodePng(img: RgbaImage): Promise<Uint8Array> {
  return withoutTextChunks(await toImage(img).encode(1));
}

/** A PNG without its text chunks: the encoder stamps the creation time into one. */
function withoutTextChunks(png: Uint8Array): Uint8Array {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const kept: Uint8Array[] = [png.subarray(0, 8)];
  for (let at = 8; at < png.length;) {
    const end = at + 12 + view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (!["tEXt", "zTXt", "iTXt", "tIME"].includes(type)) kept.push(png.subarray(at, end));
    at = end;
  }
  const out = new Uint8Array(kept.reduce((n, c) => n + c.length, 0));
  kept.reduce((offset, c) => (out.set(c, offset), offset + c.length), 0);
  return out;
}

/** An animated GIF of equally sized frames, `delayMs` each, looping forever. */
export function encodeGif(frames: readonly RgbaImage[], delayMs: number): Promise<Uint8Array> {
  return new GIF(frames.map((f) => Frame.from(toImage(f), delayMs))).encode();
}

/**
 * The width and height a PNG's header declares, read without decoding it, or undefined when
 * `bytes` do not start like a PNG; lets a reader refuse an image too large to decode first.
 */
export function pngDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  // Signature (8 bytes), then the IHDR chunk: length (4), type (4), width (4), height (4).
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (bytes.length < 24 || ihdr !== "IHDR") return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
