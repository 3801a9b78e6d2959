/**
 * `sample`: classifier-free guided generation with a live ANSI preview of the
 * predicted clean image, written as PNGs (native and upscaled), a sheet, and
 * optionally a GIF of the fade-in. The sprites come from the generation core.
 */

import { basename, join } from "node:path";
import { getGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { RgbaImage } from "../io/image.ts";
import { encodeGif, encodePng } from "../io/png.ts";
import { composeSheet, upscaleNearest } from "../io/sheet.ts";
import { SAMPLERS } from "../diffusion/schedule.ts";
import { GENERATE_DEFAULTS, PREVIEW_FRAMES, previewEveryFor } from "../generate/defaults.ts";
import { type GenerateRequest, Generator } from "../generate/generator.ts";
import { IMAGE_SIZE } from "../model/config.ts";
import { colorModeFor, renderHalfBlocks } from "../term/ansi.ts";
import { LiveView } from "../term/live.ts";
import { formatProgress } from "../term/progress.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import {
  choiceOption,
  helpText,
  numberOption,
  type OptionValues,
  parseOptions,
  terminalColumns,
  writableOutDir,
} from "./options.ts";
import { openWeights, resolveClass } from "./weights.ts";

/** The sample command's own defaults; the sampler's come from the generation core. */
export const SAMPLE_DEFAULTS = { scale: 16 } as const;

/** The sampler's options, declared once for `sample` and `eval`. */
export const SAMPLER_OPTIONS = {
  steps: {
    value: "K",
    help: `denoising steps, 1–1000 (default ${GENERATE_DEFAULTS.steps})`,
  },
  sampler: {
    value: SAMPLERS.join("|"),
    help: `(default ${GENERATE_DEFAULTS.sampler}) ddpm = the original's ancestral sampler,\n` +
      "respaced below 1000 steps; dpm++ = DPM-Solver++(2M), deterministic;\n" +
      "dpm++sde = its stochastic form (ancestral noise, second-order steps);\n" +
      "ddim = deterministic at --eta 0",
  },
  eta: { value: "E", help: "DDIM noise, 0–1 (default 0; only with --sampler ddim)" },
  threshold: {
    value: "P",
    help: "dynamic thresholding: scale each sprite's predicted clean image down\n" +
      "by its P-th percentile of |x0| when that exceeds 1 (0 < P ≤ 100; default: off,\n" +
      "x0 clamped to [−1, 1])",
  },
  "guidance-interval": {
    value: "LO,HI",
    help: "guide only at steps with t/T in [LO, HI] (0 ≤ LO < HI ≤ 1; t/T = 1 is pure\n" +
      `noise); the others run the conditional prediction alone (default ${
        GENERATE_DEFAULTS.guidanceInterval?.join(",") ?? "every step"
      })`,
  },
} as const;

/** "0.2,0.9" → [0.2, 0.9], or a one-line error. */
function intervalOption(text: string): [number, number] {
  const parts = text.split(",");
  const bounds = parts.map((part) => Number(part.trim()));
  if (parts.length !== 2 || parts.some((p) => p.trim() === "") || !bounds.every(Number.isFinite)) {
    throw new UserError(`--guidance-interval must be LO,HI (two numbers), not '${text}'`);
  }
  const [lo, hi] = bounds;
  if (!(lo >= 0 && lo < hi && hi <= 1)) {
    throw new UserError(
      `--guidance-interval must satisfy 0 ≤ LO < HI ≤ 1 (fractions of t/T), not ${lo},${hi}`,
    );
  }
  return [lo, hi];
}

/** What {@link SAMPLER_OPTIONS} set: the sampler fields of a generation request. */
export type SamplerSettings =
  & Pick<GenerateRequest, "steps" | "sampler" | "thresholdPercentile" | "guidanceInterval">
  & { eta: number };

/**
 * The values of {@link SAMPLER_OPTIONS}. `--eta` only means something to DDIM, so giving it to
 * another sampler is an error rather than silently ignored.
 */
