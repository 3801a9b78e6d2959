import { deepStrictEqual, ok, throws } from "node:assert/strict";
import { getGpu, type Gpu, Program, upload } from "../gpu/mod.ts";
import { type OptimConfig, Optimizer } from "./optim.ts";
import { ParamLayout, type ParamRole, ParamStore } from "./params.ts";
import { assertClose, assertNear, randn, read, relError } from "./testing.ts";

const ROLES: readonly ParamRole[] = ["param", "grad", "m", "v", "ema"];

/** Optimiser state in f64, the reference's own precision. */
type State = Record<"p" | "m" | "v" | "e", Float64Array>;

/** PyTorch's clip_grad_norm_ + AdamW + EMA, in f64; returns the norm before clipping. */
function referenceStep(s: State, grad: ArrayLike<number>, t: number, lr: number, c: OptimConfig) {
  let sumsq = 0;
  for (let i = 0; i < grad.length; i++) sumsq += grad[i] * grad[i];
  const norm = Math.sqrt(sumsq);
  const coef = c.maxGradNorm > 0 ? Math.min(1, c.maxGradNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  for (let i = 0; i < grad.length; i++) {
    const g = grad[i] * coef;
    s.p[i] *= 1 - lr * c.weightDecay;
    s.m[i] = c.beta1 * s.m[i] + (1 - c.beta1) * g;
    s.v[i] = c.beta2 * s.v[i] + (1 - c.beta2) * g * g;
    s.p[i] -= (lr / bc1) * s.m[i] / (Math.sqrt(s.v[i]) / Math.sqrt(bc2) + c.eps);
    if (c.emaDecay > 0) s.e[i] -= (1 - c.emaDecay) * (s.e[i] - s.p[i]);
  }
  return norm;
}

/** A flat array over `layout` with random values in the tensors and zeros in the padding. */
function flatRandom(layout: ParamLayout, seed: number, scale: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(layout.size);
  for (const [k, e] of layout.entries.entries()) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    out.set(randn(n, seed * 131 + k, scale), e.offset);
  }
  return out;
}

function isPadding(layout: ParamLayout): Uint8Array {
  const pad = new Uint8Array(layout.size).fill(1);
  for (const e of layout.entries) {
    pad.fill(
      0,
      e.offset,
      e.offset + e.shape.reduce((a, b) => a * b, 1),
    );
  }
  return pad;
}

const BASE: OptimConfig = {
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.1,
  maxGradNorm: 1,
  emaDecay: 0.99,
};

/** Two steps (t = 1, 2) with fresh gradients each, compared with the f64 reference. */
async function checkTwoSteps(gpu: Gpu, config: OptimConfig, gradScale: number, label: string) {
  const layout = new ParamLayout([
    { name: "a", shape: [40, 50] },
    { name: "b", shape: [3] },
    { name: "c", shape: [17, 13] },
    { name: "d", shape: [4, 3, 3, 9] },
  ]);
  const store = new ParamStore(gpu, layout);
  const p0 = flatRandom(layout, 1, 1);
  const e0 = flatRandom(layout, 2, 1);
  upload(gpu, store.flat("param"), p0);
  upload(gpu, store.flat("ema"), e0);
  const ref: State = {
    p: Float64Array.from(p0),
    m: new Float64Array(layout.size),
    v: new Float64Array(layout.size),
    e: Float64Array.from(e0),
  };
  const opt = new Optimizer(gpu, store, config);
  const prog = new Program(gpu, "optim-test");
  opt.record(prog);
  deepStrictEqual(prog.length, 3);
  const lr = 1e-2;
  for (const t of [1, 2]) {
    const grad = flatRandom(layout, 10 + t, gradScale);
    upload(gpu, store.flat("grad"), grad);
    const norm = referenceStep(ref, grad, t, lr, config);
    opt.setStep(t, lr);
    prog.run();
    const [gpuNorm] = await read(gpu, opt.gradNorm);
    ok(Math.abs(gpuNorm - norm) <= 1e-5 * norm, `${label} t=${t}: norm ${gpuNorm} vs ${norm}`);
  }
  const [p, g, m, v, e] = await Promise.all(ROLES.map((r) => read(gpu, store.flat(r))));
  assertNear(m, ref.m, `${label}: m`, 1e-5);
  assertNear(v, ref.v, `${label}: v`, 1e-5);
  assertClose(p, ref.p, { rtol: 2e-6, atol: 1e-7, label: `${label}: param` });
  // The update itself is ~lr, small next to the parameters: check it on its own.
  const delta = p.map((x, i) => x - p0[i]);
  const refDelta = ref.p.map((x, i) => x - p0[i]);
  ok(relError(delta, refDelta) < 1e-4, `${label}: update rel err ${relError(delta, refDelta)}`);
  if (config.emaDecay > 0) {
    assertClose(e, ref.e, { rtol: 2e-6, atol: 1e-7, label: `${label}: ema` });
  } else deepStrictEqual(e, Float32Array.from(e0), `${label}: EMA must stay untouched`);
  const pad = isPadding(layout);
  for (const [k, buf] of [p, g, m, v, e].entries()) {
    ok(
      buf.every((x, i) => !pad[i] || Object.is(x, 0)),
      `${label}: padding of ${ROLES[k]} not zero`,
    );
  }
  store.destroy();
}

