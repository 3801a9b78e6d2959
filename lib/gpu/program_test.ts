import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createTensor, download, getGpu, Program, upload } from "./mod.ts";

const scaleAdd = {
  name: "scale_add_test",
  code: `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = id.x + id.y * nwg.x * 64u;
  if (i >= N) { return; }
  y[i] = select(y[i], 0.0, !ACCUM) + x[i] * SCALE;
}`,
};

Deno.test("program: baked constants, 2-D grid split and replay", async () => {
  const gpu = await getGpu();
  const n = 70_000 * 64 + 3; // more workgroups than one grid dimension allows (65,535)
  const x = createTensor(gpu, [n], "x");
  const y = createTensor(gpu, [n], "y");
  const data = new Float32Array(n).map((_, i) => (i % 97) - 48);
  upload(gpu, x, data);
  const p = new Program(gpu, "test");
  p.add(scaleAdd, "main", { N: n, SCALE: 0.5, ACCUM: false }, [x, y], Math.ceil(n / 64));
  p.add(scaleAdd, "main", { N: n, SCALE: 2, ACCUM: true }, [x, y], Math.ceil(n / 64));
  p.run();
  p.run(); // replay: overwrite then accumulate again gives the same result
  const out = await download(gpu, y);
  for (const i of [0, 1, 4_480_000, n - 1]) assertEquals(out[i], data[i] * 2.5);
  assertEquals(gpu.kernels.size, 2);
});

Deno.test("program: dispatches are listed and a selection replays only those", async () => {
  const gpu = await getGpu();
  const n = 1000;
  const x = createTensor(gpu, [n], "x");
  const y = createTensor(gpu, [n], "y");
  upload(gpu, x, new Float32Array(n).fill(3));
  const p = new Program(gpu, "test");
  p.add(scaleAdd, "main", { N: n, SCALE: 0.5, ACCUM: false }, [x, y], Math.ceil(n / 64));
  p.add(scaleAdd, "main", { N: n, SCALE: 2, ACCUM: true }, [x, y], Math.ceil(n / 64));
  assertEquals(p.dispatches.map((d) => [d.kernel, d.entry, d.consts.SCALE, d.groups[0]]), [
    ["scale_add_test", "main", 0.5, 16],
    ["scale_add_test", "main", 2, 16],
  ]);
  const first = p.select((d) => d.consts.ACCUM === false);
  assertEquals(first.length, 1);
  first.run();
  assertEquals((await download(gpu, y))[n - 1], 1.5);
});
