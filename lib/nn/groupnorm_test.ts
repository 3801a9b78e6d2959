import { ok } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, type Tensor } from "../gpu/tensor.ts";
import { groupNormBackward, groupNormForward } from "./groupnorm.ts";
import { assertClose, finiteDiff, randn, read, tensorFrom } from "./testing.ts";

interface Case {
  n: number;
  c: number;
  h: number;
  w: number;
  groups: number;
  silu: boolean;
  residual: boolean;
  emb: boolean;
  accumulateDx: boolean;
  accumulateDresidual: boolean;
  /** Added to x: tests the variance against cancellation. */
  offset: number;
  /** Coordinates of x, residual and emb checked against finite differences; all when omitted. */
  samples?: number;
}

interface Inputs {
  x: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  residual: Float64Array | null;
  emb: Float64Array | null;
}

/** The CPU f64 reference: y, and mean and rstd per (n, group). */
function reference(k: Case, v: Inputs): { y: Float64Array; stats: Float64Array } {
  const { n, c, groups } = k;
  const hw = k.h * k.w;
  const cpg = c / groups;
  const y = new Float64Array(n * c * hw);
  const stats = new Float64Array(n * groups * 2);
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const start = (b * c + g * cpg) * hw;
      const count = cpg * hw;
      let mean = 0;
      for (let i = 0; i < count; i++) mean += v.x[start + i];
      mean /= count;
      let variance = 0;
      for (let i = 0; i < count; i++) variance += (v.x[start + i] - mean) ** 2;
      variance /= count;
      const rstd = 1 / Math.sqrt(variance + 1e-5);
      stats[(b * groups + g) * 2] = mean;
      stats[(b * groups + g) * 2 + 1] = rstd;
      for (let ch = g * cpg; ch < (g + 1) * cpg; ch++) {
        for (let p = 0; p < hw; p++) {
          const i = (b * c + ch) * hw + p;
          let u = (v.x[i] - mean) * rstd * v.gamma[ch] + v.beta[ch];
          if (v.residual) u += v.residual[i];
          if (k.silu) u = u / (1 + Math.exp(-u));
          y[i] = u + (v.emb ? v.emb[b * c + ch] : 0);
        }
      }
    }
  }
  return { y, stats };
}

/** Checks a GPU gradient against finite differences (f64) at `indices`. */
function assertGradient(
  actual: Float32Array,
  expected: Float64Array,
  indices: readonly number[],
  label: string,
) {
  const scale = Math.max(...indices.map((i) => Math.abs(expected[i])));
  assertClose(indices.map((i) => actual[i]), indices.map((i) => expected[i]), {
    rtol: 1e-4,
    atol: 1e-5 * scale,
    label,
  });
}

