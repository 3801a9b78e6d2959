/**
 * conv2d kernels on the real adapter against a plain f64 reference: the forward
 * directly, the backward (dx, dw, db) against central differences of it.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { getGpu, Gpu } from "../gpu/device.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, upload } from "../gpu/tensor.ts";
import { conv2dBackward, conv2dForward, convTile, convWorkgroupSize, type Wrap } from "./conv2d.ts";
import { assertClose, assertNear, finiteDiff, randn, read, tensorFrom } from "./testing.ts";

interface Case {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: number;
}

const name = (c: Case) => `N${c.n} ${c.cin}→${c.cout} ${c.h}×${c.w} K${c.k}`;

/**
 * f64 reference: y[n, o, i, j] = b[o] + Σ w[o, c, ky, kx] · x[n, c, i + ky − p, j + kx − p],
 * with x zero outside the image, or taken modulo the size along the axes `wrap` names.
 */
function convRef(
  c: Case,
  x: Float64Array,
  w: Float64Array,
  b: Float64Array,
  wrap: Wrap = { x: false, y: false },
): Float64Array {
  const p = (c.k - 1) / 2;
  const y = new Float64Array(c.n * c.cout * c.h * c.w);
  for (let n = 0; n < c.n; n++) {
    for (let o = 0; o < c.cout; o++) {
      for (let i = 0; i < c.h; i++) {
        for (let j = 0; j < c.w; j++) {
          let s = b[o];
          for (let ci = 0; ci < c.cin; ci++) {
            for (let ky = 0; ky < c.k; ky++) {
              const iy = wrap.y ? (i + ky - p + c.h) % c.h : i + ky - p;
              if (iy < 0 || iy >= c.h) continue;
              for (let kx = 0; kx < c.k; kx++) {
                const ix = wrap.x ? (j + kx - p + c.w) % c.w : j + kx - p;
                if (ix < 0 || ix >= c.w) continue;
                s += w[((o * c.cin + ci) * c.k + ky) * c.k + kx] *
                  x[((n * c.cin + ci) * c.h + iy) * c.w + ix];
              }
            }
          }
          y[((n * c.cout + o) * c.h + i) * c.w + j] = s;
        }
      }
    }
  }
  return y;
}

/**
 * The gradients of L = Σ y · r through {@link convRef}: its loops run once more, each
 * product's partial derivatives summed where it took its factors from (the adjoint).
 */
