/**
 * Fixture builders shared by the data tests: `.npy` files laid out as NumPy
 * writes them, and PNG files from pixel lists. Test-only; the product never
 * imports this module.
 */

import type { RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";

/** An `.npy` file: magic, version, header length, the dict padded to 64 bytes with '\n', payload. */
export function npyBytes(
  descr: string,
  shape: number[],
  payload: ArrayBufferView,
  { version = 1, fortran = false }: { version?: number; fortran?: boolean } = {},
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${
    fortran ? "True" : "False"
  }, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const padded = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1) + "\n";
  const header = new TextEncoder().encode(padded);
  const data = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(header, prefix);
  out.set(data, prefix + header.length);
  return out;
}

/** An image from RGBA pixels (row-major, `width` per row). */
export function rgba(width: number, height: number, pixels: number[][]): RgbaImage {
  if (pixels.length !== width * height) throw new RangeError("pixel count does not match the size");
  return { width, height, data: Uint8Array.from(pixels.flat()) };
}

export async function writePng(path: string, img: RgbaImage): Promise<void> {
  await Deno.writeFile(path, await encodePng(img));
}
