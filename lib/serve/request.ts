/**
 * A generation request as the server receives it: a JSON object with the same
 * options as `sample` (camelCase), checked field by field. Every refusal names
 * the field and what it accepts, so a client can fix it without guessing.
 */

import { type SamplerKind, SAMPLERS } from "../diffusion/schedule.ts";
import { classesFor, classLabel, resolveClass } from "../generate/classes.ts";
import { GENERATE_DEFAULTS, GENERATE_RANGES, inRange, type Range } from "../generate/defaults.ts";
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
}

/** What validation needs to know about the model and the server's bounds. */
export interface RequestLimits {
  classNames: readonly string[];
  /** The most sprites one request may draw at `guidance` (the adapter's fit and the server's cap). */
  maxSprites(guidance: number): number;
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
] as const;

const describe = (r: Range) => `${r.integer ? "an integer" : "a number"} in ${r.min}…${r.max}`;

function numberField(body: Record<string, unknown>, field: string, range: Range, fallback: number) {
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

function classField(body: Record<string, unknown>, classNames: readonly string[]): number | null {
  const value = body.class;
  const choices = [null, ...classNames.map((_, i) => i), ...classNames];
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
    choices,
  );
}

/** Checks `body` (parsed JSON) field by field; the first bad field is a {@link FieldError}. */
export function parseJobRequest(body: unknown, limits: RequestLimits): JobSpec {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new FieldError(null, "the request body must be a JSON object", FIELDS);
  }
  const fields = body as Record<string, unknown>;
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
  const sampler = fields.sampler ?? GENERATE_DEFAULTS.sampler;
  if (typeof sampler !== "string" || !(SAMPLERS as readonly string[]).includes(sampler)) {
    throw new FieldError(
      "sampler",
      `sampler must be one of ${SAMPLERS.join(", ")}, not ${JSON.stringify(sampler)}`,
      SAMPLERS,
    );
  }
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
  const softAlpha = fields.softAlpha ?? false;
  if (typeof softAlpha !== "boolean") {
    throw new FieldError(
      "softAlpha",
      `softAlpha must be true or false, not ${JSON.stringify(softAlpha)}`,
      [true, false],
    );
  }
  const previewEvery = numberField(
    fields,
    "previewEvery",
    GENERATE_RANGES.previewEvery,
    GENERATE_DEFAULTS.previewEvery,
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
    sampler: sampler as SamplerKind,
    eta,
    seed,
    scale,
    softAlpha,
    previewEvery,
  };
}
