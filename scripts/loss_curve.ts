/**
 * Draws a training run's loss curve from its train.jsonl: the per-step loss
 * averaged over equal runs of steps, on a linear step axis.
 *
 *   deno run -A scripts/loss_curve.ts RUN/train.jsonl OUT.png [--points 200]
 */

import { parseArgs } from "node:util";
import { numberOption } from "../lib/cli/options.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { encodePng } from "../lib/io/png.ts";
import { drawLineChart, PALETTE } from "../lib/eval/chart.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { points: { type: "string" } },
});
const [logPath, outPath] = positionals;
if (!logPath || !outPath) {
  console.error("usage: loss_curve.ts RUN/train.jsonl OUT.png [--points N]");
  Deno.exit(2);
}
const rows = (await Deno.readTextFile(logPath)).trim().split("\n").map((l) =>
  JSON.parse(l) as { step: number; loss: number }
);
// A resumed run may log a step twice; the last entry wins.
const byStep = new Map(rows.map((r) => [r.step, r.loss]));
const steps = [...byStep.keys()].sort((a, b) => a - b);
const bins = Math.min(
  numberOption("points", values.points, 200, { min: 1, integer: true }),
  steps.length,
);
const x: number[] = [];
const mean: number[] = [];
for (let b = 0; b < bins; b++) {
  const part = steps.slice(
    Math.floor((b * steps.length) / bins),
    Math.floor(((b + 1) * steps.length) / bins),
  );
  x.push(part.at(-1)!);
  mean.push(part.reduce((s, k) => s + byStep.get(k)!, 0) / part.length);
}
const image = drawLineChart({
  title: `training loss (MSE on noise), ${steps.at(-1)} steps`,
  xLabel: "step",
  x,
  series: [{
    name: `mean loss per ${Math.round(steps.length / bins)} steps`,
    color: PALETTE[0],
    values: mean,
  }],
  yMin: 0,
});
await writeFileAtomic(outPath, await encodePng(image));
console.log(`wrote ${outPath}`);
