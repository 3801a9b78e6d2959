/**
 * Sprite clean-up after palette mapping, on exact colours:
 * - {@link outline}: a 1-pixel outline around the opaque region, the most common sprite
 *   convention: every transparent pixel with an opaque pixel directly above, below, left or right
 *   of it takes the outline colour (so 1-pixel holes inside a sprite are outlined too).
 * - {@link despeckle}: orphan pixels — a pixel whose colour (transparency counts as a colour)
 *   matches none of its 8 neighbours (fewer at the border) — take the colour most of their
 *   neighbours share, provided at least two share it; ties go to the first in reading order
 *   (NW, N, NE, W, E, SW, S, SE). One-pixel lines survive (a line pixel matches its line
 *   neighbours); isolated dots, the main visible artefact of raw samples, do not. All pixels are
 *   judged on the input, so the result does not depend on scan order.
 */

import type { RgbaImage } from "../io/image.ts";
import type { Rgb } from "./palette.ts";

const isOpaque = (data: Uint8Array, i: number) => data[i * 4 + 3] >= 128;

export function outline(image: RgbaImage, color: Rgb): RgbaImage {
  const { width, height, data: src } = image;
  const data = src.slice();
  const opaqueAt = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < width && y < height && isOpaque(src, y * width + x);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (opaqueAt(x, y)) continue;
      if (opaqueAt(x - 1, y) || opaqueAt(x + 1, y) || opaqueAt(x, y - 1) || opaqueAt(x, y + 1)) {
        data.set([...color, 255], (y * width + x) * 4);
      }
    }
  }
  return { width, height, data };
}

/** The 8 neighbour offsets in reading order. */
const NEIGHBOURS = [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]];

export function despeckle(image: RgbaImage): RgbaImage {
  const { width, height, data: src } = image;
  const data = src.slice();
  // One number per pixel: its RGB, or −1 for any transparent pixel.
  const key = (i: number) =>
    isOpaque(src, i) ? (src[i * 4] << 16) | (src[i * 4 + 1] << 8) | src[i * 4 + 2] : -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const own = key(y * width + x);
      const votes = new Map<number, { count: number; at: number }>();
      let orphan = true;
      for (const [dx, dy] of NEIGHBOURS) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const at = ny * width + nx;
        const k = key(at);
        if (k === own) {
          orphan = false;
          break;
        }
        const vote = votes.get(k);
        if (vote) vote.count++;
        else votes.set(k, { count: 1, at });
      }
      if (!orphan) continue;
      let best: { count: number; at: number } | undefined;
      for (const vote of votes.values()) if (!best || vote.count > best.count) best = vote;
      if (best && best.count >= 2) {
        const i = (y * width + x) * 4;
        data.set(src.subarray(best.at * 4, best.at * 4 + 4), i);
      }
    }
  }
  return { width, height, data };
}
