/**
 * `sample`: classifier-free guided generation with a live ANSI preview of the
 * predicted clean image, written as PNGs (native and upscaled), a sheet, and
 * optionally a GIF of the fade-in. The sprites come from the generation core.
 */

import { basename, join } from "node:path";
import { getGpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { RgbaImage } from "../io/image.ts";
import { encodeIndexedPng } from "../io/indexed_png.ts";
import { encodeGif, encodePng } from "../io/png.ts";
import { composeSheet, sheetLayout, upscaleNearest } from "../io/sheet.ts";
import { sheetJson } from "../io/sheet_json.ts";
import { formatGplPalette, formatHexPalette } from "../palette/files.ts";
import { hexOf, makePalette, MAX_COLORS, type Palette } from "../palette/palette.ts";
import { type SamplerKind, SAMPLERS } from "../diffusion/schedule.ts";
import { GENERATE_DEFAULTS } from "../generate/defaults.ts";
import { Generator } from "../generate/generator.ts";
import { classLabel, spriteStem } from "../generate/names.ts";
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
import {
  LIST_PALETTES_OPTION,
  listPalettes,
  PALETTE_OPTIONS,
  parsePaletteOptions,
  resolvePaletteOptions,
} from "./palette_options.ts";
import { openWeights, resolveClass } from "./weights.ts";

/** The sample command's own defaults; the sampler's come from the generation core. */
export const SAMPLE_DEFAULTS = { previewEvery: 20, scale: 16 } as const;

/** `--steps`, `--sampler` and `--eta`, declared once for `sample` and `eval`. */
export const SAMPLER_OPTIONS = {
  steps: {
    value: "K",
    help: `denoising steps, 1–1000 (default ${GENERATE_DEFAULTS.steps})`,
  },
  sampler: {
    value: SAMPLERS.join("|"),
    help: `ddpm = the original's ancestral sampler, respaced below 1000 steps\n` +
      `(default ${GENERATE_DEFAULTS.sampler}); ddim = deterministic at --eta 0, noisier textures`,
  },
  eta: { value: "E", help: "DDIM noise, 0–1 (default 0; only with --sampler ddim)" },
} as const;

/**
 * The values of {@link SAMPLER_OPTIONS}. `--eta` only means something to DDIM, so giving it to
 * the (default) DDPM sampler is an error rather than silently ignored.
 */
export function samplerOptions(
  values: OptionValues<typeof SAMPLER_OPTIONS>,
): { steps: number; sampler: SamplerKind; eta: number } {
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
  return { steps, sampler, eta };
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
    help: `preview every P steps (default ${SAMPLE_DEFAULTS.previewEvery}; 0 = only the end)`,
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
  ...PALETTE_OPTIONS,
  ...LIST_PALETTES_OPTION,
  gif: { help: "also write an animated GIF of the fade-in" },
  json: { help: "print a JSON summary on stdout" },
  "no-preview": { help: "no terminal preview" },
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
  summary: "draw sprites, with a live preview in the terminal",
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
    const { steps, sampler, eta } = samplerOptions(values);
    const previewEvery = numberOption(
      "preview-every",
      values["preview-every"],
      SAMPLE_DEFAULTS.previewEvery,
      { min: 0, max: 1000, integer: true },
    );
    const scale = numberOption("scale", values.scale, SAMPLE_DEFAULTS.scale, {
      min: 1,
      max: 64,
      integer: true,
    });
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
    const generator = Generator.fromWeights(gpu, weights);
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
      classes,
      guidance,
      steps,
      sampler,
      eta,
      seed,
      post,
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

    const { images, palettes } = result;
    const files: string[] = [];
    const write = async (name: string, bytes: Uint8Array) => {
      const path = await freshPath(join(outDir, name), force);
      await writeFileAtomic(path, bytes);
      files.push(path);
      return path;
    };
    const text = (s: string) => new TextEncoder().encode(s);
    /** A palette's .gpl and .hex beside the sprites. */
    const writePalette = async (stem: string, palette: Palette) => {
      await write(`${stem}.gpl`, text(formatGplPalette(palette)));
      await write(`${stem}.hex`, text(formatHexPalette(palette)));
    };
    // With a palette, PNGs are indexed: each sprite with its own palette, the sheet with all.
    const png = (image: RgbaImage, palette: Palette | undefined) =>
      palette ? Promise.resolve(encodeIndexedPng(image, palette.colors)) : encodePng(image);
    const shared = palettes[0] && palettes.every((p) => p === palettes[0])
      ? palettes[0]
      : undefined;
    const names: string[] = [];
    for (let i = 0; i < n; i++) {
      const stem = spriteStem(classLabel(weights.classNames, classes[i]), seed, i);
      names.push(basename(await write(`${stem}.png`, await png(images[i], palettes[i]))));
      await write(
        `${stem}-x${scale}.png`,
        await png(upscaleNearest(images[i], scale), palettes[i]),
      );
      if (palettes[i] && !shared) await writePalette(stem, palettes[i]!);
    }
    if (shared) await writePalette(`palette-s${seed}`, shared);
    const sheetOptions = { scale: 4, gap: 2 };
    // The sheet is indexed when all its colours and the transparent entry fit in 256.
    const sheetColors = new Map(palettes.flatMap((p) => p?.colors ?? []).map((c) => [hexOf(c), c]));
    const indexedSheet = palettes[0] !== undefined && sheetColors.size < MAX_COLORS;
    const sheetPalette = indexedSheet ? makePalette("sheet", sheetColors.values()) : undefined;
    const sheet = await write(
      `sheet-s${seed}.png`,
      await png(
        composeSheet([images], { ...sheetOptions, checker: false }),
        sheetPalette,
      ),
    );
    const layout = sheetLayout([n], images[0], sheetOptions);
    await write(
      `${basename(sheet, ".png")}.json`,
      text(sheetJson(
        layout.tiles.map((tile, i) => ({
          filename: names[i],
          ...tile,
          class: classLabel(weights.classNames, classes[i]),
          seed,
        })),
        {
          image: basename(sheet),
          width: layout.width,
          height: layout.height,
          format: indexedSheet ? "I8" : "RGBA8888",
        },
      )),
    );
    if (values.gif) {
      // The finished sprites as written, held twice as long.
      const last = composeSheet([images], { scale: 4, gap: 1, checker: true });
      await write(`fadein-s${seed}.gif`, await encodeGif([...frames, last, last], 150));
    }
    const summary = {
      weights: basename(weightsName),
      adapter: gpu.adapter.description,
      classes: classes.map((c) => classLabel(weights.classNames, c)),
      guidance,
      sampler,
      steps,
      eta,
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
