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
  previewEveryFor,
  type Range,
} from "../generate/defaults.ts";
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
  /** The class asked for, or null for one sprite per class in turn. */
  fixedClass: number | null;
  classes: number[];
  /** Each sprite's class name ("unconditional" for the null class). */
  labels: string[];
  guidance: number;
  steps: number;
  sampler: SamplerKind;
  /** DDIM's noise; 0 for the other samplers. */
  eta: number;
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
  /** A variation: the finished sprite it starts from (its file's name) and how far it moves. */
  init: { job: string; sprite: number; file: string; strength: number } | null;
  /** The init sprite as the generator takes it. */
  initImage?: InitImage;
}

/** A finished sprite a variation can start from: [C, 16, 16] in [−1, 1], and its file's name. */
export interface InitSprite {
  image: Float32Array;
  file: string;
}

/** What validation needs to know about the model and the server's bounds. */
export interface RequestLimits {
  classNames: readonly string[];
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
] as const;

const SCOPES: readonly PaletteScope[] = ["sprite", "batch"];

/** What `palette` accepts: built-in names, `dataset` when the weights carry it, `auto:K`. */
export const paletteChoices = (datasetPalette: Palette | undefined): string[] => [
  ...BUILTIN_PALETTES.keys(),
  ...(datasetPalette ? ["dataset"] : []),
  `auto:2…${MAX_COLORS}`,
];

const describe = (r: Range) => `${r.integer ? "an integer" : "a number"} in ${r.min}…${r.max}`;

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

function classField(body: Body, classNames: readonly string[]): number | null {
  const value = body.class;
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    if (value < classNames.length) return value;
  } else if (typeof value === "string" && value.trim() !== "") {
    try {
      return resolveClass(value, classNames);
    } catch {
      // Reported below with the field and its choices.
    }
  }
  throw new FieldError(
    "class",
    `class must be one of the weights' class names or indices (or null for one of each), ` +
      `not ${JSON.stringify(value)}`,
    [null, ...classNames.map((_, i) => i), ...classNames],
  );
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

/** `init`: `{job, sprite, strength?}`, a sprite this server drew, to make variations of. */
function initField(body: Body, limits: RequestLimits): Pick<JobSpec, "init" | "initImage"> {
  const value = body.init ?? null;
  if (value === null) return { init: null };
  const shape = '{"job": ID, "sprite": I, "strength": S}, 0 < S ≤ 1';
  const refuse = (why: string) => new FieldError("init", why, [null, shape]);
  if (typeof value !== "object" || Array.isArray(value)) {
    throw refuse(`init must be {"job": ID, "sprite": I, "strength": S} or null`);
  }
  const { job, sprite, strength = GENERATE_DEFAULTS.strength, ...rest } = value as Body;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw refuse(`init has no field '${extra}' (job, sprite, strength)`);
  if (typeof job !== "string" || typeof sprite !== "number" || !Number.isInteger(sprite)) {
    throw refuse(`init needs "job" (a job's id) and "sprite" (an integer index)`);
  }
  if (typeof strength !== "number" || !(strength > 0 && strength <= 1)) {
    throw refuse(`init.strength must be a number in (0, 1], not ${JSON.stringify(strength)}`);
  }
  const found = limits.initSprite(job, sprite);
  if (typeof found === "string") throw refuse(`init: ${found}`);
  return {
    init: { job, sprite, file: found.file, strength },
    initImage: { image: found.image, strength },
  };
}

/** Checks `body` (parsed JSON) field by field; the first bad field is a {@link FieldError}. */
export function parseJobRequest(body: unknown, limits: RequestLimits): JobSpec {
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
  const classes = classesFor(n, fixedClass, classNames.length);
  return {
    fixedClass,
    classes,
    labels: classes.map((c) => classLabel(c, classNames)),
    guidance,
    steps,
    sampler,
    eta,
    seed,
    scale,
    softAlpha,
    previewEvery,
    ...paletteFields(fields, limits, seed, softAlpha),
    ...initField(fields, limits),
  };
}
