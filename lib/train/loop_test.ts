/** The training loop's progress reports, on a real adapter (tiny model, synthetic sprites). */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import type { SpriteDataset } from "../data/dataset.ts";
import { getGpu } from "../gpu/device.ts";
import { TINY_CONFIG } from "../generate/testing.ts";
import { type Progress, trainLoop } from "./loop.ts";
import { RECIPE } from "./trainer.ts";

Deno.test("trainLoop reports after the first step, then every logEvery; rates count from the first report", async () => {
  const count = 16;
  const data: SpriteDataset = {
    images: Float32Array.from({ length: count * 4 * 256 }, (_, i) => Math.sin(i) * 0.9),
    labels: Int32Array.from({ length: count }, (_, i) => i % TINY_CONFIG.num_classes),
    count,
    channels: 4,
    size: 16,
    classNames: ["a", "b", "c"],
    source: "synthetic",
  };
  const outDir = await Deno.makeTempDir({ prefix: "loop-test-" });
  const reports: Progress[] = [];
  try {
    await trainLoop(await getGpu(), data, "hash", null, {
      hyper: { ...RECIPE, batch: 8, seed: 0, totalSteps: 9 },
      config: TINY_CONFIG,
      outDir,
      logEvery: 4,
      checkpointEvery: 100,
      sampleEvery: 0,
      keep: 1,
    }, { onProgress: (p) => reports.push(p) });
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
  deepStrictEqual(reports.map((p) => p.step), [1, 4, 8, 9]);
  const [first, ...later] = reports;
  // The first report times the first step from the start (on a new machine: the compile too);
  // every later one from the end of that step.
  deepStrictEqual(first.rateFrom, { step: 0, at: first.startedAt });
  for (const p of later) {
    equal(p.rateFrom.step, 1);
    ok(p.rateFrom.at > first.startedAt, "the rate still counts from the start");
  }
  for (const p of reports) ok(Number.isFinite(p.imagesPerSecond) && p.imagesPerSecond > 0);
});
