import { deepStrictEqual } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { Program } from "../gpu/program.ts";
import { mseForwardBackward } from "./loss.ts";
import { assertClose, finiteDiff, randn, read, tensorFrom } from "./testing.ts";

/** The CPU f64 reference. */
function mse(pred: Float64Array, target: Float64Array): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) s += (pred[i] - target[i]) ** 2;
  return s / pred.length;
}

async function check(shape: number[], seed: number): Promise<void> {
  const gpu = await getGpu();
  const size = shape.reduce((a, b) => a * b, 1);
  const pred = randn(size, seed);
  const target = randn(size, seed + 1);
  // Outputs start as garbage: both are overwritten.
  const dpred = tensorFrom(gpu, shape, randn(size, seed + 2), "dpred");
  const loss = tensorFrom(gpu, [1], [123], "loss");
  const prog = new Program(gpu, "loss_test");
  const p = tensorFrom(gpu, shape, pred, "pred");
  mseForwardBackward(prog, {
    pred: p,
    target: tensorFrom(gpu, shape, target, "target"),
    dpred,
    loss,
  });
  prog.run();
  const label = `mse [${shape}]`;
  const first = await read(gpu, loss);
  assertClose(first, [mse(pred, target)], { rtol: 1e-5, atol: 0, label: `${label}: loss` });

  const count = Math.min(size, 200);
  const indices = Array.from({ length: count }, (_, i) => Math.floor((i * size) / count));
  const g = finiteDiff((v) => mse(v, target), pred, 1e-4, indices);
  const got = await read(gpu, dpred);
  assertClose(indices.map((i) => got[i]), indices.map((i) => g[i]), {
    rtol: 1e-4,
    atol: 1e-9,
    label: `${label}: dpred`,
  });

  prog.run(); // a replay gives the same bits
  deepStrictEqual(await read(gpu, loss), first);
}

Deno.test("mse: small tensor, last chunk partial", async () => {
  await check([5, 3, 16, 16], 1);
  await check([1, 1, 1, 4], 2);
});

Deno.test("mse: batch 128 of 3×16×16, several workgroups of partial sums", async () => {
  await check([128, 3, 16, 16], 3);
});
