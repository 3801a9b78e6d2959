import { getGpu, type Gpu, Program } from "../gpu/mod.ts";
import { attentionBackward, attentionForward } from "./attention.ts";
import { assertNear, finiteDiff, pick, randn, read, spread, tensorFrom } from "./testing.ts";

interface Shape {
  n: number;
  c: number;
  l: number;
}

/** p = softmax_j(Σ_c q[c,i] k[c,j] / √C) and o[c,i] = Σ_j p[i,j] v[c,j], per sample, in f64. */
function reference(q: Float64Array, k: Float64Array, v: Float64Array, { n, c, l }: Shape) {
  const p = new Float64Array(n * l * l);
  const o = new Float64Array(n * c * l);
  const scale = 1 / Math.sqrt(c);
  for (let b = 0; b < n; b++) {
    const seq = b * c * l;
    for (let i = 0; i < l; i++) {
      const row = (b * l + i) * l;
      for (let j = 0; j < l; j++) {
        let s = 0;
        for (let ch = 0; ch < c; ch++) s += q[seq + ch * l + i] * k[seq + ch * l + j];
        p[row + j] = s * scale;
      }
      let max = -Infinity;
      for (let j = 0; j < l; j++) max = Math.max(max, p[row + j]);
      let sum = 0;
      for (let j = 0; j < l; j++) sum += p[row + j] = Math.exp(p[row + j] - max);
      for (let j = 0; j < l; j++) p[row + j] /= sum;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let j = 0; j < l; j++) acc += p[row + j] * v[seq + ch * l + j];
        o[seq + ch * l + i] = acc;
      }
    }
  }
  return { p, o };
}

/**
 * Runs forward and backward on the GPU; checks o and p against the f64 reference and dq, dk, dv
 * against central differences of L = Σ o·r at up to `fdPoints` coordinates each. `sharpness` scales
 * q, which sharpens the softmax (scores of tens exercise its max subtraction).
 */
async function check(gpu: Gpu, s: Shape, seed: number, fdPoints: number, sharpness = 1) {
  const size = s.n * s.c * s.l;
  const q = randn(size, seed, sharpness);
  const k = randn(size, seed + 1);
  const v = randn(size, seed + 2);
  const r = randn(size, seed + 3);
  const tag = `n${s.n} c${s.c} l${s.l}`;
  const seqShape = [s.n, s.c, s.l];
  const t = (data: ArrayLike<number>, label: string, shape = seqShape) =>
    tensorFrom(gpu, shape, data, label);
  const [qT, kT, vT] = [t(q, "q"), t(k, "k"), t(v, "v")];
  // Non-zero starting values show that the outputs are overwritten.
  const oT = t(randn(size, seed + 4), "o");
  const pT = t(randn(s.n * s.l * s.l, seed + 5), "p", [s.n, s.l, s.l]);
  const [dqT, dkT, dvT] = [t(r, "dq"), t(q, "dk"), t(k, "dv")];
  const prog = new Program(gpu, "attention_test");
  attentionForward(prog, { q: qT, k: kT, v: vT, o: oT, p: pT });
  const dout = t(r, "dout");
  attentionBackward(prog, { q: qT, k: kT, v: vT, p: pT, dout, dq: dqT, dk: dkT, dv: dvT });
  prog.run();

  const ref = reference(q, k, v, s);
  assertNear(await read(gpu, oT), ref.o, `${tag}: o`);
  assertNear(await read(gpu, pT), ref.p, `${tag}: p`);
  const loss = (qs: Float64Array, ks: Float64Array, vs: Float64Array) =>
    reference(qs, ks, vs, s).o.reduce((acc, x, i) => acc + x * r[i], 0);
  const idx = spread(size, fdPoints);
  const fd = {
    dq: pick(finiteDiff((x) => loss(x, k, v), q, 1e-5, idx), idx),
    dk: pick(finiteDiff((x) => loss(q, x, v), k, 1e-5, idx), idx),
    dv: pick(finiteDiff((x) => loss(q, k, x), v, 1e-5, idx), idx),
  };
  assertNear(pick(await read(gpu, dqT), idx), fd.dq, `${tag}: dq`);
  assertNear(pick(await read(gpu, dkT), idx), fd.dk, `${tag}: dk`);
  assertNear(pick(await read(gpu, dvT), idx), fd.dv, `${tag}: dv`);
}

Deno.test("attention: small shapes, every coordinate against finite differences", async () => {
  const gpu = await getGpu();
  await check(gpu, { n: 2, c: 8, l: 16 }, 1, Infinity);
  await check(gpu, { n: 1, c: 8, l: 8 }, 2, Infinity, 10);
});

Deno.test("attention: model-sized shapes, many workgroups, sampled finite differences", async () => {
  const gpu = await getGpu();
  // N·L/8 = 72 row invocations and 576 tile invocations: several workgroups each.
  await check(gpu, { n: 9, c: 64, l: 64 }, 3, 24, 3);
  await check(gpu, { n: 3, c: 8, l: 256 }, 4, 16);
});
