/**
 * Real sprites beside generated ones, one row per class: K sprites of the training data (evenly
 * spaced through the class, so not cherry-picked) on the left, K drawn by the model with the
 * `sample` defaults on the right, over the checkerboard. For looking at the model class by class
 * (weights/MODEL.md):
 *
 *   deno run -A scripts/compare_real.ts [--weights FILE] [--data PATH] [--k 8] [--seed 0]
 *     [--scale 4] [--out weights/compare-real.png]
 */

import { parseArgs } from "node:util";
import { getGpu } from "../lib/gpu/device.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import { DEFAULT_DATASET } from "../lib/data/default.ts";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import { Generator } from "../lib/generate/generator.ts";
import { imageFromTensor, type RgbaImage } from "../lib/io/image.ts";
import { encodePng } from "../lib/io/png.ts";
import { composeSheet } from "../lib/io/sheet.ts";
import { readWeights } from "../lib/cli/weights.ts";
import { loadDefaultWeights } from "../lib/model/default_weights.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    weights: { type: "string" },
    data: { type: "string", default: DEFAULT_DATASET },
    k: { type: "string", default: "8" },
    seed: { type: "string", default: "0" },
    scale: { type: "string", default: "4" },
    out: { type: "string", default: "weights/compare-real.png" },
  },
});
const k = Number(values.k);
const scale = Number(values.scale);

const weights = values.weights ? await readWeights(values.weights) : loadDefaultWeights();
const data = await loadDataset(values.data, { channels: weights.config.in_ch as 3 | 4 });
const size = data.size;
const chw = data.channels * size * size;
const classes = weights.classNames.map((_, c) => c);

const real: RgbaImage[][] = classes.map((c) => {
  const members = [...data.labels.keys()].filter((i) => data.labels[i] === c);
  return Array.from({ length: k }, (_, j) => {
    const i = members[Math.floor((j * members.length) / k)];
    return imageFromTensor(data.images, data.channels, size, size, i * chw);
  });
});

const generator = Generator.fromWeights(await getGpu(), weights);
const { images } = await generator.generate({
  ...GENERATE_DEFAULTS,
  classes: classes.flatMap((c) => Array<number>(k).fill(c)),
  seed: Number(values.seed),
});
generator.destroy();
const generated = classes.map((c) => images.slice(c * k, (c + 1) * k));

const left = composeSheet(real, { scale, gap: scale, checker: true });
const right = composeSheet(generated, { scale, gap: scale, checker: true });
// The two halves side by side with a white band between them.
const band = 4 * scale;
const width = left.width + band + right.width;
const out = new Uint8Array(width * left.height * 4).fill(255);
for (let y = 0; y < left.height; y++) {
  out.set(left.data.subarray(y * left.width * 4, (y + 1) * left.width * 4), y * width * 4);
  out.set(
    right.data.subarray(y * right.width * 4, (y + 1) * right.width * 4),
    (y * width + left.width + band) * 4,
  );
}
await Deno.writeFile(values.out, await encodePng({ width, height: left.height, data: out }));
console.log(
  `wrote ${values.out}: rows ${
    weights.classNames.join(", ")
  }; left ${k} real, right ${k} generated ` +
    `(${GENERATE_DEFAULTS.sampler}, ${GENERATE_DEFAULTS.steps} steps, guidance ` +
    `${GENERATE_DEFAULTS.guidance}, seed ${values.seed})`,
);
