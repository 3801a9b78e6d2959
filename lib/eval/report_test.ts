import { deepStrictEqual, ok } from "node:assert/strict";
import { postProcess } from "../generate/postprocess.ts";
import { imageFromTensor } from "../io/image.ts";
import { PALETTE } from "./chart.ts";
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
  kid: x / 100,
  memorised: 0,
  nearestMedian: 0.3,
  diversity: 0.5,
});
const real = {
  count: 20,
  fidFloor: 2,
  kidFloor: -0.0004,
  diversity: 0.6,
  nearDuplicates: 0.05,
  nearestMedian: 0.2,
};

const report: EvalReport = {
  classNames: ["potions", "swords"],
  threshold: 0.1,
  real: { perClass: [real, { ...real, fidFloor: NaN }], overall: real },
  guidance: [1, 7.5].map((guidance) => ({
    guidance,
    seconds: 12,
    perClass: [metrics(0.5), metrics(0.75)],
    overall: metrics(0.625),
    variants: [{
      label: "palette=pico8 despeckle",
      perClass: [metrics(0.25), metrics(0.5)],
      overall: metrics(0.375),
    }],
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
      validationFraction: 0,
      shift: 1,
      jitter: 0,
      classPower: 0,
      smoothing: 0,
      mixup: 0,
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
  ok(md.includes("| potions | 5.00 | 5.00 | -0.40 |"), "KID ×1000 beside its floor");
  ok(md.includes("![samples](samples-g7.5.png)"));
  ok(md.includes("| sprites | accuracy w = 1 | FID w = 1 | accuracy w = 7.5 | FID w = 7.5 |"));
  ok(md.includes("| raw output | 62.5 % | 6.3 | 62.5 % | 6.3 |"), md);
  ok(md.includes("| `palette=pico8 despeckle` | 37.5 % | 3.8 | 37.5 % | 3.8 |"), md);
  ok(md.includes("![palette=pico8 despeckle](samples-g7.5-post1.png)"));
  const json = JSON.parse(reportJson(report, ctx));
  deepStrictEqual(json.real.perClass[1].fidFloor, null);
  deepStrictEqual(json.guidance[1].overall.accuracy, 0.625);
  deepStrictEqual(json.options.guidances, [1, 7.5]);
  for (const chart of [accuracyChart(report, ctx), fidChart(report, ctx)]) {
    deepStrictEqual([chart.width, chart.height], [720, 400]);
    const drawsFirstSeries = chart.data.some((_, i) =>
      i % 4 === 0 && PALETTE[0].every((v, c) => chart.data[i + c] === v)
    );
    ok(drawsFirstSeries, "no pixel of the first series' colour: the lines were not drawn");
  }
});

Deno.test("report: sample sheet and nearest pairs place each sprite, closest first, mirrored when compared so", () => {
  const n = 3;
  const plane = 256;
  const chw = 4 * plane;
  // Sample r is opaque with red (r + 1)/10 in [0, 1] units; sample 2's alpha is just under
  // half, so the sheets (alpha snapped as `sample` writes it) show the checkerboard there.
  const images = new Float32Array(2 * n * chw).fill(-1);
  for (let r = 0; r < 2 * n; r++) {
    images.fill((r + 1) / 5 - 1, r * chw, r * chw + plane);
    images.fill(r === 2 ? -0.1 : 1, r * chw + 3 * plane, (r + 1) * chw);
  }
  // Training sprite 0 is green; sprite 1 is blue in its left half only.
  const training = new Float32Array(2 * chw).fill(-1);
  training.fill(1, plane, 2 * plane);
  training.fill(1, 3 * plane, 4 * plane);
  for (let i = 0; i < plane; i++) if (i % 16 < 8) training[chw + 2 * plane + i] = 1;
  training.fill(1, chw + 3 * plane, 2 * chw);
  // Delivered as `sample` writes them: through the post-processing pipeline (alpha snapped).
  const delivered = postProcess(
    Array.from({ length: 2 * n }, (_, r) => imageFromTensor(images, 4, 16, 16, r * chw)),
  );
  const samples = {
    guidance: 1,
    images,
    delivered,
    predicted: new Int32Array(2 * n),
    nearest: {
      index: Int32Array.from([0, 1, 0, 1, 0, 1]),
      flipped: Uint8Array.from([0, 1, 0, 0, 1, 0]),
      distance: Float64Array.from([0.5, 0.1, 0.3, 0.2, 0.4, 0.6]),
    },
  };
  const red = (r: number) => Math.round((Math.fround((r + 1) / 5 - 1) + 1) * 127.5);
  const pixel = (
    img: { width: number; data: Uint8Array },
    x: number,
    y: number,
  ) => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)];
  const isChecker = ([r, g, b]: number[]) => r === g && g === b && (r === 0x99 || r === 0x66);
  const expectSample = (got: number[], r: number, where: string) =>
    r === 2
      ? ok(isChecker(got), `${where}: sample 2 should be transparent, got ${got}`)
      : deepStrictEqual(got, [red(r), 0, 0], where);

  const sheet = samplesSheet(samples, 2, n);
  deepStrictEqual([sheet.width, sheet.height], [3 * 64 + 2 * 2, 2 * 64 + 2]);
  for (let r = 0; r < 2 * n; r++) {
    const [c, i] = [Math.floor(r / n), r % n];
    expectSample(pixel(sheet, i * 66 + 10, c * 66 + 10), r, `sheet tile ${c},${i}`);
  }

  const pairs = nearestPairs(samples, training, 2, n, 4);
  const pairWidth = 2 * 64 + 2;
  deepStrictEqual([pairs.width, pairs.height], [3 * pairWidth + 2 * 12, 2 * 64 + 12]);
  const closestFirst = [[1, 2, 0], [3, 4, 5]];
  closestFirst.forEach((rows, c) =>
    rows.forEach((r, j) => {
      const left = j * (pairWidth + 12);
      const top = c * (64 + 12) + 10;
      expectSample(pixel(pairs, left + 10, top), r, `pair ${c},${j} sample`);
      const nearest = left + 66;
      if (samples.nearest.index[r] === 0) {
        deepStrictEqual(pixel(pairs, nearest + 10, top), [0, 255, 0], `pair ${c},${j} sprite 0`);
        return;
      }
      // Sprite 1's blue half: left as stored, right when the mirror was the closer match.
      const blueLeft = samples.nearest.flipped[r] === 0;
      deepStrictEqual(pixel(pairs, nearest + 10, top), [0, 0, blueLeft ? 255 : 0]);
      deepStrictEqual(pixel(pairs, nearest + 54, top), [0, 0, blueLeft ? 0 : 255]);
    })
  );
});

Deno.test("eval: sampling batches are equal and cover every sprite", () => {
  deepStrictEqual(batchPlan(256, 128), { batches: 2, size: 128 });
  deepStrictEqual(batchPlan(40, 128), { batches: 1, size: 40 });
  deepStrictEqual(batchPlan(130, 64), { batches: 3, size: 44 });
});