export function samplerOptions(values: OptionValues<typeof SAMPLER_OPTIONS>): SamplerSettings {
  const steps = numberOption("steps", values.steps, GENERATE_DEFAULTS.steps, {
    min: 1,
    max: 1000,
    integer: true,
  });
  const sampler = choiceOption("sampler", values.sampler, SAMPLERS, GENERATE_DEFAULTS.sampler);
  const eta = numberOption("eta", values.eta, GENERATE_DEFAULTS.eta, { min: 0, max: 1 });
  if (values.eta !== undefined && sampler !== "ddim") {
    throw new UserError(`--eta sets DDIM's noise; add --sampler ddim to use it`);
  }
  const threshold = values.threshold === undefined
    ? undefined
    : numberOption("threshold", values.threshold, 100);
  if (threshold !== undefined && !(threshold > 0 && threshold <= 100)) {
    throw new UserError(`--threshold must be a percentile in (0, 100], not ${threshold}`);
  }
  const interval = values["guidance-interval"];
  return {
    steps,
    sampler,
    eta,
    thresholdPercentile: threshold,
    guidanceInterval: interval === undefined
      ? GENERATE_DEFAULTS.guidanceInterval
      : intervalOption(interval),
  };
}

const OPTIONS = {
  weights: { value: "FILE", help: "weights (.safetensors); default: the shipped weights" },
  class: {
    value: "NAME|INDEX",
    help: "class to draw (default: one sprite per class, in turn)",
  },
  "list-classes": { help: "print the weights' classes and exit" },
  guidance: {
    value: "W",
    help:
      `classifier-free guidance, 0 = unconditional (default ${GENERATE_DEFAULTS.guidance}; higher\n` +
      "values such as the original's 7.5 push class identity, at the cost of\n" +
      "oversaturated colours)",
  },
  n: { value: "N", help: "sprites to draw (default: the number of classes, or 4 with --class)" },
  seed: { value: "S", help: "random seed (default: 0); same seed and options ⇒ same PNGs" },
  ...SAMPLER_OPTIONS,
  "preview-every": {
    value: "P",
    help: `preview every P steps (default: about ${PREVIEW_FRAMES} frames whatever --steps;\n` +
      "0 = only the end); the GIF has the same frames",
  },
  out: { value: "DIR", help: "output folder (default out/)" },
  scale: {
    value: "F",
    help: `NEAREST upscale of the large PNGs (default ${SAMPLE_DEFAULTS.scale}: 256 px)`,
  },
  "soft-alpha": {
    help: "keep the model's continuous alpha (default: snapped to fully\n" +
      "opaque or fully transparent, as pixel-art sprites are)",
  },
  gif: { help: "also write an animated GIF of the fade-in" },
  json: { help: "print a JSON summary on stdout" },
  "no-preview": { help: "no terminal preview" },
  force: { help: "overwrite existing files instead of choosing new names" },
} as const;

const HELP = helpText(
  "deno run -A main.ts sample [options]",
  "Draws sprites from a trained model, showing the predicted clean image as it\n" +
    "fades in, and writes them as PNG files.",
  OPTIONS,
  "The original's exact sampler: --sampler ddpm --steps 1000.",
);

/** `path`, or `path` with -2, -3 … before the extension if it exists (unless `force`). */
async function freshPath(path: string, force: boolean): Promise<string> {
  if (force) return path;
  const dot = path.lastIndexOf(".");
  for (let i = 1;; i++) {
    const candidate = i === 1 ? path : `${path.slice(0, dot)}-${i}${path.slice(dot)}`;
    const exists = await Deno.lstat(candidate).then(() => true, () => false);
    if (!exists) return candidate;
  }
}

const slug = (name: string) =>
  name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "class";

