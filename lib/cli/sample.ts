/**
 * `sample`: classifier-free guided generation with a live ANSI preview of the
 * predicted clean image, written as PNGs (native and upscaled), a sheet, and
 * optionally a GIF of the fade-in.
 */

import { basename, join } from "node:path";
import { getGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { imageFromTensor, type RgbaImage, snapAlpha } from "../io/image.ts";
import { encodeGif, encodePng } from "../io/png.ts";
import { composeSheet, upscaleNearest } from "../io/sheet.ts";
import { guidanceRows, sample } from "../diffusion/sampler.ts";
import type { SamplerKind } from "../diffusion/schedule.ts";
import { maxSampleRows } from "../model/memory.ts";
import { IMAGE_SIZE } from "../model/config.ts";
import { storeFromWeights } from "../model/weights.ts";
import { colorModeFor, renderHalfBlocks } from "../term/ansi.ts";
import { LiveView } from "../term/live.ts";
import { formatProgress } from "../term/progress.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import {
  choiceOption,
  numberOption,
  parseOptions,
  terminalColumns,
  writableOutDir,
} from "./options.ts";
import { openWeights, resolveClass } from "./weights.ts";

/** Defaults chosen from measurements on the CPU fallback (see README, "Sampling defaults"). */
export const SAMPLE_DEFAULTS = {
  guidance: 3,
  steps: 100,
  sampler: "ddpm",
  eta: 0,
  previewEvery: 20,
  scale: 16,
} as const;

/**
 * `--steps`, `--sampler` and `--eta`, shared by `sample` and `eval`. `--eta` only means something
 * to DDIM, so giving it to the (default) DDPM sampler is an error rather than silently ignored.
 */
export function samplerOptions(
  values: { steps?: string; sampler?: string; eta?: string },
): { steps: number; sampler: SamplerKind; eta: number } {
  const steps = numberOption("steps", values.steps, SAMPLE_DEFAULTS.steps, {
    min: 1,
    max: 1000,
    integer: true,
  });
  const sampler = choiceOption(
    "sampler",
    values.sampler,
    ["ddpm", "ddim"] as const,
    SAMPLE_DEFAULTS.sampler,
  );
  const eta = numberOption("eta", values.eta, SAMPLE_DEFAULTS.eta, { min: 0, max: 1 });
  if (values.eta !== undefined && sampler !== "ddim") {
    throw new UserError(`--eta sets DDIM's noise; add --sampler ddim to use it`);
  }
  return { steps, sampler, eta };
}