function convAdjointRef(c: Case, x: Float64Array, w: Float64Array, r: Float64Array) {
  const p = (c.k - 1) / 2;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(c.cout);
  for (let n = 0; n < c.n; n++) {
    for (let o = 0; o < c.cout; o++) {
      for (let i = 0; i < c.h; i++) {
        for (let j = 0; j < c.w; j++) {
          const g = r[((n * c.cout + o) * c.h + i) * c.w + j];
          db[o] += g;
          for (let ci = 0; ci < c.cin; ci++) {
            for (let ky = 0; ky < c.k; ky++) {
              const iy = i + ky - p;
              if (iy < 0 || iy >= c.h) continue;
              for (let kx = 0; kx < c.k; kx++) {
                const ix = j + kx - p;
                if (ix < 0 || ix >= c.w) continue;
                const wi = ((o * c.cin + ci) * c.k + ky) * c.k + kx;
                const xi = ((n * c.cin + ci) * c.h + iy) * c.w + ix;
                dx[xi] += w[wi] * g;
                dw[wi] += x[xi] * g;
              }
            }
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const add = (a: Float64Array, b: Float64Array) => a.map((v, i) => v + b[i]);

/** At most `count` coordinates of an array of length n, spread over it (all when n ≤ count). */
function sampleIndices(n: number, count: number): number[] {
  if (n <= count) return [...Array(n).keys()];
  return [...Array(count).keys()].map((i) => Math.floor((i * n) / count + (i % 7)) % n);
}

function data(c: Case, seed: number) {
  return {
    x: randn(c.n * c.cin * c.h * c.w, seed),
    w: randn(c.cout * c.cin * c.k * c.k, seed + 1, 1 / Math.sqrt(c.cin * c.k * c.k)),
    b: randn(c.cout, seed + 2),
    residual: randn(c.n * c.cout * c.h * c.w, seed + 3),
  };
}

interface ForwardOptions {
  residual?: boolean;
  /** Record the weight repack in a program of its own, run once before the forward. */
  prepare?: boolean;
  wrap?: Wrap;
  /** The device to run on (default: the process's). */
  gpu?: Gpu;
}

async function checkForward(c: Case, seed: number, o: ForwardOptions = {}): Promise<void> {
  const gpu = o.gpu ?? await getGpu();
  const d = data(c, seed);
  const x = tensorFrom(gpu, [c.n, c.cin, c.h, c.w], d.x, "x");
  const w = tensorFrom(gpu, [c.cout, c.cin, c.k, c.k], d.w, "w");
  const b = tensorFrom(gpu, [c.cout], d.b, "b");
  const y = createTensor(gpu, [c.n, c.cout, c.h, c.w], "y");
  const residual = o.residual ? tensorFrom(gpu, y.shape, d.residual, "residual") : undefined;
  const prog = new Program(gpu, "conv2d forward test");
  const prepare = o.prepare ? new Program(gpu, "conv2d weights") : undefined;
  conv2dForward(prog, { x, w, b, y, residual, prepare, wrap: o.wrap });
  prepare?.run();
  // Weights changed after the repack must not reach a forward that was recorded without it.
  if (prepare) upload(gpu, w, new Float32Array(d.w.length).fill(7));
  prog.run();
  let expected = convRef(c, d.x, d.w, d.b, o.wrap);
  if (o.residual) expected = add(expected, d.residual);
  assertClose(await read(gpu, y), expected, {
    rtol: 1e-4,
    atol: 1e-4,
    label: `forward ${name(c)}${o.wrap ? ` wrap ${JSON.stringify(o.wrap)}` : ""}`,
  });
}

/**
 * Backward against central differences of L = Σ y · r (so dy = r) through the f64
 * reference. dx is either overwritten or accumulated onto a prior value; dw and db
 * start out stale and must be overwritten.
 */
async function checkBackward(
  c: Case,
  accumulate: boolean,
  seed: number,
  maxCoords = 400,
): Promise<void> {
  const gpu = await getGpu();
  const d = data(c, seed);
  const r = randn(c.n * c.cout * c.h * c.w, seed + 4);
  const prior = accumulate
    ? randn(c.n * c.cin * c.h * c.w, seed + 5)
    : new Float64Array(d.x.length);
  const x = tensorFrom(gpu, [c.n, c.cin, c.h, c.w], d.x, "x");
  const w = tensorFrom(gpu, [c.cout, c.cin, c.k, c.k], d.w, "w");
  const dy = tensorFrom(gpu, [c.n, c.cout, c.h, c.w], r, "dy");
  const stale = randn(d.x.length, seed + 8);
  const dx = tensorFrom(gpu, x.shape, accumulate ? prior : stale, "dx");
  const dw = tensorFrom(gpu, w.shape, randn(d.w.length, seed + 6), "dw");
  const db = tensorFrom(gpu, [c.cout], randn(c.cout, seed + 7), "db");
  const prog = new Program(gpu, "conv2d backward test");
  conv2dBackward(prog, { x, w, dy, dx, accumulateDx: accumulate, dw, db });
  prog.run();

  const loss = (xs: Float64Array, ws: Float64Array, bs: Float64Array) =>
    dot(convRef(c, xs, ws, bs), r);
  const tol = { rtol: 1e-3, atol: 1e-3 };
  const what = `${name(c)}${accumulate ? " accumulated" : ""}`;
  const xi = sampleIndices(d.x.length, maxCoords);
  const gx = finiteDiff((v) => loss(v, d.w, d.b), d.x, 1e-3, xi);
  const gotDx = await read(gpu, dx);
  assertClose(xi.map((i) => gotDx[i]), xi.map((i) => gx[i] + prior[i]), {
    ...tol,
    label: `dx ${what}`,
  });
  const wi = sampleIndices(d.w.length, maxCoords);
  const gw = finiteDiff((v) => loss(d.x, v, d.b), d.w, 1e-3, wi);
  const gotDw = await read(gpu, dw);
  assertClose(wi.map((i) => gotDw[i]), wi.map((i) => gw[i]), { ...tol, label: `dw ${what}` });
  const gb = finiteDiff((v) => loss(d.x, d.w, v), d.b, 1e-3);
  assertClose(await read(gpu, db), gb, { ...tol, label: `db ${what}` });
}

// Every pipeline compiles for a second or so on llvmpipe, so each case covers several paths.
Deno.test("conv2d forward matches the f64 reference", async () => {
  // Cout 5 pads to a second, partial channel tile; 4 × 4 rows are one vec4 each.
  await checkForward({ n: 1, cin: 3, cout: 5, h: 4, w: 4, k: 3 }, 0);
  // H = 5 leaves a partial block of 4 rows; fused residual.
  await checkForward({ n: 2, cin: 5, cout: 3, h: 5, w: 8, k: 3 }, 10, { residual: true });
  // 1×1 with 3 rows (a partial block) and Cout 12 (4-channel tiles).
  await checkForward({ n: 3, cin: 7, cout: 12, h: 3, w: 16, k: 1 }, 20);
  // A single row: one row per invocation.
  await checkForward({ n: 2, cin: 4, cout: 9, h: 1, w: 8, k: 1 }, 30);
  // Rows wider than 16 pixels span several row segments, and the halo crosses them.
  await checkForward({ n: 2, cin: 3, cout: 4, h: 3, w: 20, k: 3 }, 40);
  await checkForward({ n: 1, cin: 2, cout: 4, h: 2, w: 32, k: 3 }, 50);
  // 1×1 with 16-channel tiles over many workgroups.
  const wide1x1 = { n: 32, cin: 8, cout: 32, h: 8, w: 8, k: 1 };
  deepStrictEqual(convTile(wide1x1).tn, 16, "1×1 tile");
  await checkForward(wide1x1, 60);
  // 3×3 with 16-channel tiles.
  const wide3x3 = { n: 64, cin: 3, cout: 32, h: 8, w: 16, k: 3 };
  deepStrictEqual(convTile(wide3x3).tn, 16, "3×3 tile");
  await checkForward(wide3x3, 65);
  // 8-channel tiles over many workgroups, residual, weights repacked by a separate program.
  const tile8 = { n: 13, cin: 16, cout: 40, h: 16, w: 16, k: 3 };
  deepStrictEqual(convTile(tile8).tn, 8, "8-channel tile");
  await checkForward(tile8, 70, { residual: true, prepare: true });
  // A 4×4 image fits one row block: an invocation takes two samples (8-channel tiles, Cout
  // padded from 14 to 16), with bias and residual on both.
  const twoSamples = { n: 256, cin: 5, cout: 14, h: 4, w: 4, k: 3 };
  deepStrictEqual(convTile(twoSamples).nb, 2, "this shape no longer takes two samples");
  await checkForward(twoSamples, 80, { residual: true });
  // A 1×1 convolution reads a 4×4 plane as one row of 16 pixels, so it too takes two samples;
  // Cin 12: three steps of four input channels (Cin 7 above steps one at a time).
  const flat = { n: 128, cin: 12, cout: 64, h: 4, w: 4, k: 1 };
  deepStrictEqual(convTile(flat), { tn: 16, rh: 1, nb: 2, invocations: 256 }, "1×1 tile");
  await checkForward(flat, 90, { residual: true });
});

Deno.test("conv2d forward with a GPU's workgroup size matches the f64 reference", async () => {
  // CPU adapters run the conv entry in workgroups of 16, GPUs in 64: the same device, described
  // as a GPU, runs the GPU's layout here, over one and over several workgroups.
  const local = await getGpu();
  const asGpu = new Gpu(local.device, { ...local.adapter, isFallbackAdapter: false });
  deepStrictEqual(convWorkgroupSize(asGpu.adapter), 64);
  deepStrictEqual(convWorkgroupSize({ isFallbackAdapter: true }), 16);
  await checkForward({ n: 2, cin: 5, cout: 8, h: 16, w: 16, k: 3 }, 400, { gpu: asGpu });
  await checkForward({ n: 9, cin: 16, cout: 40, h: 16, w: 16, k: 3 }, 410, {
    gpu: asGpu,
    residual: true,
  });
  await checkForward({ n: 32, cin: 8, cout: 32, h: 8, w: 8, k: 1 }, 420, { gpu: asGpu });
});

Deno.test("conv2d forward with circular padding matches the f64 reference", async () => {
  // The model's three widths (16, 8, 4: one row segment, whose ends wrap onto each other), each
  // axis alone and both, several row blocks (H = 16 and 8), 1×1 convolutions unaffected.
  const xy = { x: true, y: true };
  await checkForward({ n: 2, cin: 5, cout: 8, h: 16, w: 16, k: 3 }, 300, { wrap: xy });
  await checkForward({ n: 1, cin: 3, cout: 4, h: 8, w: 8, k: 3 }, 310, {
    wrap: { x: true, y: false },
    residual: true,
  });
  await checkForward({ n: 1, cin: 3, cout: 4, h: 4, w: 4, k: 3 }, 320, {
    wrap: { x: false, y: true },
  });
  await checkForward({ n: 1, cin: 4, cout: 8, h: 4, w: 4, k: 3 }, 330, { wrap: xy });
  await checkForward({ n: 2, cin: 3, cout: 4, h: 8, w: 32, k: 3 }, 340, { wrap: xy });
  await checkForward({ n: 1, cin: 3, cout: 4, h: 4, w: 8, k: 1 }, 350, { wrap: xy });
});

Deno.test("conv2d backward matches finite differences", async () => {
  await checkBackward({ n: 1, cin: 3, cout: 4, h: 4, w: 4, k: 3 }, false, 200);
  await checkBackward({ n: 2, cin: 4, cout: 3, h: 5, w: 8, k: 3 }, true, 210);
  await checkBackward({ n: 2, cin: 6, cout: 5, h: 4, w: 4, k: 1 }, true, 220);
  // 1×1 with channels in sixteens: 16 × 16 pair tiles, two output tiles, over 3 batch splits;
  // Cin 24: 16 × 8 tiles, three input tiles.
  await checkBackward({ n: 3, cin: 16, cout: 32, h: 4, w: 8, k: 1 }, false, 225, 120);
  await checkBackward({ n: 3, cin: 24, cout: 16, h: 4, w: 8, k: 1 }, false, 230, 120);
  await checkBackward({ n: 2, cin: 3, cout: 2, h: 3, w: 20, k: 3 }, false, 230);
  // Several batch splits and workgroups; a sample of coordinates keeps it quick.
  await checkBackward({ n: 10, cin: 9, cout: 12, h: 8, w: 16, k: 3 }, true, 240, 80);
});

Deno.test("conv2d adjoint reference equals central differences of the forward reference", () => {
  for (
    const c of [{ n: 2, cin: 3, cout: 5, h: 5, w: 4, k: 3 }, {
      n: 2,
      cin: 3,
      cout: 2,
      h: 3,
      w: 4,
      k: 1,
    }]
  ) {
    const d = data(c, 300);
    const r = randn(c.n * c.cout * c.h * c.w, 301);
    const loss = (xs: Float64Array, ws: Float64Array, bs: Float64Array) =>
      dot(convRef(c, xs, ws, bs), r);
    const adjoint = convAdjointRef(c, d.x, d.w, r);
    const tol = { rtol: 1e-6, atol: 1e-6 };
    assertClose(adjoint.dx, finiteDiff((v) => loss(v, d.w, d.b), d.x, 1e-3), {
      ...tol,
      label: `adjoint dx ${name(c)}`,
    });
    assertClose(adjoint.dw, finiteDiff((v) => loss(d.x, v, d.b), d.w, 1e-3), {
      ...tol,
      label: `adjoint dw ${name(c)}`,
    });
    assertClose(adjoint.db, finiteDiff((v) => loss(d.x, d.w, v), d.b, 1e-3), {
      ...tol,
      label: `adjoint db ${name(c)}`,
    });
  }
});

/**
 * The shapes training and sampling run take 8- and 16-channel tiles in the input gradient's
 * convolution (Cout → Cin), where the cases above take 4: every element of dx, dw and db
 * against the f64 adjoint.
 */
Deno.test("conv2d backward at the model's tile sizes (TN 8 and 16) matches the f64 adjoint", async () => {
  const gpu = await getGpu();
  const cases: [Case, number, boolean][] = [
    // A 3×3 convolution on 16-pixel rows: dx is a 64 → 32 convolution.
    [{ n: 32, cin: 32, cout: 64, h: 16, w: 16, k: 3 }, 16, false],
    // A 3×3 convolution of the small preset's deepest level (4×4): 8-channel tiles.
    [{ n: 64, cin: 32, cout: 64, h: 4, w: 4, k: 3 }, 8, false],
    // A 1×1 convolution at 8×8 (skips, attention projections), accumulating dx.
    [{ n: 32, cin: 64, cout: 32, h: 8, w: 8, k: 1 }, 16, true],
  ];
  for (const [c, tn, accumulate] of cases) {
    deepStrictEqual(
      convTile({ ...c, cin: c.cout, cout: c.cin }).tn,
      tn,
      `${name(c)}: the input gradient no longer takes TN ${tn}; pick a shape that does`,
    );
    const d = data(c, 400 + c.k);
    const r = randn(c.n * c.cout * c.h * c.w, 410 + c.k);
    const prior = accumulate ? randn(d.x.length, 420 + c.k) : new Float64Array(d.x.length);
    const x = tensorFrom(gpu, [c.n, c.cin, c.h, c.w], d.x, "x");
    const w = tensorFrom(gpu, [c.cout, c.cin, c.k, c.k], d.w, "w");
    const dy = tensorFrom(gpu, [c.n, c.cout, c.h, c.w], r, "dy");
    const dx = tensorFrom(gpu, x.shape, accumulate ? prior : randn(d.x.length, 430), "dx");
    const dw = tensorFrom(gpu, w.shape, randn(d.w.length, 440), "dw");
    const db = tensorFrom(gpu, [c.cout], randn(c.cout, 450), "db");
    const prog = new Program(gpu, "conv2d backward test");
    conv2dBackward(prog, { x, w, dy, dx, accumulateDx: accumulate, dw, db });
    prog.run();
    const expected = convAdjointRef(c, d.x, d.w, r);
    const what = `${name(c)} TN ${tn}${accumulate ? " accumulated" : ""}`;
    assertNear(await read(gpu, dx), add(expected.dx, prior), `dx ${what}`);
    assertNear(await read(gpu, dw), expected.dw, `dw ${what}`);
    assertNear(await read(gpu, db), expected.db, `db ${what}`);
    prog.destroy();
    for (const t of [x, w, dy, dx, dw, db]) t.buffer.destroy();
  }
});

Deno.test("conv2d: an input gradient's convolution reuses the forward's pipeline", async () => {
  // Pipelines are what lavapipe spends its start-up compiling: the input gradient of a 32 → 32
  // layer is a 32 → 32 convolution, the forward's shape, so it must add no conv pipeline (an
  // accumulated one differs in its epilogue, so it does add one).
  const gpu = await getGpu();
  const x = createTensor(gpu, [8, 32, 16, 16], "x");
  const w = createTensor(gpu, [32, 32, 3, 3], "w");
  const b = createTensor(gpu, [32], "b");
  const y = createTensor(gpu, x.shape, "y");
  const grads = { dx: createTensor(gpu, x.shape, "dx"), dw: createTensor(gpu, w.shape, "dw") };
  const convs = () => gpu.kernels.variants.filter((v) => v.entry === "conv").length;
  const prog = new Program(gpu, "pipeline sharing test");
  const dispatches = () => prog.dispatches.filter((d) => d.entry === "conv").length;
  conv2dForward(prog, { x, w, b, y });
  const afterForward = convs();
  conv2dBackward(prog, { x, w, dy: y, ...grads, db: createTensor(gpu, [32], "db") });
  deepStrictEqual(dispatches(), 2, "the input gradient's convolution was not recorded");
  deepStrictEqual(convs(), afterForward, "the input gradient compiled a conv pipeline of its own");
  conv2dBackward(prog, {
    x,
    w,
    dy: y,
    ...grads,
    accumulateDx: true,
    db: createTensor(gpu, [32], "db"),
  });
  deepStrictEqual(convs(), afterForward + 1, "an accumulated input gradient shares a pipeline");
  prog.destroy();
});

Deno.test("conv2d rejects a width that is not a multiple of 4", async () => {
  const gpu = await getGpu();
  const x = createTensor(gpu, [1, 2, 4, 6], "x");
  const w = createTensor(gpu, [2, 2, 3, 3], "w");
  let threw = false;
  try {
    conv2dForward(new Program(gpu, "bad"), { x, w, b: createTensor(gpu, [2], "b"), y: x });
  } catch (e) {
    threw = e instanceof RangeError;
  }
  ok(threw);
});
