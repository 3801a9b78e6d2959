/**
 * Indexed-colour PNGs (colour type 3, 8 bits per pixel), written here because imagescript only
 * writes RGBA: a PLTE chunk with the palette, a tRNS chunk marking entry 0 as the transparent
 * colour, so pixel-art editors (Aseprite, LibreSprite, GIMP) open the sprite in indexed mode with
 * its palette. Chunks are length, type, data, CRC-32 (PNG spec, ISO/IEC 15948); image rows are
 * filter byte 0 followed by the indices, zlib-compressed.
 */

import { deflateSync } from "node:zlib";
import type { RgbaImage } from "./image.ts";

type Rgb = readonly [number, number, number];

/** CRC-32 (polynomial 0xEDB88320, reflected), as PNG chunks and zlib's crc32 use it. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * `image` (alpha exactly 0 or 255; every opaque pixel a colour of `palette`) as an indexed PNG.
 * Entry 0 is the transparent colour (black, alpha 0 in tRNS), then the palette in order. A
 * 256-colour palette leaves no room for it: then, if the image has transparent pixels, only the
 * colours it uses are written.
 */
export function encodeIndexedPng(image: RgbaImage, palette: readonly Rgb[]): Uint8Array {
  const { width, height, data } = image;
  const key = (i: number) => (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
  let hasTransparent = false;
  const used = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) hasTransparent = true;
    else if (data[i + 3] === 255) used.add(key(i));
    else throw new RangeError(`pixel ${i / 4} has alpha ${data[i + 3]}; snap alpha first`);
  }
  let colors = palette.map(([r, g, b]) => (r << 16) | (g << 8) | b);
  const withTransparent = colors.length < 256 || hasTransparent;
  if (withTransparent && colors.length >= 256) colors = colors.filter((c) => used.has(c));
  const entries = withTransparent ? [0, ...colors] : colors;
  if (entries.length > 256) {
    throw new RangeError(`${entries.length} palette entries; an indexed PNG holds 256`);
  }
  const indexOf = new Map<number, number>();
  const first = withTransparent ? 1 : 0;
  colors.forEach((c, j) => indexOf.has(c) || indexOf.set(c, first + j));

  const rows = new Uint8Array(height * (width + 1));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      let index = 0;
      if (data[i + 3] === 255) {
        const found = indexOf.get(key(i));
        if (found === undefined) {
          throw new RangeError(
            `pixel (${x}, ${y}) #${key(i).toString(16).padStart(6, "0")} is not in the palette`,
          );
        }
        index = found;
      }
      rows[y * (width + 1) + 1 + x] = index;
    }
  }

  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, 3, 0, 0, 0], 8); // bit depth 8, colour type 3, deflate, filter 0, no interlace
  const plte = new Uint8Array(entries.length * 3);
  entries.forEach((c, i) => plte.set([c >> 16, (c >> 8) & 255, c & 255], i * 3));
  const chunks = [
    chunk("IHDR", header),
    chunk("PLTE", plte),
    ...(withTransparent ? [chunk("tRNS", Uint8Array.of(0))] : []),
    chunk("IDAT", new Uint8Array(deflateSync(rows, { level: 9 }))),
    chunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(8 + chunks.reduce((n, c) => n + c.length, 0));
  out.set(SIGNATURE);
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 8);
  return out;
}
