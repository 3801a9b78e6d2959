/**
 * Measures the seam of seamless tiles (lib/eval/seam.ts) on a weights file: one class drawn
 * with --tile xy and without, same seeds, and for each the mean absolute difference across the
 * wrap edges against that across interior edges (8-bit RGBA, mean over the sprites).
 *
 *   deno run -A scripts/seam.ts [--weights FILE] [--class terrain] [--n 16] [--steps 100]
 *                               [--seed 0] [--guidance 3]
 */

import { parseArgs } from "node:util";
import { readWeights } from "../lib/cli/weights.ts";
import { loadDefaultWeights } from "../lib/model/default_weights.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { Generator, type TileAxes } from "../lib/generate/generator.ts";
import { seam } from "../lib/eval/seam.ts";

const { values } = parseArgs({
  options: {
    weights: { type: "string" },
    class: { type: "string", default: "terrain" },
    n: { type: "string", default: "16" },
    steps: { type: "string", default: "100" },
    seed: { type: "string", default: "0" },
    guidance: { type: "string", default: "3" },
  },
});
const weights = values.weights ? await readWeights(values.weights) : loadDefaultWeights();
const cls = weights.classNames.indexOf(values.class);
if (cls < 0) throw new Error(`no class ${values.class} in ${weights.classNames.join(", ")}`);
const generator = Generator.fromWeights(await getGpu(), weights);
const n = Number(values.n);
const base = {
  classes: new Array(n).fill(cls),
  steps: Number(values.steps),
  sampler: "ddpm" as const,
  seed: Number(values.seed),
  guidance: Number(values.guidance),
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`${values.class}, ${n} sprites, ${base.steps} DDPM steps, guidance ${base.guidance}`);
console.log("sampled   measured along  wrap edge  interior  wrap/interior");
for (const tile of [undefined, "xy"] as (TileAxes | undefined)[]) {
  const { images } = await generator.generate({ ...base, tile });
  for (const axes of ["x", "y", "xy"]) {
    const seams = images.map((img) => seam(img, axes));
    const wrap = mean(seams.map((s) => s.wrap));
    const interior = mean(seams.map((s) => s.interior));
    console.log(
      `${(tile ? "tiled xy" : "untiled").padEnd(10)}${axes.padEnd(16)}${
        wrap.toFixed(1).padStart(9)
      }` +
        `${interior.toFixed(1).padStart(10)}${(wrap / interior).toFixed(2).padStart(15)}`,
    );
  }
}
generator.destroy();
