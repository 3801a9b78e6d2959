/**
 * The description of a sprite sheet in the array form Aseprite writes with
 * `--format json-array`, which sprite-sheet loaders and game engines (Phaser, Godot importers,
 * LÖVE libraries …) read: `frames` in sheet order, each with `filename` and its `frame`
 * rectangle, and `meta` naming the image and its size. Each frame also carries the sprite's
 * `class` and `seed`; readers ignore keys they do not know.
 */

export interface SheetFrame {
  filename: string;
  x: number;
  y: number;
  w: number;
  h: number;
  class: string;
  seed: number;
}

export interface SheetMeta {
  /** The sheet image's file name (beside the JSON). */
  image: string;
  width: number;
  height: number;
  /** `RGBA8888` for an RGBA PNG, `I8` for an indexed one (Aseprite's names). */
  format: "RGBA8888" | "I8";
}

/** Aseprite's frame duration default (ms); these frames are sprites, not an animation. */
const DURATION_MS = 100;

export function sheetJson(frames: readonly SheetFrame[], meta: SheetMeta): string {
  const doc = {
    frames: frames.map((f) => ({
      filename: f.filename,
      frame: { x: f.x, y: f.y, w: f.w, h: f.h },
      rotated: false,
      trimmed: false,
      spriteSourceSize: { x: 0, y: 0, w: f.w, h: f.h },
      sourceSize: { w: f.w, h: f.h },
      duration: DURATION_MS,
      class: f.class,
      seed: f.seed,
    })),
    meta: {
      app: "pixel-diffusion",
      version: "1",
      image: meta.image,
      format: meta.format,
      size: { w: meta.width, h: meta.height },
      scale: "1",
    },
  };
  return JSON.stringify(doc, null, 1) + "\n";
}
