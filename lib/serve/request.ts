/**
 * A generation request as the server receives it: a JSON object with the same
 * options as `sample` (camelCase), checked field by field. Every refusal names
 * the field and what it accepts, so a client can fix it without guessing.
 */

import { type SamplerKind, SAMPLERS } from "../diffusion/schedule.ts";
import { classesFor, classLabel, resolveClass } from "../generate/classes.ts";
import {
  GENERATE_DEFAULTS,
  GENERATE_RANGES,
  inRange,
  isGuidanceInterval,
  previewEveryFor,
  type Range,
} from "../generate/defaults.ts";
import { type ClassMix, TILE_AXES, type TileAxes } from "../generate/generator.ts";
import { maskFromImage, spriteFromPng } from "../generate/init_image.ts";
import type { PostOptions } from "../generate/postprocess.ts";
import type { PaletteScope } from "../palette/apply.ts";
import { BUILTIN_PALETTES } from "../palette/builtin.ts";
import { MAX_COLORS, type Palette, parseHex } from "../palette/palette.ts";
import { type Dither, DITHERS } from "../palette/quantize.ts";
import { type PaletteSpec, parsePaletteSpec } from "../palette/spec.ts";
import type { InitImage } from "../diffusion/known_image.ts";
import { InputError } from "../util/errors.ts";

/** A request's previews are kept for its GIF; at most this many bound the memory a job holds. */
export const MAX_PREVIEWS = 100;

/** An uploaded init or mask PNG may hold at most this many bytes (a 16×16 sprite needs ~1 KiB). */
export const MAX_UPLOAD_BYTES = 16384;
/** An upload whose header declares a larger side is refused before it is decoded. */
export const MAX_UPLOAD_SIDE = 1024;

/**
 * The file names the command line gives uploads: the server keeps no name of the visitor's file,
 * so the line reads these, and the page says to save the uploads under them.
 */
export const UPLOAD_FILES = { init: "init.png", mask: "mask.png" } as const;

/** What a field accepts: a range, or a list of choices. */
export type Allowed = Range | readonly (string | number | boolean | null)[];

/** A refused field: the message names it; `allowed` says what it accepts. */
export class FieldError extends InputError {
  constructor(readonly field: string | null, message: string, readonly allowed: Allowed) {
    super(message);
  }
}

/** A validated request, ready to queue. */
export interface JobSpec {
  /** The class (or mix of classes) asked for, or null for one sprite per class in turn. */
  fixedClass: number | ClassMix | null;
  classes: (number | ClassMix)[];
  /** Each sprite's class name ("unconditional" for the null class). */
  labels: string[];
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  /** DDIM's noise; 0 for the other samplers. */
  eta: number;
  /** Dynamic thresholding's percentile, or null (x0 clamped to [−1, 1]). */
  threshold: number | null;
  /** Guidance only at steps with t/T in [lo, hi]; null: at every step. */
  guidanceInterval: [number, number] | null;
  /** Seamless tiles along these axes, or null. */
  tile: TileAxes | null;
  seed: number;
  scale: number;
  softAlpha: boolean;
  previewEvery: number;
  /** The palette as asked for (a built-in name, `dataset`, `auto:K`), or null. */
  palette: string | null;
  /** `auto:K` only: one palette per sprite or one for the batch; null otherwise. */
  paletteScope: PaletteScope | null;
  dither: Dither;
  /** `RRGGBB` or `auto`, as asked for, or null. */
  outline: string | null;
  despeckle: boolean;
  /** The post-processing all these ask for, the palette resolved. */
  post: PostOptions;
  /**
   * A variation or inpainting: a finished sprite of this server (its job, index and file name)
   * or an uploaded PNG (`file` is then {@link UPLOAD_FILES}.init), and how far it moves.
   */
  init: InitSource | null;
  /** Inpainting: the uploaded mask's file name in the command line ({@link UPLOAD_FILES}), or null. */
  mask: string | null;
  /** Inpainting's forward-backward jumps per step. */
  resample: number;
  /** An upload of another size was resized to 16×16 (NEAREST), as `--resize` does. */
  resize: boolean;
  /** The init (and mask) as the generator takes them. */
  initImage?: InitImage;
}

export type InitSource =
  | { job: string; sprite: number; file: string; strength: number }
  | { upload: true; file: string; strength: number };

