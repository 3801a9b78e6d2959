/**
 * `sample`: classifier-free guided generation with a live preview of the predicted clean
 * image in the terminal (kitty, iTerm2, sixel or half-blocks), written as PNGs (native and
 * upscaled), a sheet, and optionally a GIF of the fade-in. The sprites come from the
 * generation core.
 */

import { basename, join } from "node:path";
import { getGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { RgbaImage } from "../io/image.ts";
import { SAMPLERS } from "../diffusion/schedule.ts";
import { classesFor, classLabel } from "../generate/classes.ts";
import {
  GENERATE_DEFAULTS,
  GENERATE_RANGES,
  inRange,
  isGuidanceInterval,
  PREVIEW_FRAMES,
  previewEveryFor,
} from "../generate/defaults.ts";
import { encodeGenerationFile, generationFiles } from "../generate/files.ts";
import { type GenerateRequest, Generator } from "../generate/generator.ts";
import { detectDisplay } from "../term/detect.ts";
import { LiveView } from "../term/live.ts";
import { formatProgress, formatStarting } from "../term/progress.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import {
  choiceOption,
  helpText,
  numberOption,
  type OptionValues,
  parseOptions,
  PICTURE_OPTIONS,
  pictureOptions,
  writableOutDir,
} from "./options.ts";
import {
  LIST_PALETTES_OPTION,
  listPalettes,
  PALETTE_OPTIONS,
  parsePaletteOptions,
  resolvePaletteOptions,
} from "./palette_options.ts";
import { openWeights } from "./weights.ts";
import { CREATIVE_OPTIONS, parseClassChoice, readCreativeOptions } from "./creative_options.ts";

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
    help: "dynamic thresholding: scale each sprite's predicted clean image\n" +
      "down by its P-th percentile of |x0| when that exceeds 1 (0 < P ≤ 100;\n" +
      "default: off, x0 clamped to [−1, 1])",
  },
  "guidance-interval": {
    value: "LO,HI",
    help: "guide only at steps with t/T in [LO, HI] (0 ≤ LO < HI ≤ 1;\n" +
      "t/T = 1 is pure noise); the others run the conditional prediction\n" +
      `alone (default ${GENERATE_DEFAULTS.guidanceInterval?.join(",") ?? "every step"})`,
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
  if (!isGuidanceInterval([lo, hi])) {
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
  const steps = numberOption("steps", values.steps, GENERATE_DEFAULTS.steps, GENERATE_RANGES.steps);
  const sampler = choiceOption("sampler", values.sampler, SAMPLERS, GENERATE_DEFAULTS.sampler);
  const eta = numberOption("eta", values.eta, GENERATE_DEFAULTS.eta, GENERATE_RANGES.eta);
  if (values.eta !== undefined && sampler !== "ddim") {
    throw new UserError(`--eta sets DDIM's noise; add --sampler ddim to use it`);
  }
  const threshold = values.threshold === undefined
    ? undefined
    : numberOption("threshold", values.threshold, 100);
  if (threshold !== undefined && !inRange(threshold, GENERATE_RANGES.threshold)) {
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
    help: "class to draw (default: one sprite per class, in turn), or a mix of\n" +
      "classes: NAME:W,NAME:W… (weights normalised), e.g. monsters:0.7,food:0.3",
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
  ...PICTURE_OPTIONS,
  out: { value: "DIR", help: "output folder (default out/)" },
  scale: {
    value: "F",
    help: `NEAREST upscale of the large PNGs (default ${GENERATE_DEFAULTS.scale}: 256 px)`,
  },
  "soft-alpha": {
    help: "keep the model's continuous alpha (default: snapped to fully\n" +
      "opaque or fully transparent, as pixel-art sprites are)",
  },
  ...CREATIVE_OPTIONS,
  ...PALETTE_OPTIONS,
  ...LIST_PALETTES_OPTION,
  gif: { help: "also write an animated GIF of the fade-in" },
  json: { help: "print a JSON summary on stdout" },
  "no-preview": { help: "no sprites in the terminal (the same as --preview none)" },
  force: { help: "overwrite existing files instead of choosing new names" },
} as const;

const HELP = helpText(
  "deno run -A main.ts sample [options]",
  "Draws sprites from a trained model, showing the predicted clean image as it\n" +
    "fades in, and writes them as PNG files, with a sprite sheet and its JSON\n" +
    "description (Aseprite's json-array format).",
  OPTIONS,
  "With --palette, sprites and sheet are indexed PNGs (PLTE + tRNS) and the palette is\n" +
    "written beside them as .gpl and .hex, so pixel-art editors open them with it.\n" +
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

export const sampleCommand: Command = {
  async run(args) {
    const { values } = parseOptions("sample", args, OPTIONS);
    if (values.help) return void console.log(HELP);
    const { weights, name: weightsName } = await openWeights(values.weights);
    if (values["list-classes"]) {
      weights.classNames.forEach((c, i) => console.log(`${i}\t${c}`));
      return;
    }
    if (values["list-palettes"]) return void console.log(listPalettes(weights.palette));
    const paletteOptions = parsePaletteOptions(values);
    if (values["soft-alpha"] && paletteOptions.spec) {
      throw new UserError(
        "--soft-alpha and --palette exclude each other: palette sprites are opaque or clear",
      );
    }
    const k = weights.config.num_classes;
    const fixedClass = values.class === undefined
      ? null
      : parseClassChoice(values.class, weights.classNames);
    const channels = weights.config.in_ch === 3 ? 3 : 4;
    const { init, tile } = await readCreativeOptions(values, channels);
    const guidance = numberOption(
      "guidance",
      values.guidance,
      GENERATE_DEFAULTS.guidance,
      GENERATE_RANGES.guidance,
    );
    const n = numberOption("n", values.n, fixedClass === null ? k : 4, {
      min: 1,
      max: 4096,
      integer: true,
    });
    const seed = numberOption("seed", values.seed, GENERATE_DEFAULTS.seed, GENERATE_RANGES.seed);
    const settings = samplerOptions(values);
    const { steps, sampler } = settings;
    const previewEvery = numberOption(
      "preview-every",
      values["preview-every"],
      previewEveryFor(steps),
      GENERATE_RANGES.previewEvery,
    );
    const scale = numberOption(
      "scale",
      values.scale,
      GENERATE_DEFAULTS.scale,
      GENERATE_RANGES.scale,
    );
    const pictures = pictureOptions(values);
    const outDir = values.out ?? "out";
    const force = values.force ?? false;
    // Before any GPU work, so a bad palette file or a missing dataset palette fails at once.
    const post = {
      softAlpha: values["soft-alpha"],
      ...await resolvePaletteOptions(paletteOptions, {
        palette: weights.palette,
        source: weightsName,
      }, seed),
    };
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
    const classes = classesFor(n, fixedClass, k);
    const display = await detectDisplay(values["no-preview"] ? "none" : pictures.preview);
    const live = new LiveView(Deno.stdout, display.color, display);
    const previews: RgbaImage[][] = [];
    const started = performance.now();
    // Rates from the first frame on: the steps before it also compiled the kernels on a new machine.
    let rateFrom: { step: number; at: number } | undefined;
    live.update(formatStarting(Math.min(display.columns, 100)));
    const result = await generator.generate({
      ...settings,
      classes,
      init,
      tile,
      guidance,
      seed,
      post,
      previewEvery: previewEvery === 0 && !values.gif ? 0 : previewEvery || steps,
      onPreview({ images, step, total }) {
        // The end's frame is drawn below from the sprites as written.
        if (values.gif && step < total) previews.push(images);
        const status = formatProgress({ step, total, startedAt: started, rateFrom }, {
          width: Math.min(display.columns, 100),
        });
        rateFrom ??= { step, at: performance.now() };
        // Drawn in turn without holding up sampling; done() below waits for the last frame.
        live.show(images, status, { scale: pictures.scale });
      },
    }).finally(() => generator.destroy());
    await live.done();

    const labels = classes.map((c) => classLabel(c, weights.classNames));
    const output = { ...result, labels, seed, scale, previews, tiled: tile !== undefined };
    const files: string[] = [];
    const written = new Map<string, string>();
    let sheet = "";
    for (const file of generationFiles(output, values.gif ?? false)) {
      const path = await freshPath(join(outDir, file.name), force);
      const name = (n: string) => written.get(n) ?? n;
      await writeFileAtomic(path, await encodeGenerationFile(file, output, name));
      written.set(file.name, basename(path));
      files.push(path);
      if (file.kind === "sheet") sheet = path;
    }
    const summary = {
      weights: basename(weightsName),
      adapter: gpu.adapter.description,
      classes: labels,
      init: values.init ?? null,
      strength: init?.strength ?? null,
      mask: values.mask ?? null,
      tile: tile ?? null,
      guidance,
      sampler,
      steps,
      eta: settings.eta,
      threshold: settings.thresholdPercentile ?? null,
      guidanceInterval: settings.guidanceInterval ?? null,
      seed,
      palette: paletteOptions.spec ? values.palette : null,
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
