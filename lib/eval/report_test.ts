import { deepStrictEqual, ok } from "node:assert/strict";
import { batchPlan, type EvalReport, type SampleMetrics } from "./evaluate.ts";
import {
  accuracyChart,
  fidChart,
  nearestPairs,
  type ReportContext,
  reportJson,
  reportMarkdown,
  samplesSheet,
} from "./report.ts";

const metrics = (x: number): SampleMetrics => ({
  accuracy: x,
  fid: 10 * x,
  memorised: 0,
  nearestMedian: 0.3,
  diversity: 0.5,
});
const real = { count: 20, fidFloor: 2, diversity: 0.6, nearDuplicates: 0.05, nearestMedian: 0.2 };

const report: EvalReport = {
  classNames: ["potions", "swords"],
  threshold: 0.1,
  real: { perClass: [real, { ...real, fidFloor: NaN }], overall: real },
  guidance: [1, 7.5].map((guidance) => ({
    guidance,
    seconds: 12,
    perClass: [metrics(0.5), metrics(0.75)],
    overall: metrics(0.625),
  })),
};

const accuracy = { overall: 0.9, balanced: 0.85, perClass: [0.8, 0.9], counts: [5, 10] };
const ctx: ReportContext = {
  weights: "w.safetensors",
  config: {
    in_ch: 4,
    base_ch: 32,
    channel_mults: [1, 2, 2],
    num_res_blocks: 2,
    use_attention: [false, true, true],
    num_classes: 2,
  },
  provenance: {},
  classifier: "c.safetensors",
  classifierTraining: {
    dataset: "d",
    datasetHash: "",
    recipe: {
      steps: 1,
      batch: 1,
      lr: 1,
      weightDecay: 0,
      warmup: 0,
      seed: 3,
      testFraction: 0.2,
      shift: 1,
    },
    seconds: 1,
    adapter: "a",
    testAccuracy: accuracy,
    trainAccuracy: accuracy,
  },
  classifierFeatures: 128,
  data: "the default dataset",
  options: { n: 3, guidances: [1, 7.5], steps: 10, sampler: "ddim", eta: 0, seed: 0, batch: 8 },
  adapter: "llvmpipe",
  seconds: 90,
};

Deno.test("report: markdown tables per measure, JSON with NaN as null, charts", () => {
  const md = reportMarkdown(report, ctx);
  ok(md.includes("| class | w = 1 | w = 7.5 | real (held-out) |"));
  ok(md.includes("| potions | 50.0 % | 50.0 % | 80.0 % (5) |"));
  ok(md.includes("| swords | 7.5 | 7.5 | – |"), "a missing floor shows as a dash");
  ok(md.includes("![samples](samples-g7.5.png)"));
  const json = JSON.parse(reportJson(report, ctx));
  deepStrictEqual(json.real.perClass[1].fidFloor, null);
  deepStrictEqual(json.guidance[1].overall.accuracy, 0.625);
  deepStrictEqual(json.options.guidances, [1, 7.5]);
  for (const chart of [accuracyChart(report, ctx), fidChart(report, ctx)]) {
    deepStrictEqual([chart.width, chart.height], [720, 400]);
  }
});

Deno.test("report: sample sheet and nearest pairs have one row per class", () => {
  const n = 3;
  const chw = 4 * 256;
  const images = new Float32Array(2 * n * chw).fill(0.5);
  const samples = {
    guidance: 1,
    images,
    predicted: new Int32Array(2 * n),
    nearest: {
      index: Int32Array.from([0, 1, 0, 1, 0, 1]),
      flipped: Uint8Array.from([0, 1, 0, 0, 1, 0]),
      distance: Float64Array.from([0.5, 0.1, 0.3, 0.2, 0.4, 0.6]),
    },
  };
  const sheet = samplesSheet(samples, 2, n, 4);
  deepStrictEqual([sheet.width, sheet.height], [3 * 64 + 2 * 2, 2 * 64 + 2]);
  const pairs = nearestPairs(samples, new Float32Array(2 * chw), 2, n, 4);
  const pairWidth = 2 * 64 + 2;
  deepStrictEqual([pairs.width, pairs.height], [3 * pairWidth + 2 * 12, 2 * 64 + 12]);
});

Deno.test("eval: sampling batches are equal and cover every sprite", () => {
  deepStrictEqual(batchPlan(256, 128), { batches: 2, size: 128 });
  deepStrictEqual(batchPlan(40, 128), { batches: 1, size: 40 });
  deepStrictEqual(batchPlan(130, 64), { batches: 3, size: 44 });
});