/** A finished sprite a variation can start from: [C, 16, 16] in [−1, 1], and its file's name. */
export interface InitSprite {
  image: Float32Array;
  file: string;
}

/** What validation needs to know about the model and the server's bounds. */
export interface RequestLimits {
  classNames: readonly string[];
  /** The model's image channels: an upload is converted to these, as `sample --init` does. */
  channels: 3 | 4;
  /** The most sprites one request may draw at `guidance` (the adapter's fit and the server's cap). */
  maxSprites(guidance: number): number;
  /** The training data's colours stored with the weights (`palette: "dataset"`), if any. */
  datasetPalette?: Palette;
  /** Sprite `sprite` of the finished job `job`, or why there is none. */
  initSprite(job: string, sprite: number): InitSprite | string;
}

const FIELDS = [
  "class",
  "n",
  "guidance",
  "steps",
  "sampler",
  "eta",
  "seed",
  "scale",
  "softAlpha",
  "previewEvery",
  "palette",
  "paletteScope",
  "dither",
  "outline",
  "despeckle",
  "init",
  "mask",
  "resample",
  "resize",
  "tile",
  "threshold",
  "guidanceInterval",
] as const;

const SCOPES: readonly PaletteScope[] = ["sprite", "batch"];

/** What `palette` accepts: built-in names, `dataset` when the weights carry it, `auto:K`. */
export const paletteChoices = (datasetPalette: Palette | undefined): string[] => [
  ...BUILTIN_PALETTES.keys(),
  ...(datasetPalette ? ["dataset"] : []),
  `auto:2…${MAX_COLORS}`,
];

const describe = (r: Range) =>
  `${r.integer ? "an integer" : "a number"} in ` +
  (r.exclusiveMin ? `(${r.min}, ${r.max}]` : `${r.min}…${r.max}`);

type Body = Record<string, unknown>;

function numberField(body: Body, field: string, range: Range, fallback: number): number {
  const value = body[field];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !inRange(value, range)) {
    throw new FieldError(
      field,
      `${field} must be ${describe(range)}, not ${JSON.stringify(value)}`,
      range,
    );
  }
  return value;
}

function booleanField(body: Body, field: string): boolean {
  const value = body[field] ?? false;
  if (typeof value !== "boolean") {
    throw new FieldError(field, `${field} must be true or false, not ${JSON.stringify(value)}`, [
      true,
      false,
    ]);
  }
  return value;
}

function choiceField<T extends string>(
  body: Body,
  field: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = body[field] ?? fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new FieldError(
      field,
      `${field} must be one of ${choices.join(", ")}, not ${JSON.stringify(value)}`,
      choices,
    );
  }
  return value as T;
}

/** A class name (or unique prefix) or index, or undefined when it names none. */
function oneClass(value: unknown, classNames: readonly string[]): number | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    if (value < classNames.length) return value;
  } else if (typeof value === "string" && value.trim() !== "") {
    try {
      return resolveClass(value, classNames);
    } catch {
      // The caller reports it with the field and its choices.
    }
  }
  return undefined;
}

const MIX_SHAPE = '{"mix": [[CLASS, WEIGHT], …]}, weights ≥ 0 with a sum > 0';

/** `class`: a name or index, `{"mix": [[class, weight], …]}` (as `--class a:0.7,b:0.3`), or null. */
function classField(body: Body, classNames: readonly string[]): number | ClassMix | null {
  const value = body.class;
  if (value === undefined || value === null) return null;
  const choices = [null, ...classNames.map((_, i) => i), ...classNames, MIX_SHAPE];
  if (typeof value === "object" && !Array.isArray(value)) {
    return mixField(value as Body, classNames, choices);
  }
  const index = oneClass(value, classNames);
  if (index !== undefined) return index;
  throw new FieldError(
    "class",
    `class must be one of the weights' class names or indices (or null for one of each, or ` +
      `${MIX_SHAPE}), not ${JSON.stringify(value)}`,
    choices,
  );
}