export const sampleCommand: Command = {
  async run(args) {
    const { values } = parseOptions("sample", args, OPTIONS);
    if (values.help) return void console.log(HELP);
    const { weights, name: weightsName } = await openWeights(values.weights);
    if (values["list-classes"]) {
      weights.classNames.forEach((c, i) => console.log(`${i}\t${c}`));
      return;
    }
    const k = weights.config.num_classes;
    const fixedClass = values.class === undefined
      ? null
      : resolveClass(values.class, weights.classNames);
    const guidance = numberOption("guidance", values.guidance, GENERATE_DEFAULTS.guidance, {
      min: 0,
      max: 100,
    });
    const n = numberOption("n", values.n, fixedClass === null ? k : 4, {
      min: 1,
      max: 4096,
      integer: true,
    });
    const seed = numberOption("seed", values.seed, 0, { min: 0, max: 2 ** 32 - 1, integer: true });
    const settings = samplerOptions(values);
    const { steps, sampler } = settings;
    const previewEvery = numberOption(
      "preview-every",
      values["preview-every"],
      previewEveryFor(steps),
      { min: 0, max: 1000, integer: true },
    );
    const scale = numberOption("scale", values.scale, SAMPLE_DEFAULTS.scale, {
      min: 1,
      max: 64,
      integer: true,
    });
    const outDir = values.out ?? "out";
    const force = values.force ?? false;
    const gpu = await getGpu();
    // One request: steps outside a guidance interval reuse the guided UNet rather than build one.
    const generator = Generator.fromWeights(gpu, weights, { unguidedOnOwnModel: false });
    const fit = generator.maxSprites(guidance);
    if (n > fit) {
      generator.destroy();
      throw new UserError(
        `--n ${n} is more sprites than one sampling step fits on this adapter ` +
          `(maxStorageBufferBindingSize ${gpu.maxBinding} bytes); use --n ${fit} or less`,
      );
    }
    // Only now, so a refused batch leaves no new folder behind.
    await writableOutDir(outDir);
    const classes = Array.from({ length: n }, (_, i) => fixedClass ?? i % k);
    const color = values["no-preview"] ? "none" : colorModeFor(Deno.stdout);
    const live = new LiveView(Deno.stdout, color);
    const columns = terminalColumns();
    const shown = Math.max(1, Math.min(n, Math.floor((columns + 1) / (IMAGE_SIZE + 1))));
    const frames: RgbaImage[] = [];
    const started = performance.now();
    const result = await generator.generate({
      ...settings,
      classes,
      guidance,
      seed,
      post: { softAlpha: values["soft-alpha"] },
      previewEvery: previewEvery === 0 && !values.gif ? 0 : previewEvery || steps,
      onPreview({ images, step, total }) {
        // The end's frame is drawn below from the sprites as written.
        if (values.gif && step < total) {
          frames.push(composeSheet([images], { scale: 4, gap: 1, checker: true }));
        }
        if (color === "none") return;
        const grid = composeSheet([images.slice(0, shown)], { scale: 1, gap: 1, checker: false });
        const status = formatProgress({ step, total, startedAt: started }, {
          width: Math.min(columns, 100),
        });
        live.update(`${renderHalfBlocks(grid, { color })}\n${status}`);
      },
    }).finally(() => generator.destroy());
    live.done();

    const images = result.images;
    const files: string[] = [];
    const write = async (name: string, bytes: Uint8Array) => {
      const path = await freshPath(join(outDir, name), force);
      await writeFileAtomic(path, bytes);
      files.push(path);
      return path;
    };
    for (let i = 0; i < n; i++) {
      const stem = `${
        slug(classes[i] === k ? "unconditional" : weights.classNames[classes[i]])
      }-s${seed}-${i}`;
      await write(`${stem}.png`, await encodePng(images[i]));
      await write(`${stem}-x${scale}.png`, await encodePng(upscaleNearest(images[i], scale)));
    }
    const sheet = await write(
      `sheet-s${seed}.png`,
      await encodePng(composeSheet([images], { scale: 4, gap: 2, checker: false })),
    );
    if (values.gif) {
      // The finished sprites as written, held twice as long.
      const last = composeSheet([images], { scale: 4, gap: 1, checker: true });
      await write(`fadein-s${seed}.gif`, await encodeGif([...frames, last, last], 150));
    }
    const summary = {
      weights: basename(weightsName),
      adapter: gpu.adapter.description,
      classes: classes.map((c) => (c === k ? "unconditional" : weights.classNames[c])),
      guidance,
      sampler,
      steps,
      eta: settings.eta,
      threshold: settings.thresholdPercentile ?? null,
      guidanceInterval: settings.guidanceInterval ?? null,
      seed,
      seconds: Number(result.seconds.toFixed(3)),
      files,
    };
    if (values.json) {
      console.log(JSON.stringify(summary));
      return;
    }
    console.log(
      `${n} sprite${
        n > 1 ? "s" : ""
      } (${sampler}, ${steps} steps, guidance ${guidance}, seed ${seed}) in ` +
        `${result.seconds.toFixed(1)} s on ${gpu.adapter.description}`,
    );
    console.log(`wrote ${files.length} files to ${outDir}/ (sheet: ${basename(sheet)})`);
  },
};
