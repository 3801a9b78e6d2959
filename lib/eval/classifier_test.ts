import { deepStrictEqual, ok } from "node:assert/strict";
import { createTensor, download, getGpu, numel, Program, upload } from "../gpu/mod.ts";
import { initParams } from "../model/init.ts";
import { ParamLayout, ParamStore } from "../nn/params.ts";
import { mulberry32 } from "../util/rng.ts";
import { assertClose, assertNear, finiteDiff, pick, randn, read, spread } from "../nn/testing.ts";
import {
  type ClassifierConfig,
  classifierSpecs,
  headWidth,
  SpriteClassifier,
} from "./classifier.ts";
import { encodeClassifier, parseClassifier } from "./classifier_io.ts";
import {
  betaSample,
  ClassSchedule,
  jitterColours,
  meanCrossEntropy,
  mixRows,
  stratifiedSplit,
  trainClassifier,
  trainingSplit,
} from "./classifier_train.ts";
import { softmaxXent } from "./xent.ts";

/** The classifier's forward in f64 loops: conv 3×3 → GroupNorm(8) + SiLU (×2, pool) …, fc, head. */
function reference(
  c: ClassifierConfig,
  layout: ParamLayout,
  params: Float64Array,
  x: Float64Array,
  n: number,
) {
  const p = (name: string) => {
    const e = layout.get(name);
    return params.subarray(e.offset, e.offset + numel(e.shape));
  };
  let h = x;
  let ch = c.in_ch;
  let size = 16;
  c.widths.forEach((width, s) => {
    for (let j = 0; j < 2; j++) {
      const prefix = `stages.${s}.${j}`;
      const w = p(`${prefix}.conv.weight`);
      const b = p(`${prefix}.conv.bias`);
      const hw = size * size;
      const y = new Float64Array(n * width * hw);
      for (let i = 0; i < n; i++) {
        for (let o = 0; o < width; o++) {
          for (let r = 0; r < size; r++) {
            for (let q = 0; q < size; q++) {
              let acc = b[o];
              for (let ci = 0; ci < ch; ci++) {
                for (let ky = 0; ky < 3; ky++) {
                  for (let kx = 0; kx < 3; kx++) {
                    const rr = r + ky - 1;
                    const qq = q + kx - 1;
                    if (rr < 0 || rr >= size || qq < 0 || qq >= size) continue;
                    acc += w[((o * ch + ci) * 3 + ky) * 3 + kx] *
                      h[((i * ch + ci) * size + rr) * size + qq];
                  }
                }
              }
              y[((i * width + o) * size + r) * size + q] = acc;
            }
          }
        }
      }
      const gamma = p(`${prefix}.norm.weight`);
      const beta = p(`${prefix}.norm.bias`);
      const cpg = width / 8;
      for (let i = 0; i < n; i++) {
        for (let g = 0; g < 8; g++) {
          const part = y.subarray((i * width + g * cpg) * hw, (i * width + (g + 1) * cpg) * hw);
          const mean = part.reduce((a, v) => a + v, 0) / part.length;
          const variance = part.reduce((a, v) => a + (v - mean) ** 2, 0) / part.length;
          part.forEach((v, e) => {
            const z =
              ((v - mean) / Math.sqrt(variance + 1e-5)) * gamma[g * cpg + Math.floor(e / hw)] +
              beta[g * cpg + Math.floor(e / hw)];
            part[e] = z / (1 + Math.exp(-z));
          });
        }
      }
      h = y;
      ch = width;
    }
    const half = size / 2;
    const pooled = new Float64Array(n * ch * half * half);
    pooled.forEach((_, e) => {
      const q = e % half;
      const r = Math.floor(e / half) % half;
      const plane = Math.floor(e / (half * half));
      const at = (rr: number, qq: number) => h[(plane * size + rr) * size + qq];
      pooled[e] = (at(2 * r, 2 * q) + at(2 * r, 2 * q + 1) + at(2 * r + 1, 2 * q) +
        at(2 * r + 1, 2 * q + 1)) / 4;
    });
    h = pooled;
    size = half;
  });
  const linear = (input: Float64Array, name: string, inF: number, out: number, silu: boolean) => {
    const w = p(`${name}.weight`);
    const b = p(`${name}.bias`);
    const y = new Float64Array(n * out);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < out; o++) {
        let acc = b[o];
        for (let k = 0; k < inF; k++) acc += w[o * inF + k] * input[i * inF + k];
        y[i * out + o] = silu ? acc / (1 + Math.exp(-acc)) : acc;
      }
    }
    return y;
  };
  const features = linear(h, "fc", h.length / n, c.features, true);
  const logits = linear(features, "head", c.features, headWidth(c), false);
  return { features, logits };
}

