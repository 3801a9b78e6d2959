/**
 * `sample`'s creative-control options: variations (`--init PNG --strength S`, `--resize`),
 * inpainting (`--mask PNG`, `--resample R`), class mixing (`--class a:0.7,b:0.3`) and seamless
 * tiles (`--tile x|y|xy`). Everything is read and checked before any GPU work, so bad input
 * ends with one line and nothing written. The PNGs are read (and the mask convention
 * defined) in lib/generate/init_image.ts, which `serve` shares for uploads.
 */

import type { InitImage } from "../diffusion/known_image.ts";
import { type ClassMix, TILE_AXES, type TileAxes } from "../generate/generator.ts";
import { maskFromImage, spriteFromPng } from "../generate/init_image.ts";
import { InputError } from "../util/errors.ts";
import { UserError } from "./errors.ts";
import { choiceOption, numberOption, type OptionValues } from "./options.ts";
import { resolveClass } from "../generate/classes.ts";
import { GENERATE_DEFAULTS, GENERATE_RANGES, inRange } from "../generate/defaults.ts";

/** Strength of `--init` without `--strength`: a variation; inpainting starts from pure noise. */
const DEFAULT_STRENGTH = GENERATE_DEFAULTS.strength;

export const CREATIVE_OPTIONS = {
  init: {
    value: "PNG",
    help: "start from this 16×16 sprite (RGB or RGBA): variations, or inpainting\n" +
      "with --mask",
  },
  strength: {
    value: "S",
    help: `how far to move from --init, 0 < S ≤ 1 (default ${DEFAULT_STRENGTH}; with --mask 1;\n` +
      "1 = from pure noise, small values give close variants)",
  },
  resize: { help: "resize an --init or --mask of another size to 16×16 (NEAREST)" },
  mask: {
    value: "PNG",
    help: "inpainting: white (or opaque, in a mask with transparency) = generate,\n" +
      "black (or transparent) = keep --init's pixels exactly",
  },
  resample: {
    value: "R",
    help: `inpainting: R forward-backward jumps per step for coherent seams\n` +
      `(0–${GENERATE_RANGES.resample.max}, default 0; each costs one more model pass per step)`,
  },
  tile: {
    value: TILE_AXES.join("|"),
    help: "seamless tiles: the sprite wraps around along x, y or both; a 3×3\n" +
      "repeat is written beside each tile",
  },
} as const;

export type CreativeValues = OptionValues<typeof CREATIVE_OPTIONS>;

/**
 * `--class` as a plain class or a mix: `NAME|INDEX`, or `NAME:W,NAME:W…` (weights ≥ 0,
 * normalised; a bare name in a list weighs 1).
 */
export function parseClassChoice(
  text: string,
  classNames: readonly string[],
): number | ClassMix {
  if (!text.includes(",") && !text.includes(":")) return resolveClass(text, classNames);
  const mix = text.split(",").map((part): [number, number] => {
    const [name, weightText, extra] = part.split(":");
    if (extra !== undefined || name.trim() === "") {
      throw new UserError(`--class '${part}': write NAME:WEIGHT, e.g. monsters:0.7,food:0.3`);
    }
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!Number.isFinite(weight) || weight < 0 || weightText?.trim() === "") {
      throw new UserError(`--class '${part}': the weight must be a number ≥ 0`);
    }
    return [resolveClass(name, classNames), weight];
  });
  if (!(mix.reduce((a, [, w]) => a + w, 0) > 0)) {
    throw new UserError(`--class ${text}: the weights sum to 0; give at least one weight > 0`);
  }
  return { mix };
}

/** The PNG at `path` as a sprite tensor (see lib/generate/init_image.ts); refusals name `--option`. */
async function readSprite(
  path: string,
  option: string,
  channels: 3 | 4,
  resize: boolean,
): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new UserError(`--${option} ${path}: cannot read it (${(err as Error).message})`);
  }
  try {
    return await spriteFromPng(bytes, path, {
      channels,
      resize,
      resizeHint: "add --resize to resize it (NEAREST)",
    });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new UserError(`--${option} ${err.message}`);
  }
}

/** The init image request and tiling of the creative options, for a model of `channels`. */
export async function readCreativeOptions(
  values: CreativeValues,
  channels: 3 | 4,
): Promise<{ init?: InitImage; tile?: TileAxes }> {
  const tile = values.tile === undefined
    ? undefined
    : choiceOption("tile", values.tile, TILE_AXES, "xy");
  for (const option of ["strength", "mask", "resize", "resample"] as const) {
    if (values[option] !== undefined && values.init === undefined) {
      throw new UserError(`--${option} needs --init PNG (the sprite to start from)`);
    }
  }
  if (values.resample !== undefined && values.mask === undefined) {
    throw new UserError("--resample applies to inpainting; add --mask PNG");
  }
  if (values.init === undefined) return { tile };
  const resize = values.resize ?? false;
  const strength = numberOption(
    "strength",
    values.strength,
    values.mask === undefined ? DEFAULT_STRENGTH : 1,
  );
  if (!inRange(strength, GENERATE_RANGES.strength)) {
    throw new UserError(`--strength must be in (0, 1], not ${strength}`);
  }
  const resample = numberOption("resample", values.resample, 0, GENERATE_RANGES.resample);
  const image = await readSprite(values.init, "init", channels, resize);
  const mask = values.mask === undefined
    ? undefined
    : maskFromImage(await readSprite(values.mask, "mask", 4, resize));
  return { init: { image, strength, mask, resample }, tile };
}
