import { deepStrictEqual, ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { download, upload } from "../gpu/tensor.ts";
import { assertClose, randn, tensorFrom } from "../nn/testing.ts";
import { guidanceRows, GuidedUpdate } from "./sampler.ts";
import { cosineSchedule, samplerSteps } from "./schedule.ts";

const n = 3;
const chw = 4 * 256;

/** One step on the CPU, in f64: guided ε, clamped x0, x' = A·x0 + B·x (σ = 0). */
function cpuStep(
  x: Float64Array,
  eps: Float64Array,
  w: number,
  s: ReturnType<typeof samplerSteps>[number],
) {
  const next = new Float64Array(n * chw);
  const x0 = new Float64Array(n * chw);
  for (let i = 0; i < n * chw; i++) {
    const e = eps[n * chw + i] + w * (eps[i] - eps[n * chw + i]);
    x0[i] = Math.min(1, Math.max(-1, (x[i] - s.sqrtOneMinusAlphaBar * e) / s.sqrtAlphaBar));
    next[i] = s.coefX0 * x0[i] + s.coefX * x[i];
  }
  return { next, x0 };
}

Deno.test("sampler: the update kernel equals the CPU step; w = 0 is unconditional, w = 1 conditional", async () => {
  const gpu = await getGpu();
  const sched = cosineSchedule();
  const ddim = samplerSteps(sched, { sampler: "ddim", steps: 10 });
  const xData = randn(2 * n * chw, 1);
  xData.copyWithin(n * chw, 0, n * chw); // both halves of a guided batch hold the same x
  const epsData = randn(2 * n * chw, 2);
  const x = tensorFrom(gpu, [2 * n, 4, 16, 16], xData, "x");
  const eps = tensorFrom(gpu, [2 * n, 4, 16, 16], epsData, "eps");
  const guided = new GuidedUpdate(gpu, { x, eps, n, cfg: true, seed: 1 });
  const gpuNext = new Map<number, Float32Array>();
  for (const [w, step] of [[0, ddim[3]], [1, ddim[5]], [7.5, ddim[9]]] as const) {
    upload(gpu, x, Float32Array.from(xData));
    guided.setStep(0, step, w);
    guided.update.run();
    const got = await download(gpu, x);
    gpuNext.set(w, got.slice(0, n * chw));
    const want = cpuStep(xData, epsData, w, step);
    assertClose(got.subarray(0, n * chw), want.next, {
      rtol: 1e-4,
      atol: 1e-5,
      label: `x' at w=${w}`,
    });
    assertClose(await download(gpu, guided.x0), want.x0, {
      rtol: 1e-4,
      atol: 1e-5,
      label: `x0 at w=${w}`,
    });
    deepStrictEqual(got.subarray(n * chw), got.subarray(0, n * chw)); // the unconditional half follows
  }
  // w = 0 and w = 1 use one half only: the kernel's step must equal a step on that half's ε.
  const only = (w: number, half: number, step: (typeof ddim)[number]) => {
    const e = Float64Array.from(epsData);
    const src = e.slice(half * n * chw, (half + 1) * n * chw);
    e.set(src, 0);
    e.set(src, n * chw);
    return cpuStep(xData, e, w, step).next;
  };
  const exact = { rtol: 1e-4, atol: 1e-5 };
  assertClose(gpuNext.get(0)!, only(0, 1, ddim[3]), { ...exact, label: "w=0 is unconditional" });
  assertClose(gpuNext.get(1)!, only(1, 0, ddim[5]), { ...exact, label: "w=1 is conditional" });
  deepStrictEqual([guidanceRows(4, 0), guidanceRows(4, 1), guidanceRows(4, 7.5)], [4, 4, 8]);
  guided.destroy();
});

Deno.test("sampler: DDPM noise has the posterior's σ and depends on seed and step", async () => {
  const gpu = await getGpu();
  const step = samplerSteps(cosineSchedule(), { sampler: "ddpm", steps: 1000 })[500];
  const zeros = new Float32Array(n * chw);
  const x = tensorFrom(gpu, [n, 4, 16, 16], zeros, "x");
  const eps = tensorFrom(gpu, [n, 4, 16, 16], zeros, "eps");
  const draw = async (seed: number, index: number) => {
    const guided = new GuidedUpdate(gpu, { x, eps, n, cfg: false, seed });
    upload(gpu, x, zeros);
    guided.setStep(index, step, 1);
    guided.update.run();
    guided.destroy();
    return await download(gpu, x); // x = ε = 0 ⇒ x' = σ z
  };
  const a = await draw(1, 0);
  const sd = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  ok(Math.abs(sd / step.sigma - 1) < 0.05, `noise sd ${sd} vs σ ${step.sigma}`);
  deepStrictEqual(await draw(1, 0), a);
  ok((await draw(2, 0)).some((v, i) => v !== a[i]));
  ok((await draw(1, 1)).some((v, i) => v !== a[i]));
});

/** The PCG hash of kernels/random.wgsl on u32s. */
function pcg(v: number): number {
  const s = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** A draw of kernels/random.wgsl's `gaussian`, in f64: the same hashes, then Box–Muller. */
function gaussianF64(seed: number, step: number, index: number): number {
  const uniform = (stream: number) =>
    ((pcg(index ^ pcg(stream ^ pcg(step ^ pcg(seed)))) >>> 8) + 1) / 16777216;
  return Math.sqrt(-2 * Math.log(uniform(0))) * Math.cos(2 * Math.PI * uniform(1));
}

Deno.test("sampler: the initial noise is the seeded hash's Box–Muller draw to f32 precision", async () => {
  const gpu = await getGpu();
  const x = tensorFrom(gpu, [n, 4, 16, 16], new Float32Array(n * chw), "x");
  const guided = new GuidedUpdate(gpu, { x, eps: x, n, cfg: false, seed: 7 });
  guided.init.run();
  const z = await download(gpu, x);
  guided.destroy();
  // init_noise draws from step 0xffffffff; f32 log, sqrt and products leave a few ulps (≤ 4e-6).
  const want = Float64Array.from({ length: n * chw }, (_, i) => gaussianF64(7, 0xffffffff, i));
  assertClose(z, want, { rtol: 0, atol: 1e-5, label: "noise" });
  ok(want.some((v) => Math.abs(v) > 3), "the draws reach the tails");
});