/** Mean cross-entropy over the first K columns of each row. */
function meanXent(logits: Float64Array, labels: Uint32Array, k: number, kp: number): number {
  let total = 0;
  labels.forEach((label, i) => {
    const row = logits.subarray(i * kp, i * kp + k);
    const top = Math.max(...row);
    total += top + Math.log(row.reduce((a, v) => a + Math.exp(v - top), 0)) - row[label];
  });
  return total / labels.length;
}

/** The tiny classifier and batch size both GPU tests use, so their pipelines compile once. */
const TINY: ClassifierConfig = { in_ch: 4, num_classes: 3, widths: [8, 16], features: 16 };
const BATCH = 8;

Deno.test("classifier: forward vs f64 loops, backward vs finite differences of the mean cross-entropy", async () => {
  const gpu = await getGpu();
  // 3 classes: the head pads to 4 columns. The shapes are the training test's (compiled once).
  const config = TINY;
  const n = BATCH;
  const layout = new ParamLayout(classifierSpecs(config));
  const params = Float64Array.from(initParams(layout, 7));
  // Non-trivial GroupNorm affine parameters.
  for (const e of layout.entries) {
    if (e.name.includes(".norm.")) {
      const noise = randn(e.shape[0], e.offset, 0.3);
      for (let i = 0; i < e.shape[0]; i++) params[e.offset + i] += noise[i];
    }
  }
  const x = randn(n * config.in_ch * 256, 11);
  const labels = Uint32Array.from({ length: n }, (_, i) => i % config.num_classes);
  const store = new ParamStore(gpu, layout);
  upload(gpu, store.flat("param"), Float32Array.from(params));
  const model = new SpriteClassifier(gpu, config, store, n);
  upload(gpu, model.x, Float32Array.from(x));
  const kp = headWidth(config);
  const targets = createTensor(gpu, [n, kp], "targets");
  const oneHot = new Float32Array(n * kp);
  labels.forEach((label, i) => (oneHot[i * kp + label] = 1));
  upload(gpu, targets, oneHot);
  const losses = createTensor(gpu, [n], "losses");
  const prog = new Program(gpu, "classifier_test");
  prog.append(model.forward);
  softmaxXent(prog, {
    logits: model.logits,
    targets,
    dlogits: model.backward.dlogits,
    losses,
    classes: config.num_classes,
  });
  prog.append(model.backward.program);
  prog.run();

  const ref = reference(config, layout, params, x, n);
  assertNear(await read(gpu, model.features), ref.features, "features");
  assertNear(await read(gpu, model.logits), ref.logits, "logits");
  const grads = await download(gpu, store.flat("grad"));
  const loss = (v: Float64Array) =>
    meanXent(reference(config, layout, v, x, n).logits, labels, config.num_classes, kp);
  const checks = layout.entries.map((e) => {
    const at = spread(numel(e.shape), 5).map((i) => e.offset + i);
    return {
      name: e.name,
      actual: pick(grads, at),
      expected: pick(finiteDiff(loss, params, 1e-5, at), at),
    };
  });
  // An absolute floor on one scale for all: a conv bias right before a GroupNorm of one channel
  // per group has a gradient of exactly 0, which no relative tolerance can judge.
  const scale = Math.max(...checks.flatMap((c) => c.expected.map(Math.abs)));
  for (const c of checks) {
    assertClose(c.actual, c.expected, { rtol: 2e-3, atol: 2e-4 * scale, label: `d${c.name}` });
  }
  model.destroy();
  store.destroy();
});

Deno.test("classifier: stratified split is seeded, disjoint and per class", () => {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 10 ? -1 : i % 3));
  const a = stratifiedSplit(labels, 3, 0.2, 5);
  deepStrictEqual(stratifiedSplit(labels, 3, 0.2, 5), a);
  ok(JSON.stringify(stratifiedSplit(labels, 3, 0.2, 6)) !== JSON.stringify(a));
  deepStrictEqual(new Set([...a.train, ...a.test]).size, 90);
  for (let c = 0; c < 3; c++) {
    deepStrictEqual(a.test.filter((i) => labels[i] === c).length, 6); // round(0.2 · 30)
  }
});

