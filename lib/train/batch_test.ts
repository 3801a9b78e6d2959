import { deepStrictEqual, ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, download, downloadInt } from "../gpu/tensor.ts";
import { cosineSchedule } from "../diffusion/schedule.ts";
import { BatchMaker, epochPermutation } from "./batch.ts";

Deno.test("batch: epochs are seeded permutations", () => {
  const p = epochPermutation(100, 3, 0);
  deepStrictEqual([...p].sort((a, b) => a - b), [...Array(100).keys()]);
  deepStrictEqual(epochPermutation(100, 3, 0), p);
  ok(epochPermutation(100, 3, 1).some((v, i) => v !== p[i]));
});

Deno.test("batch: x_t = √ᾱ x0 + √(1−ᾱ) ε from the GPU's own draws, flips, dropout, null class", async () => {
  const gpu = await getGpu();
  const count = 40;
  const c = 4;
  const chw = c * 256;
  // Each sprite is asymmetric (values depend on the column), so a flip is visible.
  const images = new Float32Array(count * chw).map((_, i) =>
    ((i % 16) - 7.5) / 8 + Math.floor(i / chw) / 100
  );
  const labels = Int32Array.from({ length: count }, (_, i) => (i % 5 === 4 ? -1 : i % 3));
  const batch = 32;
  const out = {
    x: createTensor(gpu, [batch, c, 16, 16], "x"),
    tfrac: createTensor(gpu, [batch, 1], "tfrac"),
    labels: createTensor(gpu, [batch], "labels"),
  };
  const sched = cosineSchedule();
  const prog = new Program(gpu, "batch-test");
  const maker = new BatchMaker(
    gpu,
    { images, labels, count, channels: c, size: 16 },
    sched,
    {
      batch,
      seed: 11,
      pUncond: 0.25,
      flip: true,
      nullClass: 3,
    },
    out,
    prog,
  );
  const draw = async (step: number) => {
    maker.prepare(step);
    prog.run();
    return {
      x: await download(gpu, out.x),
      eps: await download(gpu, maker.target),
      t: await download(gpu, out.tfrac),
      labels: await downloadInt(gpu, out.labels),
    };
  };
  const a = await draw(5);
  const rows = maker.rows(5);
  let flipped = 0;
  let dropped = 0;
  for (let n = 0; n < batch; n++) {
    const t = Math.round(a.t[n] * 1000);
    ok(Number.isInteger(t) && t >= 0 && t < 1000);
    const sa = Math.sqrt(sched.alphaBar[t]);
    const sb = Math.sqrt(1 - sched.alphaBar[t]);
    const x0 = (flip: boolean, e: number) => {
      const col = e % 16;
      return images[rows[n] * chw + e - col + (flip ? 15 - col : col)];
    };
    const err = (flip: boolean) => {
      let m = 0;
      for (let e = 0; e < chw; e++) {
        m = Math.max(m, Math.abs(a.x[n * chw + e] - (sa * x0(flip, e) + sb * a.eps[n * chw + e])));
      }
      return m;
    };
    const isFlipped = err(true) < err(false);
    ok(Math.min(err(true), err(false)) < 1e-5, `row ${n}: x_t does not match`);
    if (isFlipped) flipped++;
    const label = labels[rows[n]];
    if (label < 0) deepStrictEqual(a.labels[n], 3);
    else if (a.labels[n] === 3) dropped++;
    else deepStrictEqual(a.labels[n], label);
  }
  ok(flipped > 4 && flipped < batch - 4, `flips ${flipped}/${batch}`);
  ok(dropped >= 1, "no label was dropped to the null class at p = 0.25");
  // The same step draws the same batch; another step draws new noise.
  deepStrictEqual(await draw(5), a);
  ok((await draw(6)).eps.some((v, i) => v !== a.eps[i]));
  const eps = a.eps;
  const mean = eps.reduce((s, v) => s + v, 0) / eps.length;
  const variance = eps.reduce((s, v) => s + (v - mean) ** 2, 0) / eps.length;
  ok(
    Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05,
    `noise mean ${mean}, variance ${variance}`,
  );
});
