/**
 * End to end: `main.ts eval` on a tiny untrained model, an untrained classifier and the
 * two-class test dataset of cli_helpers.ts. The samples' scores are arbitrary here; what the
 * test holds them to is their form, and the real sprites' numbers to values worked out by
 * hand from how the dataset is drawn.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { classifierSpecs, defaultClassifierConfig } from "../lib/eval/classifier.ts";
import { type Accuracy, encodeClassifier } from "../lib/eval/classifier_io.ts";
import { CLASSIFIER_RECIPE } from "../lib/eval/classifier_train.ts";
import { decodePng } from "../lib/io/png.ts";
import { initParams } from "../lib/model/init.ts";
import { ParamLayout } from "../lib/nn/params.ts";
import {
  listDir,
  runMain,
  succeeded,
  TINY_CONFIG,
  withTempDir,
  writeTinyDataset,
  writeTinyWeights,
} from "./cli_helpers.ts";

const CLASSES = ["class 0", "class 1"];

/** A seeded, untrained classifier for RGBA sprites of {@link CLASSES}. */
async function writeUntrainedClassifier(path: string): Promise<void> {
  const config = defaultClassifierConfig(4, CLASSES.length);
  const layout = new ParamLayout(classifierSpecs(config));
  const chance: Accuracy = { overall: 0.5, balanced: 0.5, perClass: [0.5, 0.5], counts: [6, 6] };
  await Deno.writeFile(
    path,
    encodeClassifier({
      config,
      classNames: CLASSES,
      layout,
      flat: initParams(layout, 3),
      training: {
        dataset: "none: untrained",
        datasetHash: "",
        recipe: { ...CLASSIFIER_RECIPE, steps: 0 },
        seconds: 0,
        adapter: "none",
        testAccuracy: chance,
        trainAccuracy: chance,
      },
    }),
  );
}

/** RMS distance of two sprites of the dataset differing in `pixels` pixels by `rgba` (0–255). */
const rms = (pixels: number, rgba: number[]) =>
  Math.sqrt((pixels * rgba.reduce((s, d) => s + (d / 127.5) ** 2, 0)) / 1024);

Deno.test("eval: files, report shape, and the real sprites' numbers on a tiny model", async () => {
  await withTempDir("eval-cli-", async (dir) => {
    const data = await writeTinyDataset(dir);
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights, {
      config: { ...TINY_CONFIG, num_classes: 2 },
      classNames: CLASSES,
    });
    const classifier = join(dir, "classifier.safetensors");
    await writeUntrainedClassifier(classifier);
    const out = join(dir, "eval");
    const r = await runMain([
      ..."eval --n 4 --guidance 0,2 --steps 2 --batch 8".split(" "),
      ...["--weights", weights, "--classifier", classifier, "--data", data, "--out", out],
    ]);
    succeeded(r);
    ok(r.stdout.includes("real sprites: accuracy 50.0 % (held-out)"), r.stdout);
    deepStrictEqual(listDir(out), [
      "accuracy.png",
      "fid.png",
      "nearest-g0.png",
      "nearest-g2.png",
      "report.json",
      "report.md",
      "samples-g0.png",
      "samples-g2.png",
    ]);
    // One row of 4 sprites per class, 4× upscaled with 2-px gaps.
    for (const g of [0, 2]) {
      const sheet = await decodePng(await Deno.readFile(join(out, `samples-g${g}.png`)), "sheet");
      deepStrictEqual([sheet.width, sheet.height], [4 * 64 + 3 * 2, 2 * 64 + 2]);
    }

    const report = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
    deepStrictEqual(report.classNames, CLASSES);
    deepStrictEqual(report.options.n, 4);
    // The dataset (cli_helpers.ts): sprite n has class n % 2 and shift n % 4, so each class has
    // two distinct sprites, 16 copies each. Class 0: red squares 2 px apart, differing in 2 × 2
    // columns of 8 pixels (opaque red against transparent black); class 1: complementary blue
    // and white stripes, differing in every pixel. Pairs: 16 · 16 of 32 · 31 / 2 differ.
    const differ = (16 * 16) / ((32 * 31) / 2);
    const diversity = [
      differ * rms(32, [220, 40, 40, 255]),
      differ * rms(256, [240 - 30, 240 - 60, 240 - 200, 0]),
    ];
    report.real.perClass.forEach((m: Record<string, number>, c: number) => {
      deepStrictEqual([m.count, m.nearDuplicates, m.nearestMedian], [32, 1, 0], `class ${c}`);
      ok(Math.abs(m.diversity - diversity[c]) < 1e-6, `class ${c}: diversity ${m.diversity}`);
    });
    const overall = report.real.overall;
    deepStrictEqual([overall.count, overall.nearDuplicates, overall.nearestMedian], [64, 1, 0]);
    ok(Math.abs(overall.diversity - (diversity[0] + diversity[1]) / 2) < 1e-6);

    deepStrictEqual(report.guidance.map((g: { guidance: number }) => g.guidance), [0, 2]);
    for (const g of report.guidance) {
      deepStrictEqual(g.perClass.length, 2);
      for (const m of [...g.perClass, g.overall]) {
        // Accuracy counts 4 sprites per class; the shares are of 4 or 8 sprites.
        ok(Number.isInteger(m.accuracy * 8) && m.accuracy >= 0 && m.accuracy <= 1, `${m.accuracy}`);
        ok(Number.isInteger(m.memorised * 8) && m.memorised >= 0 && m.memorised <= 1);
        ok(m.fid === null || m.fid >= 0, `fid ${m.fid}`);
        ok(m.diversity > 0 && m.nearestMedian > 0, JSON.stringify(m));
      }
      const mean = (g.perClass[0].accuracy + g.perClass[1].accuracy) / 2;
      deepStrictEqual(g.overall.accuracy, mean);
    }
    const markdown = await Deno.readTextFile(join(out, "report.md"));
    ok(markdown.includes("samples-g2.png") && markdown.includes(weights), markdown);
  });
});