function mixField(value: Body, classNames: readonly string[], choices: Allowed): ClassMix {
  const refuse = (why: string) => new FieldError("class", `class: ${why}`, choices);
  const { mix, ...rest } = value;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw refuse(`a mix has no field '${extra}'; write ${MIX_SHAPE}`);
  if (!Array.isArray(mix) || mix.length === 0) throw refuse(`write ${MIX_SHAPE}`);
  const pairs = mix.map((pair): [number, number] => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw refuse(`each part of a mix is [CLASS, WEIGHT], not ${JSON.stringify(pair)}`);
    }
    const index = oneClass(pair[0], classNames);
    if (index === undefined) {
      throw refuse(
        `unknown class ${JSON.stringify(pair[0])} in the mix; the weights have ` +
          classNames.join(", "),
      );
    }
    const weight = pair[1];
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
      throw refuse(`a mix weight must be a number ≥ 0, not ${JSON.stringify(weight)}`);
    }
    return [index, weight];
  });
  if (!(pairs.reduce((sum, [, w]) => sum + w, 0) > 0)) {
    throw refuse("the mix weights sum to 0; give at least one weight > 0");
  }
  return { mix: pairs };
}

/** A palette spec from `palette`: never a file, so no request makes the server read one. */
function paletteSpec(body: Body, limits: RequestLimits): PaletteSpec | undefined {
  const text = body.palette ?? null;
  if (text === null) return undefined;
  const choices = paletteChoices(limits.datasetPalette);
  const refuse = (why: string) => new FieldError("palette", why, [null, ...choices]);
  if (typeof text !== "string") {
    throw refuse(`palette must be a string, not ${JSON.stringify(text)}`);
  }
  let spec: PaletteSpec;
  try {
    spec = parsePaletteSpec(text);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw refuse(err.message.startsWith("palette") ? err.message : `palette: ${err.message}`);
  }
  if (spec.kind === "file") {
    throw refuse(`palette files are not read on a request's say-so; use ${choices.join(", ")}`);
  }
  if (spec.kind === "dataset" && !limits.datasetPalette) {
    throw refuse(`palette dataset: these weights carry none; use ${choices.join(", ")}`);
  }
  return spec;
}

/** The palette stage's fields, checked together (scope needs auto:K, dither needs a palette). */
function paletteFields(body: Body, limits: RequestLimits, seed: number, softAlpha: boolean) {
  const spec = paletteSpec(body, limits);
  if (spec && softAlpha) {
    throw new FieldError(
      "softAlpha",
      "softAlpha and palette exclude each other: palette sprites are opaque or clear",
      [false],
    );
  }
  if (body.paletteScope !== undefined && spec?.kind !== "auto") {
    throw new FieldError(
      "paletteScope",
      "paletteScope applies to palette auto:K; add it or drop the scope",
      SCOPES,
    );
  }
  const paletteScope = spec?.kind === "auto"
    ? choiceField(body, "paletteScope", SCOPES, "sprite")
    : null;
  if (body.dither !== undefined && !spec) {
    throw new FieldError(
      "dither",
      "dither needs a palette (it chooses between its colours)",
      DITHERS,
    );
  }
  const dither = choiceField(body, "dither", DITHERS, "none");
  const outline = body.outline ?? null;
  const outlineColor = typeof outline === "string" ? parseHex(outline) : undefined;
  if (outline !== null && outline !== "auto" && !outlineColor) {
    throw new FieldError(
      "outline",
      `outline must be a colour RRGGBB or "auto", not ${JSON.stringify(outline)}`,
      ["RRGGBB", "auto", null],
    );
  }
  const despeckle = booleanField(body, "despeckle");
  if (despeckle && !spec) {
    // As `sample --despeckle`: on unmapped colours it would only erode the sprite's edges.
    throw new FieldError("despeckle", "despeckle needs a palette (it works on its exact colours)", [
      false,
    ]);
  }
  const palette = spec?.kind === "builtin"
    ? { fixed: spec.palette }
    : spec?.kind === "dataset"
    ? { fixed: limits.datasetPalette! }
    : spec?.kind === "auto"
    ? { auto: spec.colors }
    : undefined;
  // As `sample` builds it from the same options.
  const post: PostOptions = {
    softAlpha,
    scope: paletteScope ?? "sprite",
    dither,
    despeckle,
    seed,
    ...(outline === "auto"
      ? { outline: "auto" as const }
      : outlineColor && { outline: outlineColor }),
    ...(palette && { palette }),
  };
  return {
    palette: spec ? body.palette as string : null,
    paletteScope,
    dither,
    outline: outline as string | null,
    despeckle,
    post,
  };
}