Deno.test("classifier: the validation split comes out of train; the test split does not move", () => {
  const labels = Int32Array.from({ length: 200 }, (_, i) => (i < 20 ? -1 : i % 4));
  const recipe = { testFraction: 0.2, validationFraction: 0.25, seed: 3 };
  const split = trainingSplit(labels, 4, recipe);
  const plain = stratifiedSplit(labels, 4, 0.2, 3);
  deepStrictEqual(split.test, plain.test);
  deepStrictEqual([...split.train, ...split.validation].sort((a, b) => a - b), plain.train);
  deepStrictEqual(trainingSplit(labels, 4, { ...recipe, validationFraction: 0 }), {
    ...plain,
    validation: [],
  });
  for (let c = 0; c < 4; c++) {
    // 45 per class: 9 test (round(0.2 · 45)), then 9 of the other 36 for validation.
    deepStrictEqual(split.validation.filter((i) => labels[i] === c).length, 9);
  }
});

Deno.test("classifier: colour jitter scales R, G, B in [0, 1] units, clamps, keeps alpha and equal colours equal", () => {
  const chw = 4 * 256;
  const sprite = new Float32Array(2 * chw);
  // Row 1: pixel i has R = G = B = A = (i mod 5) / 2 − 1, i.e. −1, −0.5, 0, 0.5, 1.
  for (let i = 0; i < chw; i++) sprite[chw + i] = ((i % 256) % 5) / 2 - 1;
  const before = sprite.slice();
  jitterColours(sprite, 1, chw, [0.5, 1, 1.5]);
  deepStrictEqual(sprite.subarray(0, chw), before.subarray(0, chw), "row 0 untouched");
  // [0, 1] values 0, 0.25, 0.5, 0.75, 1 → ×0.5: 0, 0.125 …; ×1.5: 0, 0.375, 0.75, 1 (clamped), 1.
  const expected = [
    [-1, -0.75, -0.5, -0.25, 0],
    [-1, -0.5, 0, 0.5, 1],
    [-1, -0.25, 0.5, 1, 1],
    [-1, -0.5, 0, 0.5, 1],
  ];
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 256; i++) {
      deepStrictEqual(sprite[chw + c * 256 + i], expected[c][i % 5], `channel ${c} pixel ${i}`);
    }
  }
});

Deno.test("classifier: Beta(α, α) draws have the mean 1/2 and variance 1 / (4(2α + 1))", () => {
  const random = mulberry32(5);
  for (const alpha of [0.2, 1, 3]) {
    const n = 40_000;
    const draws = Float64Array.from({ length: n }, () => betaSample(alpha, random));
    const mean = draws.reduce((a, b) => a + b, 0) / n;
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    const expected = 1 / (4 * (2 * alpha + 1));
    // Standard errors: √(var / n) ≤ 0.0025 for the mean; the variance within 3 %.
    ok(Math.abs(mean - 0.5) < 0.01, `α ${alpha}: mean ${mean}`);
    ok(Math.abs(variance / expected - 1) < 0.03, `α ${alpha}: variance ${variance} vs ${expected}`);
    ok(draws.every((v) => v >= 0 && v <= 1));
  }
});

Deno.test("classifier: mixup blends each row with one partner, images and targets by the same weight", () => {
  const rows = 6;
  const chw = 8;
  const kp = 8;
  // Row r: one-hot target r, image values r + i/10, so both reveal the mix.
  const x = Float32Array.from(
    { length: rows * chw },
    (_, i) => Math.floor(i / chw) + (i % chw) / 10,
  );
  const t = new Float32Array(rows * kp);
  for (let r = 0; r < rows; r++) t[r * kp + r] = 1;
  const x0 = x.slice();
  mixRows(x, t, rows, 0.4, mulberry32(3));
  const partners = new Set<number>();
  let blended = 0;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(t.subarray(r * kp, (r + 1) * kp));
    const lambda = row[r];
    const others = row.map((v, j) => [v, j]).filter(([v, j]) => j !== r && v > 0);
    // The partner is r itself (all weight on r) or one other row carrying 1 − λ.
    const partner = others.length === 0 ? r : others[0][1];
    ok(others.length <= 1, `row ${r}: targets ${row}`);
    assertClose([row.reduce((a, b) => a + b, 0)], [1], { rtol: 1e-6 });
    partners.add(partner);
    if (partner !== r) blended++;
    const expected = Array.from(
      { length: chw },
      (_, i) => lambda * x0[r * chw + i] + (1 - lambda) * x0[partner * chw + i],
    );
    assertClose(x.subarray(r * chw, (r + 1) * chw), expected, { rtol: 1e-6, label: `row ${r}` });
  }
  deepStrictEqual(partners.size, rows, "the partners are a permutation of the rows");
  ok(blended > 0, "some rows were blended");
});

