/**
 * Trains the sprite classifier that `main.ts eval` judges samples with, and writes it as
 * safetensors (default: weights/classifier.safetensors, which `eval` embeds).
 *
 *   deno run -A scripts/train_classifier.ts [--data PATH] [--out FILE] [--steps N] [--seed S]
 *
 * The labelled sprites are split per class (seeded, 80/20); the classifier trains on the 80 %
 * with class-balanced batches and flips, and its accuracy on the held-out 20 % is printed and
 * stored in the file's metadata.
 */

import { parseArgs } from "node:util";
import { datasetHash, DEFAULT_DATASET, loadDataset } from "../lib/data/dataset.ts";
import { defaultClassifierConfig } from "../lib/eval/classifier.ts";
import { encodeClassifier } from "../lib/eval/classifier_io.ts";
import { CLASSIFIER_RECIPE, trainClassifier } from "../lib/eval/classifier_train.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { numberOption } from "../lib/cli/options.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: DEFAULT_DATASET },
    out: { type: "string", default: "weights/classifier.safetensors" },
    steps: { type: "string" },
    seed: { type: "string" },
  },
});
const recipe = {
  ...CLASSIFIER_RECIPE,
  steps: numberOption("steps", values.steps, CLASSIFIER_RECIPE.steps, { min: 1, integer: true }),
  seed: numberOption("seed", values.seed, CLASSIFIER_RECIPE.seed, {
    min: 0,
    max: 2 ** 32 - 1,
    integer: true,
  }),
};
const data = await loadDataset(values.data);
const gpu = await getGpu();
const config = defaultClassifierConfig(data.channels, data.classNames.length);
console.log(
  `${data.count} sprites (${data.source}), ${data.classNames.length} classes, ` +
    `recipe ${JSON.stringify(recipe)}`,
);
const result = await trainClassifier(gpu, data, config, recipe, (step, loss) => {
  console.log(`step ${step}/${recipe.steps}  loss ${loss.toFixed(4)}`);
});

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
console.log(`\ntrained in ${result.seconds.toFixed(0)} s on ${gpu.adapter.description}`);
console.log("class        train   held-out (sprites)");
data.classNames.forEach((name, c) => {
  const test = result.testAccuracy;
  console.log(
    `${name.padEnd(12)} ${pct(result.trainAccuracy.perClass[c]).padStart(7)} ` +
      `${pct(test.perClass[c]).padStart(8)} (${test.counts[c]})`,
  );
});
const t = result.testAccuracy;
console.log(
  `overall      ${pct(result.trainAccuracy.overall).padStart(7)} ${pct(t.overall).padStart(8)}`,
);
console.log(
  `balanced     ${pct(result.trainAccuracy.balanced).padStart(7)} ${pct(t.balanced).padStart(8)}`,
);

await writeFileAtomic(
  values.out,
  encodeClassifier({
    config,
    classNames: data.classNames,
    training: {
      dataset: values.data === DEFAULT_DATASET ? "default (data/angband)" : values.data,
      datasetHash: await datasetHash(data),
      recipe,
      seconds: Math.round(result.seconds),
      adapter: gpu.adapter.description,
      testAccuracy: result.testAccuracy,
      trainAccuracy: result.trainAccuracy,
    },
    flat: result.flat,
    layout: result.layout,
  }),
);
console.log(`wrote ${values.out}`);
