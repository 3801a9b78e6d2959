import { deepStrictEqual, ok, rejects } from "node:assert/strict";
import { getGpu, GpuError } from "../gpu/device.ts";
import { download } from "../gpu/tensor.ts";
import { guidanceRows, sample } from "../diffusion/sampler.ts";
import { ContextUNet } from "../model/unet.ts";
import { storeFromWeights, type Weights } from "../model/weights.ts";
import { snapAlpha } from "../io/image.ts";
import { kmeansPalette } from "../palette/kmeans.ts";
import { type GenerateRequest, GenerationCancelled, Generator, RequestError } from "./generator.ts";
import { postProcess } from "./postprocess.ts";
import { TINY_CONFIG, tinyWeights } from "./testing.ts";

const CONFIG = TINY_CONFIG;
const NULL = CONFIG.num_classes;

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

Deno.test("generate: post-processing with auto:K palettes fitted from the request's seed", async () => {
  const gen = Generator.fromWeights(await getGpu(), tinyWeights());
  try {
    const out = await gen.generate({
      ...request,
      classes: [0, 1],
      guidance: 1,
      post: { palette: { auto: 3 }, despeckle: true },
    });
    const snapped = gen.toImages(out.raw, 2).map(snapAlpha);
    // Sprite i's palette: k-means with seed + i over the alpha-snapped sprite.
    deepStrictEqual(out.palettes, [
      kmeansPalette([snapped[0]], 3, request.seed),
      kmeansPalette([snapped[1]], 3, request.seed + 1),
    ]);
    deepStrictEqual(
      out.images,
      postProcess(gen.toImages(out.raw, 2), {
        palette: { auto: 3 },
        despeckle: true,
        seed: request.seed,
      }),
    );
  } finally {
    gen.destroy();
  }
});

/** A [C, 16, 16] init image in [−1, 1] on the 8-bit grid, alpha opaque or clear. */
function initImage(): Float32Array {
  const image = new Float32Array(4 * 256).map((_, i) => Math.round((i * 37) % 256) / 127.5 - 1);
  for (let i = 3 * 256; i < 4 * 256; i++) image[i] = i % 3 === 0 ? -1 : 1;
  return image;
}

/** `image` repeated for `n` sprites. */
const tiled = (image: Float32Array, n: number) =>
  Float32Array.from({ length: n * image.length }, (_, i) => image[i % image.length]);

Deno.test("generate: variations — strength 1 is ordinary sampling, strength → 0 the init", async () => {
  const gen = Generator.fromWeights(await getGpu(), tinyWeights());
  const image = initImage();
  const steps = 8;
  const vary = (strength?: number) =>
    gen.generate({
      ...request,
      steps,
      classes: [0, 2],
      guidance: 3,
      init: strength === undefined ? undefined : { image, strength },
    });
  try {
    deepStrictEqual((await vary(1)).raw, (await vary()).raw);
    // round(0.06 · 8) = 0 steps: the init itself.
    deepStrictEqual((await vary(0.06)).raw, tiled(image, 2));
    // One step, from t = 0, where √(1−ᾱ) = 0.01: x0 = init + 0.01·(z − ε̂)/√ᾱ, a few 8-bit levels.
    const d = maxAbsDiff((await vary(1 / steps)).raw, tiled(image, 2));
    ok(d > 0 && d < 0.1, `one step from t = 0 moved the init by ${d}`);
    const half = await vary(0.5);
    ok(maxAbsDiff(half.raw, tiled(image, 2)) > d, "half strength must move further than one step");
    // DPM-Solver++ (second order) from an init, with the two UNets a guidance interval uses
    // without one: strength 1 is ordinary sampling on the one guided UNet.
    for (const sampler of ["dpm++", "dpm++sde"] as const) {
      const ask = (init?: { image: Float32Array; strength: number }) =>
        gen.generate({
          ...request,
          sampler,
          steps,
          classes: [0, 2],
          guidance: 3,
          guidanceInterval: [0.2, 0.8],
          init,
        });
      deepStrictEqual((await ask({ image, strength: 1 })).raw, (await ask()).raw, sampler);
    }
  } finally {
    gen.destroy();
  }
});

