import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import { getGpu, GpuError } from "../gpu/device.ts";
import { download } from "../gpu/tensor.ts";
import { guidanceRows, sample } from "../diffusion/sampler.ts";
import { type ModelConfig, paramSpecs } from "../model/config.ts";
import { initParams } from "../model/init.ts";
import { ContextUNet } from "../model/unet.ts";
import { storeFromWeights, type Weights } from "../model/weights.ts";
import { ParamLayout } from "../nn/params.ts";
import { type GenerateRequest, GenerationCancelled, Generator, RequestError } from "./generator.ts";

const CONFIG: ModelConfig = {
  in_ch: 4,
  base_ch: 8,
  channel_mults: [1, 2],
  num_res_blocks: 1,
  use_attention: [false, true],
  num_classes: 3,
};
const NULL = CONFIG.num_classes;

function tinyWeights(): Weights {
  const layout = new ParamLayout(paramSpecs(CONFIG));
  return {
    config: CONFIG,
    classNames: ["a", "b", "c"],
    provenance: {},
    layout,
    flat: initParams(layout, 3),
  };
}

/** `weights` with the null class's embedding row replaced by class `c`'s. */
function nullRowAs(weights: Weights, c: number): Weights {
  const flat = weights.flat.slice();
  const table = weights.layout.entries.find((e) => e.name === "label_emb.weight")!;
  const width = table.shape[1];
  flat.copyWithin(
    table.offset + NULL * width,
    table.offset + c * width,
    table.offset + (c + 1) * width,
  );
  return { ...weights, flat };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

const request = { steps: 4, sampler: "ddpm" as const, seed: 11 };

Deno.test("generate: guidance 0 is the unconditional model alone (null-class rows)", async () => {
  const gen = Generator.fromWeights(await getGpu(), tinyWeights());
  try {
    const guided0 = await gen.generate({ ...request, classes: [0, 1, 2], guidance: 0 });
    const uncond = await gen.generate({ ...request, classes: [NULL, NULL, NULL], guidance: 1 });
    deepStrictEqual(guided0.raw, uncond.raw);
    const cond = await gen.generate({ ...request, classes: [0, 1, 2], guidance: 1 });
    ok(maxAbsDiff(cond.raw, uncond.raw) > 1e-3, "the class must change the conditional run");
  } finally {
    gen.destroy();
  }
});

Deno.test("generate: guided rows are [class…, null…]; w = 1 is the conditional half alone", async () => {
  const gpu = await getGpu();
  // With the null row equal to class 1's row, both halves of a guided run predict the same ε, so
  // any guidance gives the conditional run; with the real null row, guidance changes the result.
  const weights = tinyWeights();
  const same = Generator.fromWeights(gpu, nullRowAs(weights, 1));
  const real = Generator.fromWeights(gpu, weights);
  try {
    const cond = await same.generate({ ...request, classes: [1, 1], guidance: 1 });
    const guided = await same.generate({ ...request, classes: [1, 1], guidance: 4 });
    ok(maxAbsDiff(cond.raw, guided.raw) < 1e-5, `${maxAbsDiff(cond.raw, guided.raw)}`);
    const realGuided = await real.generate({ ...request, classes: [1, 1], guidance: 4 });
    ok(maxAbsDiff(realGuided.raw, guided.raw) > 1e-3, "the null row must matter at w = 4");
  } finally {
    same.destroy();
    real.destroy();
  }

  // The sampler's own label upload, read back after a real guided run.
  const store = storeFromWeights(gpu, weights);
  const classes = [2, 0, 1];
  const model = new ContextUNet(gpu, CONFIG, store, guidanceRows(3, 3), { staticWeights: true });
  model.prepare.run();
  await sample(gpu, { cfg: model }, { ...request, classes, guidance: 3 });
  deepStrictEqual([...new Uint32Array((await download(gpu, model.labels)).buffer)], [
    2,
    0,
    1,
    NULL,
    NULL,
    NULL,
  ]);
  model.destroy();
  store.destroy();
});

Deno.test("generate: a cancelled or failed request leaves the next one unaffected", async () => {
  const gpu = await getGpu();
  const gen = Generator.fromWeights(gpu, tinyWeights());
  try {
    const expected = await gen.generate({ ...request, classes: [0, 2], guidance: 3 });
    const controller = new AbortController();
    await rejects(
      gen.generate({
        ...request,
        classes: [0, 2],
        guidance: 3,
        previewEvery: 1,
        onPreview: () => controller.abort(),
        signal: controller.signal,
      }),
      GenerationCancelled,
    );
    // A WebGPU validation error (a write past a buffer's end) inside a scope throws, once.
    const small = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
    await rejects(
      gpu.scoped(() => Promise.resolve(gpu.device.queue.writeBuffer(small, 0, new Uint8Array(64)))),
      GpuError,
    );
    small.destroy();
    gpu.check();
    const again = await gen.generate({ ...request, classes: [0, 2], guidance: 3 });
    deepStrictEqual(again.raw, expected.raw);
    deepStrictEqual(gen.cachedModels, 1);
  } finally {
    gen.destroy();
  }
});

Deno.test("generate: requests it cannot serve are refused before any work", async () => {
  const gen = Generator.fromWeights(await getGpu(), tinyWeights());
  try {
    const bad = [
      [{ classes: [] }, /at least one sprite/],
      [{ classes: [4] }, /class 4 is not 0…2 \(or 3, unconditional\)/],
      [{ classes: [0], guidance: -1 }, /guidance must be a number ≥ 0/],
      [{ classes: [0], steps: 0 }, /steps must be an integer in 1…1000/],
      [{ classes: [0], seed: 1.5 }, /seed must be an integer/],
      [{ classes: [0], sampler: "euler" as "ddpm" }, /sampler must be one of ddpm, ddim, dpm\+\+/],
      [{ classes: [0], thresholdPercentile: 0 }, /threshold is a percentile in \(0, 100\]/],
      [{ classes: [0], thresholdPercentile: 101 }, /threshold is a percentile/],
      [{ classes: [0], guidanceInterval: [0.5, 0.5] as const }, /0 ≤ lo < hi ≤ 1/],
      [{ classes: [0], guidanceInterval: [0.8, 0.2] as const }, /0 ≤ lo < hi ≤ 1/],
      [{ classes: [0], guidanceInterval: [-0.1, 0.2] as const }, /0 ≤ lo < hi ≤ 1/],
      [{ classes: new Array(1e6).fill(0) }, /draw \d+ or fewer/],
    ] as const;
    for (const [change, message] of bad) {
      await rejects(
        async () => await gen.generate({ ...request, guidance: 3, ...change }),
        (err: Error) => err instanceof RequestError && message.test(err.message),
      );
    }
  } finally {
    gen.destroy();
  }
});

Deno.test("generate: the guidance interval guides inside it and takes the conditional prediction outside", async () => {
  const gpu = await getGpu();
  const weights = tinyWeights();
  const gen = Generator.fromWeights(gpu, weights);
  // 4 DDPM steps see t/T = 0.999, 0.666, 0.333, 0.
  const ask = (change: Partial<GenerateRequest>) =>
    gen.generate({ ...request, classes: [0, 2], guidance: 4, ...change });
  try {
    const guided = await ask({});
    const conditional = await ask({ guidance: 1 });
    deepStrictEqual((await ask({ guidanceInterval: [0, 1] })).raw, guided.raw);
    deepStrictEqual((await ask({ guidanceInterval: [0.4, 0.6] })).raw, conditional.raw);
    // Unguided, guided, guided, unguided: the run switches models both ways.
    const mixed = await ask({ guidanceInterval: [0.3, 0.7] });
    ok(maxAbsDiff(mixed.raw, guided.raw) > 1e-3 && maxAbsDiff(mixed.raw, conditional.raw) > 1e-3);
    deepStrictEqual(gen.cachedModels, 2);
    // On the guided UNet alone, the unguided steps ignore its unconditional half: the same run.
    const oneModel = Generator.fromWeights(gpu, weights, { unguidedOnOwnModel: false });
    const shared = await oneModel.generate({
      ...request,
      classes: [0, 2],
      guidance: 4,
      guidanceInterval: [0.3, 0.7],
    });
    deepStrictEqual([shared.raw, oneModel.cachedModels], [mixed.raw, 1]);
    oneModel.destroy();
  } finally {
    gen.destroy();
  }
  // With the null row equal to class 1's, a guided step is the conditional step, so any interval
  // gives the conditional run: x (and DPM-Solver++'s previous x0) must carry over model switches.
  const same = Generator.fromWeights(gpu, nullRowAs(weights, 1));
  try {
    for (const sampler of ["ddpm", "dpm++"] as const) {
      const ask = (change: Partial<GenerateRequest>) =>
        same.generate({ ...request, sampler, steps: 6, classes: [1, 1], guidance: 4, ...change });
      const conditional = await ask({ guidance: 1 });
      for (const interval of [[0.3, 0.7], [0.5, 1], [0, 0.5]] as const) {
        const mixed = await ask({ guidanceInterval: interval });
        ok(maxAbsDiff(mixed.raw, conditional.raw) < 1e-5, `${sampler} ${interval}`);
      }
    }
  } finally {
    same.destroy();
  }
});
