import { createTensor, getGpu, type Gpu, Program } from "../gpu/mod.ts";
import { linearBackward, linearForward } from "./linear.ts";
import { assertNear, finiteDiff, pick, randn, read, spread, tensorFrom } from "./testing.ts";

interface Shape {
  n: number;
  inF: number;
  out: number;
  silu: boolean;
}

/** y = act(x Wᵀ + b) in f64; also returns the pre-activation. */
function reference(x: Float64Array, w: Float64Array, b: Float64Array, s: Shape) {
  const pre = new Float64Array(s.n * s.out);
  const y = new Float64Array(s.n * s.out);
  for (let n = 0; n < s.n; n++) {
    for (let o = 0; o < s.out; o++) {
      let acc = b[o];
      for (let k = 0; k < s.inF; k++) acc += x[n * s.inF + k] * w[o * s.inF + k];
      pre[n * s.out + o] = acc;
      y[n * s.out + o] = s.silu ? acc / (1 + Math.exp(-acc)) : acc;
    }
  }
  return { pre, y };
}

/**
 * Runs forward and backward on the GPU and checks y, preact, dx (overwritten and accumulated),
 * dW and db; gradients of L = Σ y·r against central differences of the f64 reference at up to
 * `fdPoints` coordinates per tensor.
 */
async function check(gpu: Gpu, s: Shape, seed: number, fdPoints: number) {
  const x = randn(s.n * s.inF, seed);
  const w = randn(s.out * s.inF, seed + 1, 1 / Math.sqrt(s.inF));
  const b = randn(s.out, seed + 2, 0.5);
  const r = randn(s.n * s.out, seed + 3);
  const dx0 = randn(s.n * s.inF, seed + 4);
  const tag = `n${s.n} in${s.inF} out${s.out}${s.silu ? " silu" : ""}`;

  const t = (shape: number[], data: ArrayLike<number>, label: string) =>
    tensorFrom(gpu, shape, data, label);
  const xT = t([s.n, s.inF], x, "x");
  const wT = t([s.out, s.inF], w, "w");
  const bT = t([s.out], b, "b");
  const yT = createTensor(gpu, [s.n, s.out], "y");
  const preT = s.silu ? createTensor(gpu, [s.n, s.out], "preact") : undefined;
  const dyT = t([s.n, s.out], r, "dy");
  // Non-zero starting values show that "overwrite" really overwrites.
  const dxT = t([s.n, s.inF], randn(s.n * s.inF, seed + 5), "dx");
  const dxAccT = t([s.n, s.inF], dx0, "dxAcc");
  const dwT = t([s.out, s.inF], randn(s.out * s.inF, seed + 6), "dw");
  const dbT = t([s.out], randn(s.out, seed + 7), "db");

  const prog = new Program(gpu, "linear_test");
  linearForward(prog, { x: xT, w: wT, b: bT, y: yT, silu: s.silu, preact: preT });
  const back = { x: xT, w: wT, silu: s.silu, preact: preT, dy: dyT, dw: dwT, db: dbT };
  linearBackward(prog, { ...back, dx: dxT });
  linearBackward(prog, { ...back, dx: dxAccT, accumulateDx: true });
  prog.run();

  const ref = reference(x, w, b, s);
  assertNear(await read(gpu, yT), ref.y, `${tag}: y`);
  if (preT) assertNear(await read(gpu, preT), ref.pre, `${tag}: preact`);

  const loss = (xs: Float64Array, ws: Float64Array, bs: Float64Array) =>
    reference(xs, ws, bs, s).y.reduce((acc, v, i) => acc + v * r[i], 0);
  const ix = spread(x.length, fdPoints);
  const iw = spread(w.length, fdPoints);
  const ib = spread(b.length, fdPoints);
  const gx = pick(finiteDiff((v) => loss(v, w, b), x, 1e-5, ix), ix);
  const gw = pick(finiteDiff((v) => loss(x, v, b), w, 1e-5, iw), iw);
  const gb = pick(finiteDiff((v) => loss(x, w, v), b, 1e-5, ib), ib);
  assertNear(pick(await read(gpu, dxT), ix), gx, `${tag}: dx`);
  assertNear(
    pick(await read(gpu, dxAccT), ix),
    gx.map((g, j) => g + dx0[ix[j]]),
    `${tag}: dx acc`,
  );
  assertNear(pick(await read(gpu, dwT), iw), gw, `${tag}: dW`);
  assertNear(pick(await read(gpu, dbT), ib), gb, `${tag}: db`);
}

Deno.test("linear: small shapes, every coordinate against finite differences", async () => {
  const gpu = await getGpu();
  let seed = 10;
  for (const silu of [false, true]) {
    // N not a multiple of 4; In aligned, In = 1 (the time MLP's first layer) and In = 6, whose
    // rows straddle vec4s so neighbouring invocations share them.
    for (const [n, inF, out] of [[5, 12, 8], [7, 1, 16], [6, 6, 4], [4, 3, 12]]) {
      await check(gpu, { n, inF, out, silu }, seed++, Infinity);
    }
  }
});

Deno.test("linear: model-sized shape, many workgroups, sampled finite differences", async () => {
  const gpu = await getGpu();
  await check(gpu, { n: 130, inF: 256, out: 256, silu: true }, 40, 24);
  await check(gpu, { n: 33, inF: 256, out: 64, silu: false }, 50, 24);
});
