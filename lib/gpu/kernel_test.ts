import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { createTensor, kernelCode, Program, requestGpu } from "./mod.ts";

// Each test gets a device of its own: a reported error stays on the device it happened on.

const copy = {
  name: "copy_test",
  code: `
@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < N) { y[id.x] = f32(id.x) * SCALE; }
}`,
};

Deno.test("kernels: the cache records each variant it creates, once", async () => {
  const gpu = await requestGpu();
  try {
    const y = createTensor(gpu, [8], "y");
    const p = new Program(gpu, "test");
    p.add(copy, "main", { N: 8, SCALE: 2 }, [y], 1);
    p.add(copy, "main", { SCALE: 2, N: 8 }, [y], 1);
    p.add(copy, "main", { N: 8, SCALE: 3 }, [y], 1);
    await gpu.verify();
    assertEquals(gpu.kernels.variants.map((v) => v.consts), [
      { N: 8, SCALE: 2 },
      { N: 8, SCALE: 3 },
    ]);
    assertEquals(
      kernelCode(copy, { SCALE: 0.5, N: 8 }, "main"),
      `const N = 8;\nconst SCALE = 5.000000000e-1;\n${copy.code}`,
    );
  } finally {
    gpu.destroy();
  }
});

Deno.test("kernels: an invalid kernel fails the next sync, naming kernel, entry and constants", async () => {
  const gpu = await requestGpu();
  try {
    const bad = { name: "bad_test", code: copy.code.replace("f32(id.x)", "id.x") }; // u32 * f32
    const y = createTensor(gpu, [8], "y");
    new Program(gpu, "test").add(bad, "main", { N: 8, SCALE: 0.5 }, [y], 1);
    await rejects(
      gpu.sync(),
      /^Error: WebGPU error: kernel bad_test:main \{const N = 8; const SCALE = 5\.000000000e-1;\}: \S/,
    );
  } finally {
    gpu.destroy();
  }
});

Deno.test("kernels: any other WebGPU error fails the next sync", async () => {
  const gpu = await requestGpu();
  try {
    const y = createTensor(gpu, [8], "y");
    const p = new Program(gpu, "test");
    p.add(copy, "main", { N: 8, SCALE: 1 }, [y], 1);
    await gpu.sync();
    // A bind group that leaves out the binding its layout declares.
    const pipeline = gpu.kernels.get(copy, "main", { N: 8, SCALE: 1 });
    gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [] });
    await rejects(gpu.sync(), /^Error: WebGPU error: /);
  } finally {
    gpu.destroy();
  }
});