Deno.test("generate: inpainting keeps the kept region exactly; all-generate is ordinary sampling", async () => {
  const gen = Generator.fromWeights(await getGpu(), tinyWeights());
  const image = initImage();
  const base = { ...request, steps: 6, classes: [1, 0, 2], guidance: 3 };
  try {
    const keepAll = await gen.generate({
      ...base,
      init: { image, strength: 1, mask: new Float32Array(256), resample: 2 },
    });
    deepStrictEqual(keepAll.raw, tiled(image, 3));
    deepStrictEqual(keepAll.images, gen.toImages(tiled(image, 3), 3).map(snapAlpha));

    const plain = await gen.generate(base);
    const generateAll = await gen.generate({
      ...base,
      init: { image, strength: 1, mask: new Float32Array(256).fill(1) },
    });
    deepStrictEqual(generateAll.raw, plain.raw);

    // A ragged mask, with resampling and a partial strength: kept pixels come out as the init's.
    const mask = new Float32Array(256).map((_, i) => ((i * 7) % 5 < 2 ? 1 : 0));
    for (const init of [{ strength: 1, resample: 0 }, { strength: 0.6, resample: 2 }]) {
      const out = await gen.generate({ ...base, init: { image, mask, ...init } });
      for (let i = 0; i < out.raw.length; i++) {
        if (mask[i % 256] === 0 && out.raw[i] !== image[i % image.length]) {
          throw new Error(`kept value ${i} is ${out.raw[i]}, not ${image[i % image.length]}`);
        }
      }
      const initPixels = gen.toImages(image, 1).map(snapAlpha)[0].data;
      out.images.forEach((img, s) => {
        for (let p = 0; p < 256; p++) {
          if (mask[p] === 0) {
            deepStrictEqual([...img.data.subarray(4 * p, 4 * p + 4)], [
              ...initPixels.subarray(4 * p, 4 * p + 4),
            ], `sprite ${s} pixel ${p}`);
          }
        }
      });
      ok(maxAbsDiff(out.raw, tiled(image, 3)) > 0.1, "the masked region must be generated");
    }
  } finally {
    gen.destroy();
  }
});

Deno.test("generate: class mixing — one class is the plain class; a mix is the mixed table row", async () => {
  const gpu = await getGpu();
  const weights = tinyWeights();
  const gen = Generator.fromWeights(gpu, weights);
  // The same model with class 0's row replaced by 0.3·row 0 + 0.7·row 2, mixed in f64.
  const flat = weights.flat.slice();
  const table = weights.layout.entries.find((e) => e.name === "label_emb.weight")!;
  const width = table.shape[1];
  for (let j = 0; j < width; j++) {
    flat[table.offset + j] = 0.3 * weights.flat[table.offset + j] +
      0.7 * weights.flat[table.offset + 2 * width + j];
  }
  const blended = Generator.fromWeights(gpu, { ...weights, flat });
  try {
    const plain = await gen.generate({ ...request, classes: [1, 1], guidance: 3 });
    const weightOne = await gen.generate({
      ...request,
      classes: [{ mix: [[1, 0.7]] }, { mix: [[1, 2], [2, 0]] }],
      guidance: 3,
    });
    deepStrictEqual(weightOne.raw, plain.raw);
    deepStrictEqual(weightOne.images, plain.images);

    const mixed = await gen.generate({
      ...request,
      classes: [{ mix: [[0, 3], [2, 7]] }, 1],
      guidance: 3,
    });
    const reference = await blended.generate({ ...request, classes: [0, 1], guidance: 3 });
    const d = maxAbsDiff(mixed.raw, reference.raw);
    ok(d < 1e-4, `mixed vs blended-row model: ${d}`);
    // Guidance 0 is the null class alone, mix or not (the mixing kernel's one-hot rows are exact).
    const uncondMixed = await gen.generate({
      ...request,
      classes: [{ mix: [[0, 1], [2, 1]] }],
      guidance: 0,
    });
    const uncond = await gen.generate({ ...request, classes: [0], guidance: 0 });
    deepStrictEqual(uncondMixed.raw, uncond.raw);
    const unmixed = await gen.generate({ ...request, classes: [0, 1], guidance: 3 });
    ok(maxAbsDiff(mixed.raw.subarray(0, 1024), unmixed.raw.subarray(0, 1024)) > 1e-3);
  } finally {
    gen.destroy();
    blended.destroy();
  }
});

Deno.test("generate: bad init, mask, strength or mix is refused before any work", async () => {
  const gen = Generator.fromWeights(await getGpu(), tinyWeights());
  const image = initImage();
  try {
    const bad = [
      [{ init: { image, strength: 0 } }, /strength must be in \(0, 1\]/],
      [{ init: { image, strength: 1.5 } }, /strength must be in \(0, 1\]/],
      [{ init: { image: image.subarray(0, 768), strength: 1 } }, /init image must be 4×16×16/],
      [{ init: { image, strength: 1, mask: new Float32Array(64) } }, /mask must be 16×16/],
      [{ init: { image, strength: 1, resample: 21 } }, /resample must be an integer in 0…20/],
      [{ classes: [{ mix: [[0, 0], [1, 0]] }] }, /sum to 0/],
      [{ classes: [{ mix: [[5, 1], [1, 1]] }] }, /class 5 is not 0…2/],
      [{ classes: [{ mix: [[0, -1], [1, 2]] }] }, /weight -1 is not a finite number ≥ 0/],
    ] as const;
    for (const [change, message] of bad) {
      await rejects(
        async () => await gen.generate({ ...request, classes: [0], guidance: 3, ...change }),
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
