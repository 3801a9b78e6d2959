/**
 * The files a generation is delivered as, named and drawn in one place: `sample`
 * writes them to a folder and `serve` offers them for download, so the same seed
 * and options give the same names and the same bytes from either.
 */

import type { RgbaImage } from "../io/image.ts";
import { encodeGif, encodePng } from "../io/png.ts";
import { composeSheet, upscaleNearest } from "../io/sheet.ts";

/** The sheet: sprites at 4× with transparent 2-px gaps. */
const SHEET = { scale: 4, gap: 2, checker: false };
/** A fade-in frame: sprites at 4× with 1-px gaps, over the checkerboard (GIF has no partial alpha). */
const FADE_FRAME = { scale: 4, gap: 1, checker: true };
const FADE_DELAY_MS = 150;

/** One file: a sprite (native or upscaled, with its index) or the whole batch (sheet, GIF). */
export type GenerationFile =
  | { name: string; kind: "sprite" | "upscaled"; sprite: number }
  | { name: string; kind: "sheet" | "gif" };

/** What the files are drawn from: the finished sprites and, for the GIF, the fade-in previews. */
export interface GenerationImages {
  images: readonly RgbaImage[];
  /** The raw x0 preview of every preview step before the last. */
  previews: readonly (readonly RgbaImage[])[];
  scale: number;
}

/** A file-name-safe form of a class name. */
const slug = (name: string) =>
  name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "class";

/**
 * The files of a generation in the order `sample` writes them: per sprite `<class>-s<seed>-<i>.png`
 * (native size) and `…-x<scale>.png`, then `sheet-s<seed>.png`, then `fadein-s<seed>.gif` if `gif`.
 */
export function generationFiles(
  labels: readonly string[],
  seed: number,
  scale: number,
  gif: boolean,
): GenerationFile[] {
  const sprites = labels.flatMap((label, i): GenerationFile[] => {
    const stem = `${slug(label)}-s${seed}-${i}`;
    return [
      { name: `${stem}.png`, kind: "sprite", sprite: i },
      { name: `${stem}-x${scale}.png`, kind: "upscaled", sprite: i },
    ];
  });
  const sheet: GenerationFile = { name: `sheet-s${seed}.png`, kind: "sheet" };
  const fade: GenerationFile[] = gif ? [{ name: `fadein-s${seed}.gif`, kind: "gif" }] : [];
  return [...sprites, sheet, ...fade];
}

/** One fade-in frame of the GIF from a preview's sprites. */
export const fadeFrame = (sprites: readonly RgbaImage[]): RgbaImage =>
  composeSheet([[...sprites]], FADE_FRAME);

/** The bytes of `file`. */
export function encodeGenerationFile(
  file: GenerationFile,
  { images, previews, scale }: GenerationImages,
): Promise<Uint8Array> {
  switch (file.kind) {
    case "sprite":
      return encodePng(images[file.sprite]);
    case "upscaled":
      return encodePng(upscaleNearest(images[file.sprite], scale));
    case "sheet":
      return encodePng(composeSheet([[...images]], SHEET));
    case "gif": {
      // The finished sprites as written end the animation, held twice as long.
      const last = fadeFrame(images);
      return encodeGif([...previews.map(fadeFrame), last, last], FADE_DELAY_MS);
    }
  }
}