Deno.test("classifier: the class schedule cycles equal weights and keeps unequal ones within one draw", () => {
  const equal = new ClassSchedule([1, 1, 1]);
  deepStrictEqual(Array.from({ length: 7 }, () => equal.next()), [0, 1, 2, 0, 1, 2, 0]);
  // Weights 5 : 1 : 2 (sum 8): every prefix of the draws holds each class's share ± 1.
  const weights = [5, 1, 2];
  const schedule = new ClassSchedule(weights);
  const counts = [0, 0, 0];
  for (let i = 1; i <= 80; i++) {
    counts[schedule.next()]++;
    weights.forEach((w, c) => ok(Math.abs(counts[c] - (i * w) / 8) <= 1, `draw ${i}: ${counts}`));
  }
  deepStrictEqual(counts, [50, 10, 20]);
});

Deno.test("classifier: mean cross-entropy of hand-computed rows", () => {
  // Row 0: scores (0, 0): log 2. Row 1: (ln 3, 0), true class 1: log(4) − 0 = log 4.
  const logits = Float32Array.from([0, 0, Math.log(3), 0]);
  assertClose([meanCrossEntropy(logits, [0, 1], 2)], [(Math.log(2) + Math.log(4)) / 2], {
    rtol: 1e-6,
  });
});

Deno.test("classifier: trains to high held-out accuracy on a separable set; weights round-trip", async () => {
  const gpu = await getGpu();
  // Three shapes in RGBA with pixel noise: a bar on top, a bar on the left, a centred square.
  const count = 96;
  const chw = 4 * 256;
  const noise = randn(count * chw, 3, 0.3);
  const images = new Float32Array(count * chw);
  const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 4; c++) {
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          const on = [y < 5, x < 5, Math.abs(x - 7.5) < 4 && Math.abs(y - 7.5) < 4][labels[i]];
          const e = i * chw + c * 256 + y * 16 + x;
          images[e] = (on ? 0.8 : -0.8) + noise[e];
        }
      }
    }
  }
  const config = TINY;
  const recipe = {
    steps: 60,
    batch: BATCH,
    lr: 3e-3,
    weightDecay: 0,
    warmup: 5,
    seed: 1,
    testFraction: 0.25,
    validationFraction: 0,
    shift: 1,
    jitter: 0.2,
    classPower: 0,
    smoothing: 0.1,
    mixup: 0.4,
  };
  const logged: number[] = [];
  const result = await trainClassifier(
    gpu,
    { images, labels, count, channels: 4 },
    config,
    recipe,
    { onLog: (_, loss) => logged.push(loss), logEvery: 20 },
  );
  deepStrictEqual(logged.length, 3);
  ok(logged[2] < logged[0], `loss ${logged}`);
  deepStrictEqual(result.split.test.length, 24);
  ok(
    result.test.accuracy.overall >= 0.95,
    `held-out accuracy ${JSON.stringify(result.test.accuracy)}`,
  );

  const training = {
    dataset: "synthetic",
    datasetHash: "",
    recipe,
    seconds: result.seconds,
    adapter: gpu.adapter.description,
    testAccuracy: result.test.accuracy,
    trainAccuracy: result.train.accuracy,
  };

  const weights = { config, classNames: ["top", "left", "square"], training, ...result };
  const back = parseClassifier(encodeClassifier(weights), "memory");
  deepStrictEqual(back.config, config);
  deepStrictEqual(back.classNames, weights.classNames);
  deepStrictEqual(back.training, training);
  deepStrictEqual(back.flat, result.flat);
});