const HELP = `usage: deno run -A main.ts sample [options]

Draws sprites from a trained model, showing the predicted clean image as it
fades in, and writes them as PNG files.

  --weights FILE       weights (.safetensors); default: the shipped weights
  --class NAME|INDEX   class to draw (default: one sprite per class, in turn)
  --list-classes       print the weights' classes and exit
  --guidance W         classifier-free guidance, 0 = unconditional (default ${SAMPLE_DEFAULTS.guidance}; higher
                       values such as the original's 7.5 push class identity, at the cost of
                       oversaturated colours)
  --n N                sprites to draw (default: the number of classes, or 4 with --class)
  --seed S             random seed (default: 0); same seed and options ⇒ same PNGs
  --steps K            denoising steps, 1–1000 (default ${SAMPLE_DEFAULTS.steps})
  --sampler ddpm|ddim  ddpm = the original's ancestral sampler, respaced below 1000 steps
                       (default); ddim = deterministic at --eta 0, noisier textures
  --eta E              DDIM noise, 0–1 (default 0; only with --sampler ddim)
  --preview-every P    preview every P steps (default ${SAMPLE_DEFAULTS.previewEvery}; 0 = only the end)
  --out DIR            output folder (default out/)
  --scale F            NEAREST upscale of the large PNGs (default ${SAMPLE_DEFAULTS.scale}: 256 px)
  --soft-alpha         keep the model's continuous alpha (default: snapped to fully
                       opaque or fully transparent, as pixel-art sprites are)
  --gif                also write an animated GIF of the fade-in
  --json               print a JSON summary on stdout
  --no-preview         no terminal preview
  --force              overwrite existing files instead of choosing new names

The original's exact sampler: --sampler ddpm --steps 1000.`;

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
  summary: "draw sprites, with a live preview in the terminal",
  async run(args) {
    const { values } = parseOptions("sample", args, {
      weights: { type: "string" },
      class: { type: "string" },
      "list-classes": { type: "boolean" },
      guidance: { type: "string" },
      n: { type: "string" },
      seed: { type: "string" },
      steps: { type: "string" },
      sampler: { type: "string" },
      eta: { type: "string" },
      "preview-every": { type: "string" },
      out: { type: "string" },
      scale: { type: "string" },
      "soft-alpha": { type: "boolean" },
      gif: { type: "boolean" },
      json: { type: "boolean" },
      "no-preview": { type: "boolean" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
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
    const guidance = numberOption("guidance", values.guidance, SAMPLE_DEFAULTS.guidance, {
      min: 0,
      max: 100,
    });
    const n = numberOption("n", values.n, fixedClass === null ? k : 4, {
      min: 1,
      max: 4096,
      integer: true,
    });
    const seed = numberOption("seed", values.seed, 0, { min: 0, max: 2 ** 32 - 1, integer: true });
    const { steps, sampler, eta } = samplerOptions(values);
    const previewEvery = numberOption(
      "preview-every",
      values["preview-every"],
      SAMPLE_DEFAULTS.previewEvery,
      {
        min: 0,
        max: 1000,
        integer: true,
      },
    );
    const scale = numberOption("scale", values.scale, SAMPLE_DEFAULTS.scale, {
      min: 1,
      max: 64,
      integer: true,
    });
    const outDir = values.out ?? "out";
    const force = values.force ?? false;
    const gpu = await getGpu();
    const rows = guidanceRows(n, guidance);
    const maxRows = maxSampleRows(weights.config, gpu.maxBinding);
    if (rows > maxRows) {
      const fit = guidanceRows(1, guidance) === 2 ? Math.floor(maxRows / 2) : maxRows;
      throw new UserError(
        `--n ${n} needs ${rows} model rows per step, over this adapter's maxStorageBufferBindingSize ` +
          `(${gpu.maxBinding} bytes); use --n ${fit} or less`,
      );
    }
    // Only now, so a refused batch leaves no new folder behind.
    await writableOutDir(outDir);
    const classes = Array.from({ length: n }, (_, i) => fixedClass ?? i % k);
    const channels = weights.config.in_ch;
    const color = values["no-preview"] ? "none" : colorModeFor(Deno.stdout);
    const live = new LiveView(Deno.stdout, color);
    const columns = terminalColumns();
    const shown = Math.max(1, Math.min(n, Math.floor((columns + 1) / (IMAGE_SIZE + 1))));
    const frames: RgbaImage[] = [];
    const toImages = (x: Float32Array) =>
      Array.from(
        { length: n },
        (_, i) =>
          imageFromTensor(x, channels, IMAGE_SIZE, IMAGE_SIZE, i * channels * IMAGE_SIZE ** 2),
      );
    const started = performance.now();
    const store = storeFromWeights(gpu, weights);
    const result = await sample(gpu, weights.config, store, {
      classes,
      guidance,
      steps,
      sampler,
      eta,
      seed,
      previewEvery: previewEvery === 0 && !values.gif ? 0 : previewEvery || steps,
      onPreview(x0, step, total) {
        const images = toImages(x0);
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
    });
    await live.done();
    store.destroy();

    const finished = toImages(result.images);
    const images = values["soft-alpha"] ? finished : finished.map(snapAlpha);
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
      eta,
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
