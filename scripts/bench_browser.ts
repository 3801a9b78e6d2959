/**
 * Seconds per guided sampling step in the browser beside the CLI's engine, same run:
 *
 *   deno run -A scripts/bench_browser.ts [--sprites 1,16] [--steps 20] [--reps 3]
 *
 * The browser: the built page (scripts/build_browser.ts) served from 127.0.0.1 in headless
 * Chromium (its WebGPU adapter here is SwiftShader, on the CPU), requests sent to the
 * page's generator (`pixelDiffusion.generator`). The CLI: the same Generator in this Deno
 * process on its adapter (lavapipe here). Both run the shipped weights (small preset) at
 * guidance 3 (2N rows per step), the ancestral sampler, no previews. Each count is
 * warmed up first (pipelines compiled), then timed `--reps` times, alternating browser
 * and CLI so that load from other processes falls on both; medians are printed.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { getGpu } from "../lib/gpu/device.ts";
import { Generator } from "../lib/generate/generator.ts";
import { loadDefaultWeights } from "../lib/model/default_weights.ts";
import { Chromium } from "../tests/chromium.ts";
import { serveFolder } from "../tests/static_server.ts";
import { buildBrowserPage } from "./build_browser.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sprites: { type: "string", default: "1,16" },
    steps: { type: "string", default: "20" },
    reps: { type: "string", default: "3" },
  },
});
const positive = (name: string, text: string) => {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`error: --${name} must be a positive integer, not '${text}'`);
    Deno.exit(1);
  }
  return v;
};
const counts = values.sprites.split(",").map((s) => positive("sprites", s));
const steps = positive("steps", values.steps);
const reps = positive("reps", values.reps);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const request = (n: number, k: number, stepCount: number) => ({
  classes: Array.from({ length: n }, (_, i) => i % k),
  guidance: 3,
  steps: stepCount,
  sampler: "ddpm" as const,
  seed: 1,
});

const dir = await Deno.makeTempDir({ prefix: "bench-browser-" });
const { url, server } = serveFolder(dir);
let browser: Chromium | null = null;
try {
  await buildBrowserPage(join(dir, "site"));
  browser = await Chromium.launch();
  await browser.goto(`${url}site/`);
  while ((await browser.evaluate<string>("document.body.dataset.state")) !== "ready") {
    await new Promise((r) => setTimeout(r, 200));
  }
  const gpu = await getGpu();
  const weights = loadDefaultWeights();
  const cli = Generator.fromWeights(gpu, weights);
  const k = weights.config.num_classes;
  const page = browser;
  const inBrowser = (n: number, stepCount: number) =>
    page.evaluate<number>(
      `pixelDiffusion.generator.generate(${
        JSON.stringify(request(n, k, stepCount))
      }).then((g) => g.seconds)`,
    );
  const inCli = async (n: number, stepCount: number) =>
    (await cli.generate(request(n, k, stepCount))).seconds;
  const adapters = `browser: ${await page.evaluate<string>(
    "pixelDiffusion.gpu.adapter.description",
  )}; CLI: ${gpu.adapter.description}`;
  console.log(`${adapters}; ${steps} steps per run, ${reps} runs, medians`);
  console.log("sprites  rows  browser s/step  CLI s/step  browser/CLI");
  for (const n of counts) {
    await inBrowser(n, 2);
    await inCli(n, 2);
    const b: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < reps; r++) {
      b.push((await inBrowser(n, steps)) / steps);
      c.push((await inCli(n, steps)) / steps);
    }
    const [mb, mc] = [median(b), median(c)];
    console.log(
      `${String(n).padStart(7)}  ${String(2 * n).padStart(4)}  ${mb.toFixed(3).padStart(14)}  ` +
        `${mc.toFixed(3).padStart(10)}  ${(mb / mc).toFixed(2).padStart(11)}`,
    );
  }
  cli.destroy();
  console.log(
    `load average ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")} ` +
      `on ${navigator.hardwareConcurrency} cores (a shared machine: numbers are noisy)`,
  );
} finally {
  await browser?.close();
  await server.shutdown();
  await Deno.remove(dir, { recursive: true });
}
