/**
 * Trains the sprite classifier that `main.ts eval` judges samples with, and writes it as
 * safetensors (default: weights/classifier.safetensors, which `eval` embeds).
 *
 *   deno run -A scripts/train_classifier.ts [--data PATH] [--out FILE] [recipe options]
 *
 * The labelled sprites are split per class (seeded): 20 % are the test split, never trained on
 * or chosen on. With --validation F, a share F of the rest is held out as well and judged every
 * --validate-every steps: that is the split recipe and architecture choices are made on. The
 * shipped classifier trains on all non-test sprites (--validation 0) with class-balanced
 * batches and augmentation; its test accuracy is printed and stored in the file's metadata.
 */

import { parseArgs } from "node:util";
import { datasetHash, DEFAULT_DATASET, loadDataset } from "../lib/data/dataset.ts";
import { type ClassifierConfig, defaultClassifierConfig } from "../lib/eval/classifier.ts";
import { encodeClassifier } from "../lib/eval/classifier_io.ts";
import {
  CLASSIFIER_RECIPE,
  type ClassifierRecipe,
  type Judged,
  trainClassifier,
} from "../lib/eval/classifier_train.ts";
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
    batch: { type: "string" },
    lr: { type: "string" },
    "weight-decay": { type: "string" },
    warmup: { type: "string" },
    shift: { type: "string" },
    jitter: { type: "string" },
    smoothing: { type: "string" },
    "class-power": { type: "string" },
    mixup: { type: "string" },
    validation: { type: "string" },
    "validate-every": { type: "string" },
    widths: { type: "string" },
    features: { type: "string" },
  },
});
const R = CLASSIFIER_RECIPE;
const int = { integer: true };
const recipe: ClassifierRecipe = {
  ...R,
  steps: numberOption("steps", values.steps, R.steps, { min: 1, ...int }),
  seed: numberOption("seed", values.seed, R.seed, { min: 0, max: 2 ** 32 - 1, ...int }),
  batch: numberOption("batch", values.batch, R.batch, { min: 1, max: 1024, ...int }),
  lr: numberOption("lr", values.lr, R.lr, { min: 0, max: 1 }),
  weightDecay: numberOption("weight-decay", values["weight-decay"], R.weightDecay, { min: 0 }),
  warmup: numberOption("warmup", values.warmup, R.warmup, { min: 0, ...int }),
  shift: numberOption("shift", values.shift, R.shift, { min: 0, max: 4, ...int }),
  jitter: numberOption("jitter", values.jitter, R.jitter, { min: 0, max: 1 }),
  classPower: numberOption("class-power", values["class-power"], R.classPower, { min: 0, max: 1 }),
  smoothing: numberOption("smoothing", values.smoothing, R.smoothing, { min: 0, max: 1 }),
  mixup: numberOption("mixup", values.mixup, R.mixup, { min: 0, max: 10 }),
  validationFraction: numberOption("validation", values.validation, R.validationFraction, {
    min: 0,
    max: 0.5,
  }),
};
const validateEvery = numberOption("validate-every", values["validate-every"], 0, {
  min: 0,
  ...int,
});
const data = await loadDataset(values.data);
const gpu = await getGpu();
const base = defaultClassifierConfig(data.channels, data.classNames.length);
const config: ClassifierConfig = {
  ...base,
  widths: values.widths === undefined
    ? base.widths
    : values.widths.split(",").map((w) => numberOption("widths", w, 0, { min: 8, ...int })),
  features: numberOption("features", values.features, base.features, { min: 4, ...int }),
};
console.log(
  `${data.count} sprites (${data.source}), ${data.classNames.length} classes, ` +
    `config ${JSON.stringify(config)}, recipe ${JSON.stringify(recipe)}`,
);
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const line = (j: Judged) =>
  `accuracy ${pct(j.accuracy.overall)}, balanced ${pct(j.accuracy.balanced)}, ` +
  `loss ${j.loss.toFixed(4)}`;
const result = await trainClassifier(gpu, data, config, recipe, {
  onLog: (step, loss) => console.log(`step ${step}/${recipe.steps}  loss ${loss.toFixed(4)}`),
  onValidate: (step, judged) => console.log(`step ${step}  validation ${line(judged)}`),
  validateEvery,
});

console.log(`\ntrained in ${result.seconds.toFixed(0)} s on ${gpu.adapter.description}`);
// While choices are made on the validation split, the test split's numbers stay unseen.
const splits: [string, Judged][] = result.validation
  ? [["train", result.train], ["validation", result.validation]]
  : [["train", result.train], ["test", result.test]];
console.log(`class       ${splits.map(([name]) => name.padStart(17)).join("")}`);
const cell = (j: Judged, c: number) =>
  `${pct(j.accuracy.perClass[c]).padStart(9)} (${String(j.accuracy.counts[c]).padStart(3)}) `;
data.classNames.forEach((name, c) => {
  console.log(`${name.padEnd(12)}${splits.map(([, j]) => cell(j, c)).join("")}`);
});
for (const key of ["overall", "balanced"] as const) {
  console.log(
    `${key.padEnd(12)}${
      splits.map(([, j]) => pct(j.accuracy[key]).padStart(9) + " ".repeat(8))
        .join("")
    }`,
  );
}
console.log(
  `loss        ${splits.map(([, j]) => j.loss.toFixed(4).padStart(9) + " ".repeat(8)).join("")}`,
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
      testAccuracy: result.test.accuracy,
      trainAccuracy: result.train.accuracy,
    },
    flat: result.flat,
    layout: result.layout,
  }),
);
console.log(`wrote ${values.out}`);
