import { deepStrictEqual, ok } from "node:assert/strict";
import { createTensor, getGpu, type Gpu, Program, type Tensor, upload } from "../gpu/mod.ts";
import { embedAddForward, embedBackward, embedMixForward } from "./embedding.ts";
import { assertClose, finiteDiff, randn, read, tensorFrom } from "./testing.ts";

/** y[n] = base[n] + table[labels[n]] in f64. */
function reference(base: Float64Array, table: Float64Array, labels: Uint32Array, e: number) {
  return base.map((v, i) => v + table[labels[Math.floor(i / e)] * e + (i % e)]);
}

function labelTensor(gpu: Gpu, labels: Uint32Array<ArrayBuffer>): Tensor {
  const t = createTensor(gpu, [labels.length], "labels");
  upload(gpu, t, labels);
  return t;
}

Deno.test("embedding: forward and table gradient, repeated and absent labels", async () => {
  const gpu = await getGpu();
  const [n, rows, e] = [9, 6, 12];
  // Label 3 never occurs (its gradient row must be zero); 0, 1 and 5 (the null class) repeat.
  const labels = new Uint32Array([0, 5, 1, 0, 2, 5, 4, 1, 0]);
  const base = randn(n * e, 1);
  const table = randn(rows * e, 2);
  const r = randn(n * e, 3);
  const y = createTensor(gpu, [n, e], "y");
  const dtable = tensorFrom(gpu, [rows, e], randn(rows * e, 4), "dtable"); // overwritten
  const labelsT = labelTensor(gpu, labels);
  const prog = new Program(gpu, "embedding_test");
  embedAddForward(prog, {
    base: tensorFrom(gpu, [n, e], base),
    table: tensorFrom(gpu, [rows, e], table),
    labels: labelsT,
    y,
  });
  embedBackward(prog, { dy: tensorFrom(gpu, [n, e], r), labels: labelsT, dtable });
  prog.run();

  assertClose(await read(gpu, y), reference(base, table, labels, e), { label: "y" });
  const loss = (t: Float64Array) =>
    reference(base, t, labels, e).reduce((a, v, i) => a + v * r[i], 0);
  const expected = finiteDiff(loss, table);
  const got = await read(gpu, dtable);
  assertClose(got, expected, { rtol: 1e-4, atol: 1e-5, label: "dtable" });
  deepStrictEqual([...got.subarray(3 * e, 4 * e)], new Array(e).fill(0));
});

Deno.test("embedding: batch large enough for a 2-D dispatch grid", async () => {
  const gpu = await getGpu();
  // N · E / 4 / 64 = 65,600 workgroups, over the 65,535 one grid dimension allows.
  const [n, rows, e] = [32_800, 17, 512];
  ok(n * e / 256 > gpu.limits.maxComputeWorkgroupsPerDimension);
  const labels = new Uint32Array(n).map((_, i) => (i * 7 + (i >> 5)) % (rows - 1)); // row 16 absent
  const base = randn(n * e, 5);
  const table = randn(rows * e, 6);
  const baseT = tensorFrom(gpu, [n, e], base, "base");
  const labelsT = labelTensor(gpu, labels);
  const y = createTensor(gpu, [n, e], "y");
  const dtable = createTensor(gpu, [rows, e], "dtable");
  const prog = new Program(gpu, "embedding_test_large");
  embedAddForward(prog, {
    base: baseT,
    table: tensorFrom(gpu, [rows, e], table),
    labels: labelsT,
    y,
  });
  embedBackward(prog, { dy: baseT, labels: labelsT, dtable });
  prog.run();

  assertClose(await read(gpu, y), reference(base, table, labels, e), { label: "y" });
  // With dy = base, dtable[k] is the sum of the base rows labelled k (summed here in f64).
  const expected = new Float64Array(rows * e);
  for (let i = 0; i < n * e; i++) expected[labels[Math.floor(i / e)] * e + (i % e)] += base[i];
  assertClose(await read(gpu, dtable), expected, { rtol: 1e-4, atol: 1e-3, label: "dtable" });
});

Deno.test("embedding: mixed rows equal the f64 mix of table rows; one-hot equals embed_add", async () => {
  const gpu = await getGpu();
  const [n, rows, e] = [5, 4, 16];
  const base = randn(n * e, 7);
  const table = randn(rows * e, 8);
  // Rows 0–2 mix two or three classes (weights summing to 1); rows 3–4 are one-hot, and those
  // must reproduce embed_add bit for bit.
  const mix = new Float32Array([
    [0.7, 0.3, 0, 0],
    [0.25, 0.25, 0.5, 0],
    [0, 0.1, 0.2, 0.7],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ].flat());
  const labels = new Uint32Array([0, 1, 2, 2, 3]);
  const baseT = tensorFrom(gpu, [n, e], base);
  const tableT = tensorFrom(gpu, [rows, e], table);
  const mixT = tensorFrom(gpu, [n, rows], Float64Array.from(mix));
  const mixed = createTensor(gpu, [n, e], "mixed");
  const plain = createTensor(gpu, [n, e], "plain");
  const prog = new Program(gpu, "embedding_mix_test");
  embedMixForward(prog, { base: baseT, table: tableT, mix: mixT, y: mixed });
  embedAddForward(prog, { base: baseT, table: tableT, labels: labelTensor(gpu, labels), y: plain });
  prog.run();

  const expected = base.map((v, i) => {
    const row = Math.floor(i / e);
    let acc = 0;
    for (let k = 0; k < rows; k++) acc += mix[row * rows + k] * table[k * e + (i % e)];
    return v + acc;
  });
  const got = await read(gpu, mixed);
  assertClose(got, expected, { label: "mixed y" });
  const want = await read(gpu, plain);
  deepStrictEqual([...got.subarray(3 * e)], [...want.subarray(3 * e)]);
});