Deno.test("optim: clipping active, AdamW, EMA over two steps", async () => {
  await checkTwoSteps(await getGpu(), BASE, 1, "clip active");
});

Deno.test("optim: clipping disabled (maxGradNorm 0), no EMA", async () => {
  await checkTwoSteps(await getGpu(), { ...BASE, maxGradNorm: 0, emaDecay: 0 }, 1, "no clip");
});

Deno.test("optim: clipping inactive (norm below maxGradNorm), EMA 0.9995", async () => {
  const config = { ...BASE, maxGradNorm: 5, emaDecay: 0.9995, weightDecay: 1e-4 };
  // ‖g‖ ≈ 0.02 · sqrt(3,400) ≈ 1.2 < 5.
  await checkTwoSteps(await getGpu(), config, 0.02, "clip inactive");
});

Deno.test("optim: global norm over 5M elements matches an f64 CPU sum", async () => {
  const gpu = await getGpu();
  const layout = new ParamLayout([{ name: "w", shape: [4_999_999] }, { name: "b", shape: [7] }]);
  const store = new ParamStore(gpu, layout);
  const grad = flatRandom(layout, 5, 0.3);
  upload(gpu, store.flat("grad"), grad);
  const opt = new Optimizer(gpu, store, BASE);
  const prog = new Program(gpu, "optim-5m");
  opt.record(prog);
  opt.setStep(1, 1e-3);
  prog.run();
  const [gpuNorm] = await read(gpu, opt.gradNorm);
  let sumsq = 0;
  for (const x of grad) sumsq += x * x;
  const norm = Math.sqrt(sumsq);
  ok(Math.abs(gpuNorm - norm) <= 1e-5 * norm, `norm ${gpuNorm} vs ${norm}`);
  opt.setStep(2, 1e-3);
  prog.run();
  const [again] = await read(gpu, opt.gradNorm);
  deepStrictEqual(again, gpuNorm, "the reduction order is fixed: same bits on every replay");
  store.destroy();
});

Deno.test("optim: AdamW over more than 65,535 × 64 vec4s (2-D dispatch grid)", async () => {
  const gpu = await getGpu();
  const vec4s = gpu.limits.maxComputeWorkgroupsPerDimension * 64 + 1000;
  const layout = new ParamLayout([{ name: "w", shape: [vec4s * 4] }]);
  const store = new ParamStore(gpu, layout);
  // Cheap pattern instead of random data: 17M values. Zeros included (they must stay zero).
  const grad = new Float32Array(layout.size).map((_, i) => (i % 7) - 3);
  upload(gpu, store.flat("grad"), grad);
  const config = { ...BASE, maxGradNorm: 0, emaDecay: 0.5 };
  const opt = new Optimizer(gpu, store, config);
  const prog = new Program(gpu, "optim-2d");
  opt.record(prog);
  const lr = 1e-3;
  opt.setStep(1, lr);
  prog.run();
  const [p, e] = await Promise.all([read(gpu, store.flat("param")), read(gpu, store.flat("ema"))]);
  // From p = m = v = 0, step 1 moves each parameter by −lr · g / (|g| + eps); the EMA goes halfway.
  const expected = (i: number) => -lr * grad[i] / (Math.abs(grad[i]) + config.eps);
  for (let i = 0; i < layout.size; i++) {
    const want = expected(i);
    if (Math.abs(p[i] - want) > 1e-6 * lr || Math.abs(e[i] - want / 2) > 1e-6 * lr) {
      throw new Error(`element ${i}: param ${p[i]}, ema ${e[i]}, expected ${want}, ${want / 2}`);
    }
  }
  store.destroy();
});

Deno.test("optim: rejects bad configs and step numbers", async () => {
  const gpu = await getGpu();
  const store = new ParamStore(gpu, new ParamLayout([{ name: "w", shape: [8] }]));
  throws(() => new Optimizer(gpu, store, { ...BASE, beta2: 1 }), RangeError);
  throws(() => new Optimizer(gpu, store, { ...BASE, maxGradNorm: -1 }), RangeError);
  const opt = new Optimizer(gpu, store, BASE);
  throws(() => opt.setStep(0, 1e-3), RangeError);
  throws(() => opt.setStep(1, Number.NaN), RangeError);
  store.destroy();
});
