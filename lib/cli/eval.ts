/**
 * `eval`: measured sample quality. Draws N sprites per class at each guidance value and writes
 * class-consistency accuracy, a sprite FID with its real-vs-real floor, memorisation and
 * diversity as report.json and report.md, with charts and pictures, into --out.
 */

import { join } from "node:path";
import { DEFAULT_DATASET, loadDataset } from "../data/dataset.ts";
import { getGpu } from "../gpu/device.ts";
import { writeFileAtomic, writeTextAtomic } from "../io/atomic.ts";
import type { RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import { WeightsError } from "../model/weights.ts";
import { type ClassifierWeights, readClassifier } from "../eval/classifier_io.ts";
import { DEFAULT_CLASSIFIER_NAME, loadDefaultClassifier } from "../eval/default_classifier.ts";
import { type EvalOptions, evaluate, type SampleMetrics } from "../eval/evaluate.ts";
import {
  accuracyChart,
  fidChart,
  FILES,
  KID_SCALE,
  nearestPairs,
  type ReportContext,
  reportJson,
  reportMarkdown,
  samplesSheet,
} from "../eval/report.ts";
import { colorModeFor } from "../term/ansi.ts";
import { terminalSize } from "../term/detect.ts";
import { LiveView } from "../term/live.ts";
import { formatProgress } from "../term/progress.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import { choiceOption, helpText, numberOption, parseOptions, writableOutDir } from "./options.ts";
import { SAMPLER_OPTIONS, samplerOptions } from "./sample.ts";
import {
  PALETTE_OPTIONS,
  parseVariants,
  resolvePaletteOptions,
  variantText,
} from "./palette_options.ts";
import { openWeights } from "./weights.ts";

export const EVAL_DEFAULTS = { n: 32, guidance: "1,3,7.5", batch: 128, out: "out/eval" } as const;

const OPTIONS = {
  weights: { value: "FILE", help: "weights (.safetensors); default: the shipped weights" },
  classifier: {
    value: "FILE",
    help: `sprite classifier; default: the shipped ${DEFAULT_CLASSIFIER_NAME}\n` +
      "(train one for other data with scripts/train_classifier.ts)",
  },
  data: {
    value: "PATH",
    help: "the real sprites the model learnt from (default: the shipped dataset)",
  },
  n: { value: "N", help: `samples per class and guidance value (default ${EVAL_DEFAULTS.n})` },
  guidance: {
    value: "LIST",
    help: `comma-separated guidance values (default ${EVAL_DEFAULTS.guidance})`,
  },
  ...SAMPLER_OPTIONS,
  seed: { value: "S", help: "noise seed (default 0); the same for every guidance value" },
  batch: { value: "B", help: `sprites per sampling batch (default ${EVAL_DEFAULTS.batch})` },
  score: {
    value: "raw|delivered",
    help: "score the model's raw output (default) or the sprites as 'sample'\n" +
      "delivers them (after post-processing: alpha snapped)",
  },
  out: { value: "DIR", help: `output folder (default ${EVAL_DEFAULTS.out})` },
  ...PALETTE_OPTIONS,
  variants: {
    value: "LIST",
    help: "more post-processing pipelines to score on the same samples, ';'-separated,\n" +
      'each in the palette options\' syntax: "--palette dataset; --palette pico8 --despeckle"',
  },
} as const;

const HELP = helpText(
  "deno run -A main.ts eval [options]",
  `Measures sample quality: draws --n sprites per class at each guidance value and
reports, per class and over all classes,
  accuracy     the share the sprite classifier assigns to the conditioning class
  FID          Fréchet distance to real sprites in the classifier's features,
               beside the real-vs-real floor
  KID          kernel distance (unbiased, ×10³) in the same features, beside its floor
  memorised    the share of samples that copy a training sprite (mirror included)
  diversity    mean pairwise distance among samples, beside that of real sprites
as report.json and report.md with charts and sample pictures in --out.`,
  OPTIONS,
  "With palette options (or --variants), the post-processed sprites are scored beside the\n" +
    "main score, from the same samples. The original's sampler: --sampler ddpm --steps 1000.",
);

/** "1,3,7.5" → [1, 3, 7.5]: distinct values in [0, 100], in the order given. */
function guidanceList(text: string): number[] {
  const values = text.split(",").map((part) =>
    numberOption("guidance", part.trim(), 0, { min: 0, max: 100 })
  );
  if (new Set(values).size !== values.length) {
    throw new UserError(`--guidance lists a value twice: ${text}`);
  }
  return values;
}

async function openClassifier(path: string | undefined): Promise<[ClassifierWeights, string]> {
  try {
    if (path === undefined) return [loadDefaultClassifier(), DEFAULT_CLASSIFIER_NAME];
    return [await readClassifier(path), path];
  } catch (err) {
    if (err instanceof WeightsError) throw new UserError(err.message);
    throw err;
  }
}

const summary = (m: SampleMetrics) =>
  [
    `accuracy ${(100 * m.accuracy).toFixed(1)} %`,
    `FID ${Number.isFinite(m.fid) ? m.fid.toFixed(1) : "–"}`,
    `KID×10³ ${Number.isFinite(m.kid) ? (KID_SCALE * m.kid).toFixed(2) : "–"}`,
    `memorised ${(100 * m.memorised).toFixed(1)} %`,
    `diversity ${m.diversity.toFixed(3)}`,
  ].join(", ");

export const evalCommand: Command = {
  async run(args) {
    const { values } = parseOptions("eval", args, OPTIONS);
    if (values.help) return void console.log(HELP);
    const options: EvalOptions = {
      n: numberOption("n", values.n, EVAL_DEFAULTS.n, { min: 1, max: 4096, integer: true }),
      guidances: guidanceList(values.guidance ?? EVAL_DEFAULTS.guidance),
      ...samplerOptions(values),
      seed: numberOption("seed", values.seed, 0, { min: 0, max: 2 ** 32 - 1, integer: true }),
      batch: numberOption("batch", values.batch, EVAL_DEFAULTS.batch, {
        min: 1,
        max: 4096,
        integer: true,
      }),
      score: choiceOption("score", values.score, ["raw", "delivered"] as const, "raw"),
    };
    // The palette options as one variant, then --variants: all checked before any work.
    const variants = parseVariants(`${variantText(values)};${values.variants ?? ""}`);
    const { weights, name: weightsName } = await openWeights(values.weights);
    options.variants = await Promise.all(variants.map(async ({ label, options: parsed }) => ({
      label,
      post: await resolvePaletteOptions(parsed, {
        palette: weights.palette,
        source: weightsName,
      }, options.seed),
    })));
    const [classifier, classifierName] = await openClassifier(values.classifier);
    const dataPath = values.data ?? DEFAULT_DATASET;
    const data = await loadDataset(dataPath, { channels: weights.config.in_ch as 3 | 4 });
    const outDir = values.out ?? EVAL_DEFAULTS.out;
    await writableOutDir(outDir);
    const gpu = await getGpu();
    const live = new LiveView(Deno.stdout, colorModeFor(Deno.stdout));
    const { columns } = terminalSize(Deno.stdout);
    const write = async (name: string, image: RgbaImage) =>
      await writeFileAtomic(join(outDir, name), await encodePng(image));
    const k = weights.config.num_classes;
    const channels = weights.config.in_ch;
    live.log(
      `eval: ${options.n} per class × ${k} classes at guidance ${options.guidances.join(", ")} ` +
        `(${options.sampler}, ${options.steps} steps) on ${gpu.adapter.description}`,
    );

    const started = performance.now();
    live.update("measuring the real sprites (classifier features, nearest neighbours) …");
    const report = await evaluate(gpu, weights, classifier, data, options, {
      onProgress(done, total, guidance) {
        live.update(formatProgress(
          { step: done, total, startedAt: started, fields: { guidance: String(guidance) } },
          { width: Math.min(columns, 100) },
        ));
      },
      async onGuidance(g, samples, variantImages) {
        await write(FILES.samples(g.guidance), samplesSheet(samples, k, options.n));
        for (const [v, delivered] of variantImages.entries()) {
          await write(
            FILES.variantSamples(g.guidance, v),
            samplesSheet({ ...samples, delivered }, k, options.n),
          );
        }
        await write(
          FILES.nearest(g.guidance),
          nearestPairs(samples, data.images, k, options.n, channels),
        );
        live.log(`w = ${g.guidance}: ${summary(g.overall)} (${g.seconds.toFixed(0)} s)`);
        for (const v of g.variants) live.log(`  ${v.label}: ${summary(v.overall)}`);
      },
    });
    await live.done();
    const ctx: ReportContext = {
      weights: weightsName,
      config: weights.config,
      provenance: weights.provenance,
      classifier: classifierName,
      classifierTraining: classifier.training,
      classifierFeatures: classifier.config.features,
      data: dataPath === DEFAULT_DATASET ? "the default dataset" : dataPath,
      options,
      adapter: gpu.adapter.description,
      seconds: (performance.now() - started) / 1000,
    };
    await write(FILES.accuracyChart, accuracyChart(report, ctx));
    await write(FILES.fidChart, fidChart(report, ctx));
    await writeTextAtomic(join(outDir, FILES.json), reportJson(report, ctx));
    await writeTextAtomic(join(outDir, FILES.markdown), reportMarkdown(report, ctx));
    console.log(
      `real sprites: accuracy ${(100 * classifier.training.testAccuracy.balanced).toFixed(1)} % ` +
        `(held-out), FID floor ${report.real.overall.fidFloor.toFixed(1)}, KID×10³ floor ` +
        `${(KID_SCALE * report.real.overall.kidFloor).toFixed(2)}, diversity ` +
        `${report.real.overall.diversity.toFixed(3)}, near-duplicates ` +
        `${(100 * report.real.overall.nearDuplicates).toFixed(1)} %`,
    );
    console.log(
      `wrote ${FILES.markdown}, ${FILES.json} and pictures to ${outDir}/ in ${
        (ctx.seconds / 60).toFixed(1)
      } min`,
    );
  },
};
