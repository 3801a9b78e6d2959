/**
 * What the API says about a job: its state, its request as resolved, its files
 * (each with the URL that serves it) and the `main.ts sample` command line that
 * draws the same sprites, byte for byte, from the terminal.
 */

import { resolveClass } from "../generate/classes.ts";
import type { ClassMix } from "../generate/generator.ts";
import { GENERATE_DEFAULTS, previewEveryFor } from "../generate/defaults.ts";
import type { Job, JobState } from "./jobs.ts";
import type { JobSpec } from "./request.ts";

/** The options of a request, as the summary repeats them. */
type RequestOptions = Omit<JobSpec, "fixedClass" | "classes" | "labels" | "post" | "initImage">;

export interface JobSummary {
  id: string;
  state: JobState;
  /** Place in the queue (1 = next), 0 once running or finished. */
  position: number;
  step: number;
  total: number;
  /** The request as resolved: the class by name, each sprite's class, and every option. */
  request: RequestOptions & {
    class: string | { mix: [string, number][] } | null;
    classes: string[];
    n: number;
  };
  /** Seconds the sampler ran (done jobs). */
  seconds: number | null;
  error: string | null;
  command: string;
  /** Once done: every file with its download URL. */
  files: { name: string; kind: string; sprite: number | null; type: string; url: string }[];
  events: string;
}

/** The media type of a generation file, by its extension. */
export function contentType(name: string): string {
  const types: Record<string, string> = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".json": "application/json",
    ".gpl": "text/plain; charset=utf-8",
    ".hex": "text/plain; charset=utf-8",
  };
  return types[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream";
}

/** `text` as one shell word: unchanged when it is plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:=+,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The `sample` command that writes the same files as `spec` gives here (the GIF included);
 * `weightsArg` is the server's `--weights`, undefined for the shipped weights.
 */
export function sampleCommandLine(
  spec: JobSpec,
  classNames: readonly string[],
  weightsArg: string | undefined,
): string {
  const words = ["deno", "run", "-A", "main.ts", "sample"];
  const add = (...more: (string | number)[]) => words.push(...more.map(String));
  if (weightsArg !== undefined) add("--weights", weightsArg);
  if (spec.fixedClass !== null) add("--class", classArgument(spec.fixedClass, classNames));
  if (spec.init) add("--init", spec.init.file, "--strength", spec.init.strength);
  if (spec.mask !== null) add("--mask", spec.mask);
  if (spec.resample !== 0) add("--resample", spec.resample);
  if (spec.resize) add("--resize");
  if (spec.tile !== null) add("--tile", spec.tile);
  add("--n", spec.classes.length, "--seed", spec.seed, "--guidance", spec.guidance);
  add("--steps", spec.steps, "--sampler", spec.sampler);
  if (spec.sampler === "ddim") add("--eta", spec.eta);
  if (spec.threshold !== null) add("--threshold", spec.threshold);
  if (spec.guidanceInterval !== null) add("--guidance-interval", spec.guidanceInterval.join(","));
  if (spec.scale !== GENERATE_DEFAULTS.scale) add("--scale", spec.scale);
  if (spec.previewEvery !== previewEveryFor(spec.steps)) {
    add("--preview-every", spec.previewEvery);
  }
  if (spec.softAlpha) add("--soft-alpha");
  if (spec.palette !== null) add("--palette", spec.palette);
  if (spec.paletteScope === "batch") add("--palette-scope", spec.paletteScope);
  if (spec.dither !== "none") add("--dither", spec.dither);
  if (spec.outline !== null) add("--outline", spec.outline);
  if (spec.despeckle) add("--despeckle");
  add("--gif");
  return words.map(shellWord).join(" ");
}

/**
 * A class by name where the name reads back as it (`sample` resolves names and unique prefixes),
 * else by index; `:` and `,` would break a mix's syntax, so such names are given by index too.
 */
function classWord(index: number, classNames: readonly string[]): string | number {
  const name = classNames[index];
  return !/[:,]/.test(name) && resolveClass(name, classNames) === index ? name : index;
}

/** `--class` for a class or a mix: `NAME` or `NAME:W,NAME:W…`, each weight as the request gave it. */
function classArgument(c: number | ClassMix, classNames: readonly string[]): string {
  if (typeof c === "number") return String(classWord(c, classNames));
  return c.mix.map(([k, w]) => `${classWord(k, classNames)}:${w}`).join(",");
}

export function jobSummary(
  job: Job,
  classNames: readonly string[],
  weightsArg: string | undefined,
): JobSummary {
  const { spec } = job;
  const { fixedClass, classes, labels, post: _post, initImage: _init, ...options } = spec;
  const base = `/api/jobs/${job.id}`;
  return {
    id: job.id,
    state: job.state,
    position: job.position,
    step: job.latest?.step ?? 0,
    total: job.latest?.total ?? spec.steps,
    request: {
      class: fixedClass === null
        ? null
        : typeof fixedClass === "number"
        ? classNames[fixedClass]
        : { mix: fixedClass.mix.map(([k, w]) => [classNames[k], w]) },
      classes: labels,
      n: classes.length,
      ...options,
    },
    seconds: job.result ? Number(job.result.seconds.toFixed(3)) : null,
    error: job.error,
    command: sampleCommandLine(spec, classNames, weightsArg),
    files: job.state !== "done" ? [] : job.files.map((f) => ({
      name: f.name,
      kind: f.kind,
      sprite: "sprite" in f ? f.sprite : null,
      type: contentType(f.name),
      url: `${base}/files/${encodeURIComponent(f.name)}`,
    })),
    events: `${base}/events`,
  };
}
