import { deepStrictEqual, ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { download, upload } from "../gpu/tensor.ts";
import { assertClose, randn, tensorFrom } from "../nn/testing.ts";
import { guidanceRows, GuidedUpdate } from "./sampler.ts";
import { cosineSchedule, type SamplerStep, samplerSteps } from "./schedule.ts";

const n = 3;
const chw = 4 * 256;

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** One step on the CPU, in f64: guided ε, clamped x0, x' = A·x0 + B·x (σ = 0). */
function cpuStep(
  x: Float64Array,
  eps: Float64Array,
  w: number,
  s: SamplerStep,
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
  const guided = new GuidedUpdate(gpu, { n, chw, seed: 1 });
  const { update } = guided.programs(x, eps, true);
  const gpuNext = new Map<number, Float32Array>();
  for (const [w, step] of [[0, ddim[3]], [1, ddim[5]], [7.5, ddim[9]]] as const) {
    upload(gpu, x, Float32Array.from(xData));
    guided.setStep(0, step, w);
    update.run();
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
    const guided = new GuidedUpdate(gpu, { n, chw, seed });
    upload(gpu, x, zeros);
    guided.setStep(index, step, 1);
    guided.programs(x, eps, false).update.run();
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

/** The raw x0 of a guided (or, with w = null, conditional-only) step on the CPU, in f64. */
function rawX0(x: Float64Array, eps: Float64Array, w: number | null, s: SamplerStep) {
  return Float64Array.from({ length: n * chw }, (_, i) => {
    const e = w === null ? eps[i] : eps[n * chw + i] + w * (eps[i] - eps[n * chw + i]);
    return (x[i] - s.sqrtOneMinusAlphaBar * e) / s.sqrtAlphaBar;
  });
}

/** numpy's default percentile: linear interpolation between the order statistics. */
function percentile(values: Float64Array, p: number): number {
  const sorted = Float64Array.from(values).sort();
  const pos = (p / 100) * (sorted.length - 1);
  const k = Math.floor(pos);
  return sorted[k] + (pos - k) * ((sorted[Math.min(k + 1, sorted.length - 1)] ?? 0) - sorted[k]);
}

Deno.test("sampler: DPM-Solver++ steps of both orders on the GPU equal the CPU step (x0_prev kept on the GPU)", async () => {
  const gpu = await getGpu();
  const steps = samplerSteps(cosineSchedule(), { sampler: "dpm++", steps: 10 });
  const [first, second] = [steps[0], steps[4]];
  ok(first.coefPrevX0 === 0 && second.coefPrevX0 !== 0);
  const x = tensorFrom(gpu, [2 * n, 4, 16, 16], new Float32Array(2 * n * chw), "x");
  const eps = tensorFrom(gpu, [2 * n, 4, 16, 16], new Float32Array(2 * n * chw), "eps");
  const state = new GuidedUpdate(gpu, { n, chw, seed: 1 });
  const { update } = state.programs(x, eps, true);
  const w = 3;
  let prev = new Float64Array(n * chw);
  for (const [k, s] of [first, second].entries()) {
    const xData = randn(2 * n * chw, 10 + k);
    xData.copyWithin(n * chw, 0, n * chw);
    const epsData = randn(2 * n * chw, 20 + k);
    upload(gpu, x, Float32Array.from(xData));
    upload(gpu, eps, Float32Array.from(epsData));
    state.setStep(k, s, w);
    update.run();
    const x0 = rawX0(xData, epsData, w, s).map((v) => Math.min(1, Math.max(-1, v)));
    const next = x0.map((v, i) => s.coefX0 * v + s.coefX * xData[i] + s.coefPrevX0 * prev[i]);
    const got = await download(gpu, x);
    const tol = { rtol: 1e-4, atol: 1e-5 };
    assertClose(got.subarray(0, n * chw), next, { ...tol, label: `x' at order ${k + 1}` });
    assertClose(await download(gpu, state.x0), x0, { ...tol, label: `x0 at order ${k + 1}` });
    deepStrictEqual(got.subarray(n * chw), got.subarray(0, n * chw));
    prev = x0;
  }
  state.destroy();
});

Deno.test("sampler: dynamic thresholding divides x0 by each sprite's percentile of |x0| (at least 1)", async () => {
  const gpu = await getGpu();
  // A high-noise step makes |x0| large; sprite 1's small ε keeps its percentile under 1 (a clamp).
  const s = samplerSteps(cosineSchedule(), { sampler: "dpm++", steps: 10 })[3];
  const xData = randn(2 * n * chw, 5, 0.3);
  const epsData = randn(2 * n * chw, 6);
  for (const half of [0, n]) {
    for (let i = (half + 1) * chw; i < (half + 2) * chw; i++) {
      epsData[i] *= 0.05;
      xData[i] *= 0.2;
    }
  }
  xData.copyWithin(n * chw, 0, n * chw);
  const x = tensorFrom(gpu, [2 * n, 4, 16, 16], xData, "x");
  const eps = tensorFrom(gpu, [2 * n, 4, 16, 16], epsData, "eps");
  for (const p of [99.5, 90, 100]) {
    upload(gpu, x, Float32Array.from(xData));
    const state = new GuidedUpdate(gpu, { n, chw, seed: 1, thresholdPercentile: p });
    state.setStep(0, s, 2);
    state.programs(x, eps, true).update.run();
    const raw = rawX0(xData, epsData, 2, s);
    const x0 = new Float64Array(n * chw);
    const scales: number[] = [];
    for (let r = 0; r < n; r++) {
      const row = raw.subarray(r * chw, (r + 1) * chw);
      const scale = Math.max(1, percentile(row.map(Math.abs), p));
      scales.push(scale);
      row.forEach((v, j) => x0[r * chw + j] = Math.min(scale, Math.max(-scale, v)) / scale);
    }
    ok(scales[0] > 1.5 && scales[1] === 1, `scales ${scales}`);
    const tol = { rtol: 1e-4, atol: 1e-5 };
    assertClose(await download(gpu, state.x0), x0, { ...tol, label: `x0 at p = ${p}` });
    const next = x0.map((v, i) => s.coefX0 * v + s.coefX * xData[i]);
    assertClose((await download(gpu, x)).subarray(0, n * chw), next, { ...tol, label: "x'" });
    state.destroy();
  }
});

Deno.test("sampler: an unguided step of the 2N-row kernel is the N-row kernel on the conditional half", async () => {
  const gpu = await getGpu();
  const s = samplerSteps(cosineSchedule(), { sampler: "ddpm", steps: 10 })[4];
  const xData = randn(2 * n * chw, 7);
  xData.copyWithin(n * chw, 0, n * chw);
  const epsData = randn(2 * n * chw, 8);
  const run = async (rows: number) => {
    const x = tensorFrom(gpu, [rows, 4, 16, 16], xData.subarray(0, rows * chw), "x");
    const eps = tensorFrom(gpu, [rows, 4, 16, 16], epsData.subarray(0, rows * chw), "eps");
    const state = new GuidedUpdate(gpu, { n, chw, seed: 3 });
    state.setStep(2, s, 5, false);
    state.programs(x, eps, rows === 2 * n).update.run();
    const got = await download(gpu, x);
    state.destroy();
    return got.slice(0, n * chw);
  };
  const single = await run(n);
  deepStrictEqual(await run(2 * n), single);
  ok(
    maxDiff(single, cpuStep(xData, epsData, 5, { ...s, sigma: 0 }).next) > 1e-3,
    "w must not apply",
  );
});
