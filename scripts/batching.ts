/**
 * Would batching compatible jobs help `serve` (issue 14)? The server runs one job at a time;
 * jobs with the same options but their own seeds could run as one batch. This measures what that
 * could save on this machine: k jobs of n sprites one after another (as the queue runs them) against
 * one request of k·n sprites, on one loaded Generator with the shipped weights and the default
 * request (dpm++sde, 10 steps, guidance 3). Wall time of the generate calls, medians over --runs,
 * the two orders interleaved so load on a shared machine hits both alike; every batch size is run
 * once before timing, so pipelines are built and shaders compiled.
 *
 *   deno run -A scripts/batching.ts [--runs 7] [--k 2,4] [--n 1]
 */

import { parseArgs } from "node:util";
import { getGpu } from "../lib/gpu/device.ts";
import { openWeights } from "../lib/cli/weights.ts";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import { Generator } from "../lib/generate/generator.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "7" },
    k: { type: "string", default: "2,4" },
    n: { type: "string", default: "1" },
  },
});
const runs = Number(values.runs);
const sizes = values.k.split(",").map(Number);
const n = Number(values.n);

const gpu = await getGpu();
const { weights } = await openWeights(undefined);
const generator = Generator.fromWeights(gpu, weights);
const request = (sprites: number, seed: number) => ({
  ...GENERATE_DEFAULTS,
  guidanceInterval: undefined,
  classes: Array.from({ length: sprites }, () => 1),
  seed,
});
const timed = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const k of [1, ...sizes]) await generator.generate(request(k * n, 0)); // warm-up

const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "?")).split(" ")[0];
console.log(`${gpu.adapter.description}; load average ${load} at the start; ${runs} runs\n`);
console.log("| jobs | one after another (ms) | one batch (ms) | batch ÷ sequential |");
console.log("| ---- | ---------------------- | -------------- | ------------------ |");
for (const k of sizes) {
  const sequential: number[] = [];
  const batched: number[] = [];
  for (let run = 0; run < runs; run++) {
    const one = () => timed(() => generator.generate(request(k * n, run)));
    const each = () =>
      timed(async () => {
        for (let j = 0; j < k; j++) await generator.generate(request(n, run * k + j));
      });
    // Alternate which goes first, so a load spike is not always charged to the same side.
    if (run % 2 === 0) {
      sequential.push(await each());
      batched.push(await one());
    } else {
      batched.push(await one());
      sequential.push(await each());
    }
  }
  const [s, b] = [median(sequential), median(batched)];
  const jobs = `${k} × ${n} sprite${n > 1 ? "s" : ""}`;
  console.log(`| ${jobs} | ${s.toFixed(0)} | ${b.toFixed(0)} | ${(b / s).toFixed(2)} |`);
}
generator.destroy();
