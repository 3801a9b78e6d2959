/**
 * The files a generation is delivered as, named and drawn in one place: `sample`
 * writes them to a folder and `serve` offers them for download, so the same seed
 * and options give the same names and the same bytes from either.
 *
 * Per sprite a native-size PNG and an upscaled one; the batch as a sheet with its
 * JSON description (Aseprite's json-array format); with a palette, indexed PNGs
 * and the palette as .gpl and .hex (one shared file, or one per sprite); and the
 * fade-in GIF.
 */

import type { RgbaImage } from "../io/image.ts";
import { encodeIndexedPng } from "../io/indexed_png.ts";
import { encodeGif, encodePng } from "../io/png.ts";
import { composeSheet, repeat3x3, sheetLayout, upscaleNearest } from "../io/sheet.ts";
import { sheetJson } from "../io/sheet_json.ts";
import { formatGplPalette, formatHexPalette } from "../palette/files.ts";
import { hexOf, makePalette, MAX_COLORS, type Palette } from "../palette/palette.ts";
import { spriteStem } from "./names.ts";

/** The sheet: sprites at 4× with transparent 2-px gaps. */
const SHEET = { scale: 4, gap: 2 };
/** A fade-in frame: sprites at 4× with 1-px gaps, over the checkerboard (GIF has no partial alpha). */
const FADE_FRAME = { scale: 4, gap: 1, checker: true };
const FADE_DELAY_MS = 150;

/** A finished generation, everything its files are drawn from. */
export interface GenerationOutput {
  /** Each sprite's class name ("unconditional" for the null class). */
  labels: readonly string[];
  seed: number;
  /** The NEAREST upscale of the large PNGs. */
  scale: number;
  images: readonly RgbaImage[];
  /** The palette each sprite was mapped onto (undefined without a palette). */
  palettes: readonly (Palette | undefined)[];
  /** The raw x0 preview of every preview step before the last: the GIF's fade-in. */
  previews: readonly (readonly RgbaImage[])[];
  /** Seamless tiles: each sprite also gets a 3×3 repeat, to see that it wraps. */
  tiled?: boolean;
}

/** One file: a sprite (native or upscaled), a palette file, or the whole batch. */
export type GenerationFile =
  | { name: string; kind: "sprite" | "upscaled" | "tile3x3"; sprite: number }
  /** `sprite`: the sprite whose own palette it is, null for the palette the batch shares. */
  | { name: string; kind: "gpl" | "hex"; palette: Palette; sprite: number | null }
  | { name: string; kind: "sheet" | "sheet-json" | "gif" };

/** The palette every sprite shares, if they share one. */
function sharedPalette(palettes: readonly (Palette | undefined)[]): Palette | undefined {
  return palettes[0] && palettes.every((p) => p === palettes[0]) ? palettes[0] : undefined;
}

/** The sheet's palette: all sprites' colours, when they and the transparent entry fit in 256. */
function sheetPalette(palettes: readonly (Palette | undefined)[]): Palette | undefined {
  const colors = new Map(palettes.flatMap((p) => p?.colors ?? []).map((c) => [hexOf(c), c]));
  return palettes[0] !== undefined && colors.size < MAX_COLORS
    ? makePalette("sheet", colors.values())
    : undefined;
}

/**
 * The files of `out` in the order `sample` writes them: per sprite `<class>-s<seed>-<i>.png`,
 * `…-x<scale>.png` (and its palette's .gpl/.hex when sprites have palettes of their own), a shared
 * palette as `palette-s<seed>.gpl/.hex`, `sheet-s<seed>.png` and `.json`, and `fadein-s<seed>.gif`
 * if `gif`.
 */
export function generationFiles(out: GenerationOutput, gif: boolean): GenerationFile[] {
  const shared = sharedPalette(out.palettes);
  const paletteFiles = (
    stem: string,
    palette: Palette,
    sprite: number | null,
  ): GenerationFile[] => [
    { name: `${stem}.gpl`, kind: "gpl", palette, sprite },
    { name: `${stem}.hex`, kind: "hex", palette, sprite },
  ];
  const files = out.images.flatMap((_, i): GenerationFile[] => {
    const stem = spriteStem(out.labels[i], out.seed, i);
    const own = out.palettes[i];
    return [
      { name: `${stem}.png`, kind: "sprite", sprite: i },
      { name: `${stem}-x${out.scale}.png`, kind: "upscaled", sprite: i },
      ...(out.tiled
        ? [{ name: `${stem}-tile3x3-x${out.scale}.png`, kind: "tile3x3" as const, sprite: i }]
        : []),
      ...(own && !shared ? paletteFiles(stem, own, i) : []),
    ];
  });
  if (shared) files.push(...paletteFiles(`palette-s${out.seed}`, shared, null));
  files.push(
    { name: `sheet-s${out.seed}.png`, kind: "sheet" },
    { name: `sheet-s${out.seed}.json`, kind: "sheet-json" },
  );
  if (gif) files.push({ name: `fadein-s${out.seed}.gif`, kind: "gif" });
  return files;
}

/** One fade-in frame of the GIF from a preview's sprites. */
const fadeFrame = (sprites: readonly RgbaImage[]): RgbaImage =>
  composeSheet([[...sprites]], FADE_FRAME);

/** A PNG: indexed on `palette` when there is one. */
const png = (image: RgbaImage, palette: Palette | undefined) =>
  palette ? Promise.resolve(encodeIndexedPng(image, palette.colors)) : encodePng(image);

const text = (s: string) => new TextEncoder().encode(s);

/**
 * The bytes of `file`. The sheet's JSON names the sprites and the sheet; `written` maps each
 * file's name to the name it was written under (`sample` picks a new name rather than overwrite).
 */
export function encodeGenerationFile(
  file: GenerationFile,
  out: GenerationOutput,
  written: (name: string) => string = (name) => name,
): Promise<Uint8Array> {
  const { images, palettes, seed } = out;
  switch (file.kind) {
    case "sprite":
      return png(images[file.sprite], palettes[file.sprite]);
    case "upscaled":
      return png(upscaleNearest(images[file.sprite], out.scale), palettes[file.sprite]);
    case "tile3x3":
      return png(upscaleNearest(repeat3x3(images[file.sprite]), out.scale), palettes[file.sprite]);
    case "gpl":
      return Promise.resolve(text(formatGplPalette(file.palette)));
    case "hex":
      return Promise.resolve(text(formatHexPalette(file.palette)));
    case "sheet":
      return png(composeSheet([[...images]], { ...SHEET, checker: false }), sheetPalette(palettes));
    case "sheet-json": {
      const layout = sheetLayout([images.length], images[0], SHEET);
      const frames = layout.tiles.map((tile, i) => ({
        filename: written(`${spriteStem(out.labels[i], out.seed, i)}.png`),
        ...tile,
        class: out.labels[i],
        seed,
      }));
      return Promise.resolve(text(sheetJson(frames, {
        image: written(`sheet-s${seed}.png`),
        width: layout.width,
        height: layout.height,
        format: sheetPalette(palettes) ? "I8" : "RGBA8888",
      })));
    }
    case "gif": {
      // The finished sprites as written end the animation, held twice as long.
      const last = fadeFrame(images);
      return encodeGif([...out.previews.map(fadeFrame), last, last], FADE_DELAY_MS);
    }
  }
}
