import { createTensor, getGpu, type Gpu, Program, upload } from "../gpu/mod.ts";
import { assertNear, finiteDiff, randn, read, spread, tensorFrom } from "../nn/testing.ts";
import { softmaxXent } from "./xent.ts";

/** Per-row −log softmax[label] in f64. */
function referenceLosses(logits: Float64Array, labels: Uint32Array, k: number, kp: number) {
  return Float64Array.from(labels, (label, n) => {
    const row = logits.subarray(n * kp, n * kp + k);
    const top = Math.max(...row);
    const total = row.reduce((acc, v) => acc + Math.exp(v - top), 0);
    return top + Math.log(total) - row[label];
  });
}

function setup(gpu: Gpu, n: number, kp: number, logits: ArrayLike<number>, labels: Uint32Array) {
  const l = tensorFrom(gpu, [n, kp], logits, "logits");
  const y = createTensor(gpu, [n], "labels");
  upload(gpu, y, labels);
  // Garbage in the outputs shows that they are overwritten.
  const dlogits = tensorFrom(gpu, [n, kp], new Float32Array(n * kp).fill(7), "dlogits");
  const losses = tensorFrom(gpu, [n], new Float32Array(n).fill(7), "losses");
  return { logits: l, labels: y, dlogits, losses };
}

Deno.test("softmax cross-entropy: losses and the gradient of their mean vs f64 and finite differences", async () => {
  const gpu = await getGpu();
  for (const [n, k, kp, seed] of [[37, 5, 8, 1], [3, 8, 8, 2], [130, 1, 4, 3]]) {
    const logits = randn(n * kp, seed, 3);
    const labels = Uint32Array.from({ length: n }, (_, i) => (i * 7 + seed) % k);
    const t = setup(gpu, n, kp, logits, labels);
    const prog = new Program(gpu, "xent_test");
    softmaxXent(prog, { ...t, classes: k });
    prog.run();
    const tag = `n${n} k${k} kp${kp}`;
    assertNear(await read(gpu, t.losses), referenceLosses(logits, labels, k, kp), `${tag}: losses`);
    const mean = (x: Float64Array) => referenceLosses(x, labels, k, kp).reduce((a, b) => a + b) / n;
    // Every coordinate, padding columns included (their gradient is exactly 0).
    assertNear(await read(gpu, t.dlogits), finiteDiff(mean, logits), `${tag}: dlogits`);
  }
});

Deno.test("softmax cross-entropy: rows past one grid dimension (2-D dispatch)", async () => {
  const gpu = await getGpu();
  const n = 65_535 * 64 + 100;
  const k = 4;
  const logits = Float32Array.from({ length: n * k }, (_, i) => ((i * 37) % 101) / 25 - 2);
  const labels = Uint32Array.from({ length: n }, (_, i) => (i * 5) % k);
  const t = setup(gpu, n, k, logits, labels);
  const prog = new Program(gpu, "xent_test_large");
  softmaxXent(prog, { ...t, classes: k });
  prog.run();
  const rows = [...spread(n, 50), n - 1, n - 2];
  const losses = await read(gpu, t.losses);
  const expected = referenceLosses(Float64Array.from(logits), labels, k, k);
  assertNear(rows.map((r) => losses[r]), rows.map((r) => expected[r]), "losses of sampled rows");
});