async function check(k: Case, seed: number): Promise<void> {
  const gpu = await getGpu();
  const { n, c, h, w, groups } = k;
  const size = n * c * h * w;
  const inputs: Inputs = {
    x: randn(size, seed).map((v) => v * 1.5 + k.offset),
    gamma: randn(c, seed + 1, 0.5).map((v) => v + 1),
    beta: randn(c, seed + 2, 0.5),
    residual: k.residual ? randn(size, seed + 3) : null,
    emb: k.emb ? randn(n * c, seed + 4) : null,
  };
  const r = randn(size, seed + 5);
  const dxBefore = randn(size, seed + 6);
  const dresBefore = randn(size, seed + 7);

  const shape = [n, c, h, w];
  const x = tensorFrom(gpu, shape, inputs.x, "x");
  const gamma = tensorFrom(gpu, [c], inputs.gamma, "gamma");
  const beta = tensorFrom(gpu, [c], inputs.beta, "beta");
  const residual = inputs.residual
    ? tensorFrom(gpu, shape, inputs.residual, "residual")
    : undefined;
  const emb = inputs.emb ? tensorFrom(gpu, [n, c], inputs.emb, "emb") : undefined;
  const stats = createTensor(gpu, [n, groups, 2], "stats");
  const y = createTensor(gpu, shape, "y");
  const dy = tensorFrom(gpu, shape, r, "dy");
  const dx = tensorFrom(gpu, shape, dxBefore, "dx");
  // Overwritten outputs start as garbage, so a missed write shows.
  const dgamma = tensorFrom(gpu, [c], randn(c, seed + 8), "dgamma");
  const dbeta = tensorFrom(gpu, [c], randn(c, seed + 9), "dbeta");
  const dresidual = residual ? tensorFrom(gpu, shape, dresBefore, "dresidual") : undefined;
  const demb = emb ? tensorFrom(gpu, [n, c], randn(n * c, seed + 10), "demb") : undefined;

  const prog = new Program(gpu, "groupnorm_test");
  const common = { x, gamma, beta, stats, groups, silu: k.silu, residual };
  groupNormForward(prog, { ...common, y, emb });
  groupNormBackward(prog, {
    ...common,
    dy,
    dx,
    accumulateDx: k.accumulateDx,
    dgamma,
    dbeta,
    dresidual,
    accumulateDresidual: k.accumulateDresidual,
    demb,
  });
  prog.run();

  const name = `n${n} c${c} ${h}×${w} g${groups} silu=${k.silu} res=${k.residual} emb=${k.emb}`;
  const want = reference(k, inputs);
  assertClose(await read(gpu, y), want.y, { rtol: 1e-4, atol: 1e-5, label: `${name}: y` });
  assertClose(await read(gpu, stats), want.stats, {
    rtol: 1e-4,
    atol: 1e-5,
    label: `${name}: stats`,
  });

  // L = Σ y·r, so dy = r; each input's gradient by central differences of the reference.
  const loss = (v: Inputs) => reference(k, v).y.reduce((s, yi, i) => s + yi * r[i], 0);
  const gradOf = (key: keyof Inputs, indices?: readonly number[]) =>
    finiteDiff((t) => loss({ ...inputs, [key]: t }), inputs[key] as Float64Array, 1e-4, indices);
  const all = (count: number) => [...Array(count).keys()];
  const spread = (length: number) =>
    k.samples
      ? all(k.samples).map((i) => Math.floor(((i + 0.5) * length) / k.samples!))
      : all(length);
  const xIndices = spread(size);
  const gx = gradOf("x", xIndices).map((g, i) => g + (k.accumulateDx ? dxBefore[i] : 0));
  assertGradient(await read(gpu, dx), gx, xIndices, `${name}: dx`);
  assertGradient(await read(gpu, dgamma), gradOf("gamma"), all(c), `${name}: dgamma`);
  assertGradient(await read(gpu, dbeta), gradOf("beta"), all(c), `${name}: dbeta`);
  if (dresidual) {
    const gres = gradOf("residual", xIndices).map((g, i) =>
      g + (k.accumulateDresidual ? dresBefore[i] : 0)
    );
    assertGradient(await read(gpu, dresidual), gres, xIndices, `${name}: dresidual`);
  }
  if (demb) {
    const embIndices = spread(n * c);
    assertGradient(await read(gpu, demb), gradOf("emb", embIndices), embIndices, `${name}: demb`);
  }
}

const base = {
  n: 2,
  c: 16,
  h: 4,
  w: 4,
  silu: true,
  residual: false,
  emb: false,
  accumulateDx: false,
  accumulateDresidual: false,
  offset: 0,
};

Deno.test("groupnorm: SiLU + emb (norm1 of a residual block), group size 2", async () => {
  await check({ ...base, groups: 8, emb: true }, 1);
});

Deno.test("groupnorm: SiLU + residual (norm2), group size 8, accumulating dx and dresidual", async () => {
  await check({
    ...base,
    w: 8,
    groups: 2,
    residual: true,
    accumulateDx: true,
    accumulateDresidual: true,
  }, 2);
});

Deno.test("groupnorm: SiLU + residual, group size 1, offset input, accumulating dx only", async () => {
  await check(
    { ...base, n: 3, c: 8, groups: 8, residual: true, accumulateDx: true, offset: 40 },
    3,
  );
});

Deno.test("groupnorm: no activation (attention), group size 1, accumulating dx", async () => {
  await check({ ...base, n: 3, c: 8, groups: 8, silu: false, accumulateDx: true }, 4);
});

Deno.test("groupnorm: SiLU only (out_conv), group size 2, 8×4", async () => {
  await check({ ...base, c: 12, h: 8, groups: 6 }, 5);
});

Deno.test("groupnorm: model shape, 64 channels at 16×16, 72 groups (2 workgroups)", async () => {
  await check(
    { ...base, n: 9, c: 64, h: 16, w: 16, groups: 8, emb: true, offset: 3, samples: 48 },
    6,
  );
});

Deno.test("groupnorm: rejects channels that do not split into the groups", async () => {
  const gpu = await getGpu();
  const t = (shape: number[]): Tensor => createTensor(gpu, shape, "t");
  let threw = false;
  try {
    groupNormForward(new Program(gpu, "bad"), {
      x: t([1, 6, 4, 4]),
      gamma: t([6]),
      beta: t([6]),
      stats: t([1, 4, 2]),
      y: t([1, 6, 4, 4]),
      groups: 4,
      silu: false,
    });
  } catch (e) {
    threw = e instanceof RangeError;
  }
  ok(threw);
});