/** An uploaded PNG: base64, optionally as a data URL; `name` is how errors call it. */
function uploadBytes(value: unknown, field: string, name: string): Uint8Array {
  const refuse = (why: string) =>
    new FieldError(field, `${name} ${why}`, ["base64 PNG", "data:image/png;base64,…"]);
  if (typeof value !== "string") throw refuse(`must be a PNG as base64 text`);
  const text = value.replace(/^data:image\/png;base64,/, "");
  // Checked before decoding, so an oversized upload costs nothing.
  if (text.length > Math.ceil(MAX_UPLOAD_BYTES / 3) * 4) {
    throw refuse(`is larger than ${MAX_UPLOAD_BYTES} bytes; upload a 16×16 sprite`);
  }
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    throw refuse("is not valid base64");
  }
}

/** An uploaded sprite decoded as `sample --init/--mask` reads its file; refusals name `field`. */
async function uploadedSprite(
  value: unknown,
  field: "init" | "mask",
  channels: 3 | 4,
  resize: boolean,
): Promise<Float32Array> {
  const name = UPLOAD_FILES[field];
  const bytes = uploadBytes(value, field, name);
  try {
    return await spriteFromPng(bytes, name, {
      channels,
      resize,
      resizeHint: 'add "resize": true to resize it (NEAREST)',
      maxSide: MAX_UPLOAD_SIDE,
    });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new FieldError(field, `${field}: ${err.message}`, ["a PNG of 16×16 pixels"]);
  }
}

/**
 * `init`: `{job, sprite, strength?}`, a sprite this server drew, or `{png, strength?}`, an
 * uploaded PNG; with `mask` (an uploaded PNG, see lib/generate/init_image.ts for its meaning)
 * and `resample`, inpainting. The strength defaults as `sample`'s does: 1 with a mask.
 */
async function initFields(
  body: Body,
  limits: RequestLimits,
): Promise<Pick<JobSpec, "init" | "initImage" | "mask" | "resample" | "resize">> {
  const value = body.init ?? null;
  const maskValue = body.mask ?? null;
  const shape = '{"job": ID, "sprite": I, "strength": S} or {"png": BASE64, "strength": S}';
  const refuse = (why: string) => new FieldError("init", why, [null, shape]);
  for (const field of ["mask", "resize"] as const) {
    if (value === null && (body[field] ?? null) !== null) {
      throw new FieldError(field, `${field} needs init (the sprite to start from)`, [null]);
    }
  }
  if (body.resample !== undefined && maskValue === null) {
    throw new FieldError("resample", "resample applies to inpainting; add mask", [0]);
  }
  const resample = numberField(body, "resample", GENERATE_RANGES.resample, 0);
  const resize = booleanField(body, "resize");
  if (value === null) return { init: null, mask: null, resample, resize };
  if (typeof value !== "object" || Array.isArray(value)) {
    throw refuse(`init must be ${shape}, 0 < S ≤ 1, or null`);
  }
  const fallback = maskValue === null ? GENERATE_DEFAULTS.strength : 1;
  const { job, sprite, png, strength = fallback, ...rest } = value as Body;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) {
    throw refuse(`init has no field '${extra}' (job and sprite, or png; strength)`);
  }
  if (typeof strength !== "number" || !inRange(strength, GENERATE_RANGES.strength)) {
    throw refuse(
      `init.strength must be ${describe(GENERATE_RANGES.strength)}, not ${
        JSON.stringify(strength)
      }`,
    );
  }
  let image: Float32Array;
  let init: InitSource;
  if (png !== undefined) {
    if (job !== undefined || sprite !== undefined) {
      throw refuse(`init takes either "png" or "job" and "sprite", not both`);
    }
    image = await uploadedSprite(png, "init", limits.channels, resize);
    init = { upload: true, file: UPLOAD_FILES.init, strength };
  } else {
    if (typeof job !== "string" || typeof sprite !== "number" || !Number.isInteger(sprite)) {
      throw refuse(`init needs "job" (a job's id) and "sprite" (an integer index), or "png"`);
    }
    const found = limits.initSprite(job, sprite);
    if (typeof found === "string") throw refuse(`init: ${found}`);
    image = found.image;
    init = { job, sprite, file: found.file, strength };
  }
  const mask = maskValue === null
    ? undefined
    : maskFromImage(await uploadedSprite(maskValue, "mask", 4, resize));
  return {
    init,
    initImage: { image, strength, mask, resample },
    mask: mask ? UPLOAD_FILES.mask : null,
    resample,
    resize,
  };
}

