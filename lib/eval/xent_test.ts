import { getGpu, type Gpu, Program } from "../gpu/mod.ts";
import { assertNear, finiteDiff, randn, read, spread, tensorFrom } from "../nn/testing.ts";
import { softmaxXent } from "./xent.ts";

/** Per-row −Σ_k t_k log softmax_k in f64. */
function referenceLosses(logits: Float64Array, targets: Float64Array, k: number, kp: number) {
  return Float64Array.from({ length: logits.length / kp }, (_, n) => {
    const row = logits.subarray(n * kp, n * kp + k);
    const top = Math.max(...row);
    const logTotal = top + Math.log(row.reduce((acc, v) => acc + Math.exp(v - top), 0));
    return row.reduce((acc, v, j) => acc - targets[n * kp + j] * (v - logTotal), 0);
  });
}

/**
 * Target rows: one-hot on even rows, on odd rows a random distribution over the K classes
 * (a smoothed or mixed label); padding columns hold garbage the kernel must ignore.
 */
function makeTargets(n: number, k: number, kp: number, seed: number): Float64Array {
  const t = new Float64Array(n * kp);
  const noise = randn(n * kp, seed + 100);
  for (let r = 0; r < n; r++) {
    if (r % 2 === 0) {
      t[r * kp + ((r * 7 + seed) % k)] = 1;
    } else {
      const w = Array.from({ length: k }, (_, j) => Math.exp(noise[r * kp + j]));
      const sum = w.reduce((a, b) => a + b, 0);
      w.forEach((v, j) => (t[r * kp + j] = v / sum));
    }
    for (let j = k; j < kp; j++) t[r * kp + j] = 5;
  }
  return t;
}

function setup(
  gpu: Gpu,
  n: number,
  kp: number,
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
) {
  return {
    logits: tensorFrom(gpu, [n, kp], logits, "logits"),
    targets: tensorFrom(gpu, [n, kp], targets, "targets"),
    // Garbage in the outputs shows that they are overwritten.
    dlogits: tensorFrom(gpu, [n, kp], new Float32Array(n * kp).fill(7), "dlogits"),
    losses: tensorFrom(gpu, [n], new Float32Array(n).fill(7), "losses"),
  };
}

Deno.test("softmax cross-entropy: one-hot and soft targets, losses and the gradient of their mean vs f64 and finite differences", async () => {
  const gpu = await getGpu();
  for (const [n, k, kp, seed] of [[37, 5, 8, 1], [3, 8, 8, 2], [130, 1, 4, 3]]) {
    const logits = randn(n * kp, seed, 3);
    // The kernel reads f32 targets: the reference uses the same rounded values.
    const targets = Float64Array.from(Float32Array.from(makeTargets(n, k, kp, seed)));
    const t = setup(gpu, n, kp, logits, targets);
    const prog = new Program(gpu, "xent_test");
    softmaxXent(prog, { ...t, classes: k });
    prog.run();
    const tag = `n${n} k${k} kp${kp}`;
    assertNear(
      await read(gpu, t.losses),
      referenceLosses(logits, targets, k, kp),
      `${tag}: losses`,
    );
    const mean = (x: Float64Array) =>
      referenceLosses(x, targets, k, kp).reduce((a, b) => a + b) / n;
    // Every coordinate, padding columns included (their gradient is exactly 0).
    assertNear(await read(gpu, t.dlogits), finiteDiff(mean, logits), `${tag}: dlogits`);
  }
});

Deno.test("softmax cross-entropy: rows past one grid dimension (2-D dispatch)", async () => {
  const gpu = await getGpu();
  const n = 65_535 * 64 + 100;
  const k = 4;
  const logits = Float32Array.from({ length: n * k }, (_, i) => ((i * 37) % 101) / 25 - 2);
  const targets = new Float32Array(n * k);
  for (let r = 0; r < n; r++) targets[r * k + ((r * 5) % k)] = 1;
  const t = setup(gpu, n, k, logits, targets);
  const prog = new Program(gpu, "xent_test_large");
  softmaxXent(prog, { ...t, classes: k });
  prog.run();
  const rows = [...spread(n, 50), n - 1, n - 2];
  const losses = await read(gpu, t.losses);
  const expected = referenceLosses(Float64Array.from(logits), Float64Array.from(targets), k, k);
  assertNear(rows.map((r) => losses[r]), rows.map((r) => expected[r]), "losses of sampled rows");
});