/** A field that is absent or null (off), or a value `check` accepts. */
function optional<T>(body: Body, field: string, check: (value: unknown) => T): T | null {
  const value = body[field] ?? null;
  return value === null ? null : check(value);
}

/** Checks `body` (parsed JSON) field by field; the first bad field is a {@link FieldError}. */
export async function parseJobRequest(body: unknown, limits: RequestLimits): Promise<JobSpec> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new FieldError(null, "the request body must be a JSON object", FIELDS);
  }
  const fields = body as Body;
  const unknown = Object.keys(fields).find((f) => !(FIELDS as readonly string[]).includes(f));
  if (unknown !== undefined) {
    throw new FieldError(
      unknown,
      `unknown field '${unknown}'; fields: ${FIELDS.join(", ")}`,
      FIELDS,
    );
  }
  const { classNames } = limits;
  const fixedClass = classField(fields, classNames);
  const guidance = numberField(
    fields,
    "guidance",
    GENERATE_RANGES.guidance,
    GENERATE_DEFAULTS.guidance,
  );
  const maxSprites = limits.maxSprites(guidance);
  const nRange = { min: 1, max: maxSprites, integer: true };
  const n = numberField(fields, "n", nRange, fixedClass === null ? classNames.length : 4);
  if (n > maxSprites) {
    // Only a default can get here (the class count over a small cap).
    throw new FieldError("n", `n must be ${describe(nRange)} on this server`, nRange);
  }
  const steps = numberField(fields, "steps", GENERATE_RANGES.steps, GENERATE_DEFAULTS.steps);
  const sampler = choiceField(fields, "sampler", SAMPLERS, GENERATE_DEFAULTS.sampler);
  if (fields.eta !== undefined && sampler !== "ddim") {
    throw new FieldError(
      "eta",
      'eta sets DDIM\'s noise; add "sampler": "ddim" to use it',
      GENERATE_RANGES.eta,
    );
  }
  const eta = numberField(fields, "eta", GENERATE_RANGES.eta, GENERATE_DEFAULTS.eta);
  const seed = numberField(fields, "seed", GENERATE_RANGES.seed, GENERATE_DEFAULTS.seed);
  const scale = numberField(fields, "scale", GENERATE_RANGES.scale, GENERATE_DEFAULTS.scale);
  const softAlpha = booleanField(fields, "softAlpha");
  const previewEvery = numberField(
    fields,
    "previewEvery",
    GENERATE_RANGES.previewEvery,
    previewEveryFor(steps),
  );
  const fewest = Math.ceil(steps / MAX_PREVIEWS);
  if (previewEvery !== 0 && previewEvery < fewest) {
    const range = { min: fewest, max: GENERATE_RANGES.previewEvery.max, integer: true };
    throw new FieldError(
      "previewEvery",
      `previewEvery must be 0 or ${describe(range)} for ${steps} steps ` +
        `(at most ${MAX_PREVIEWS} previews per request)`,
      range,
    );
  }
  const threshold = optional(fields, "threshold", () => {
    const range = GENERATE_RANGES.threshold;
    return numberField(fields, "threshold", range, range.max);
  });
  const guidanceInterval = optional(fields, "guidanceInterval", (value) => {
    if (
      !Array.isArray(value) || value.length !== 2 ||
      !value.every((v) => typeof v === "number") || !isGuidanceInterval([value[0], value[1]])
    ) {
      throw new FieldError(
        "guidanceInterval",
        `guidanceInterval must be [lo, hi] with 0 ≤ lo < hi ≤ 1 (fractions of t/T; 1 = pure ` +
          `noise) or null, not ${JSON.stringify(value)}`,
        GENERATE_RANGES.guidanceInterval,
      );
    }
    return [value[0], value[1]] as [number, number];
  });
  const tile = optional(fields, "tile", () => choiceField(fields, "tile", TILE_AXES, "xy"));
  const classes = classesFor(n, fixedClass, classNames.length);
  return {
    fixedClass,
    classes,
    labels: classes.map((c) => classLabel(c, classNames)),
    guidance,
    steps,
    sampler,
    eta,
    threshold,
    guidanceInterval,
    tile,
    seed,
    scale,
    softAlpha,
    previewEvery,
    ...paletteFields(fields, limits, seed, softAlpha),
    ...await initFields(fields, limits),
  };
}
