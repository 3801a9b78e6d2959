import { deepStrictEqual } from "node:assert/strict";
import { getGpu } from "../gpu/device.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, numel } from "../gpu/tensor.ts";
import {
  addInto,
  avgPool2Backward,
  avgPool2Forward,
  concatBackward,
  concatForward,
  upsample2Backward,
  upsample2Forward,
} from "./resample.ts";
import { assertClose, finiteDiff, randn, read, tensorFrom } from "./testing.ts";

type Shape = [number, number, number, number];

/** CPU f64 references, NCHW. */
function pool(x: Float64Array, [n, c, h, w]: Shape): Float64Array {
  const y = new Float64Array((n * c * h * w) / 4);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < h / 2; i++) {
      for (let j = 0; j < w / 2; j++) {
        const at = (di: number, dj: number) => x[(p * h + 2 * i + di) * w + 2 * j + dj];
        y[(p * (h / 2) + i) * (w / 2) + j] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4;
      }
    }
  }
  return y;
}

function upsample(x: Float64Array, [n, c, h, w]: Shape): Float64Array {
  const y = new Float64Array(n * c * h * w * 4);
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < 2 * h; i++) {
      for (let j = 0; j < 2 * w; j++) {
        y[(p * 2 * h + i) * 2 * w + j] = x[(p * h + (i >> 1)) * w + (j >> 1)];
      }
    }
  }
  return y;
}

function concat(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const sa = a.length / n;
  const sb = b.length / n;
  const y = new Float64Array(a.length + b.length);
  for (let s = 0; s < n; s++) {
    y.set(a.subarray(s * sa, (s + 1) * sa), s * (sa + sb));
    y.set(b.subarray(s * sb, (s + 1) * sb), s * (sa + sb) + sa);
  }
  return y;
}

/** At most this many coordinates per gradient are checked by finite differences (each costs 2 forwards). */
const FD_SAMPLES = 300;

/**
 * Checks `actual` against ∂(Σ f(x)·r)/∂x by central differences (plus `before` when
 * accumulating) at up to FD_SAMPLES coordinates spread over x.
 */
function assertGrad(
  actual: Float32Array,
  f: (x: Float64Array) => Float64Array,
  x: Float64Array,
  r: Float64Array,
  before: Float64Array | null,
  label: string,
): void {
  const count = Math.min(x.length, FD_SAMPLES);
  const indices = Array.from({ length: count }, (_, i) => Math.floor((i * x.length) / count));
  const g = finiteDiff((v) => f(v).reduce((s, yi, i) => s + yi * r[i], 0), x, 1e-3, indices);
  const expected = indices.map((i) => g[i] + (before ? before[i] : 0));
  assertClose(indices.map((i) => actual[i]), expected, { ...exact, label });
}

const exact = { rtol: 1e-5, atol: 1e-6 };

async function checkResample(
  kind: "pool" | "upsample",
  large: Shape,
  accumulate: boolean,
  seed: number,
) {
  const gpu = await getGpu();
  const small: Shape = [large[0], large[1], large[2] / 2, large[3] / 2];
  const [inShape, outShape] = kind === "pool" ? [large, small] : [small, large];
  const ref = (v: Float64Array) => kind === "pool" ? pool(v, large) : upsample(v, small);
  const x = randn(numel(inShape), seed);
  const r = randn(numel(outShape), seed + 1);
  const before = randn(numel(inShape), seed + 2);
  const xt = tensorFrom(gpu, inShape, x, "x");
  const yt = createTensor(gpu, outShape, "y");
  const dy = tensorFrom(gpu, outShape, r, "dy");
  const dx = tensorFrom(gpu, inShape, before, "dx");
  const prog = new Program(gpu, "resample_test");
  if (kind === "pool") {
    avgPool2Forward(prog, { x: xt, y: yt });
    avgPool2Backward(prog, { dy, dx, accumulate });
  } else {
    upsample2Forward(prog, { x: xt, y: yt });
    upsample2Backward(prog, { dy, dx, accumulate });
  }
  prog.run();
  const label = `${kind} [${large}] accumulate=${accumulate}`;
  assertClose(await read(gpu, yt), ref(x), { ...exact, label: `${label}: y` });
  assertGrad(await read(gpu, dx), ref, x, r, accumulate ? before : null, `${label}: dx`);
}

Deno.test("avgPool2: forward and backward, odd half-width", async () => {
  await checkResample("pool", [2, 3, 6, 12], false, 1);
  await checkResample("pool", [1, 2, 4, 4], true, 2);
});

Deno.test("upsample2: forward and backward, odd half-width", async () => {
  await checkResample("upsample", [2, 3, 6, 12], true, 3);
  await checkResample("upsample", [1, 2, 4, 4], false, 4);
});

Deno.test("avgPool2 and upsample2: model shapes, many workgroups", async () => {
  await checkResample("pool", [3, 64, 16, 16], true, 5);
  await checkResample("upsample", [3, 128, 8, 8], false, 6);
});

async function checkConcat(
  [n, ca, cb, h, w]: number[],
  accumulateA: boolean,
  accumulateB: boolean,
  seed: number,
) {
  const gpu = await getGpu();
  const sa = n * ca * h * w;
  const sb = n * cb * h * w;
  const a = randn(sa, seed);
  const b = randn(sb, seed + 1);
  const r = randn(sa + sb, seed + 2);
  const daBefore = randn(sa, seed + 3);
  const dbBefore = randn(sb, seed + 4);
  const y = createTensor(gpu, [n, ca + cb, h, w], "y");
  const da = tensorFrom(gpu, [n, ca, h, w], daBefore, "da");
  const db = tensorFrom(gpu, [n, cb, h, w], dbBefore, "db");
  const prog = new Program(gpu, "concat_test");
  concatForward(prog, {
    a: tensorFrom(gpu, [n, ca, h, w], a, "a"),
    b: tensorFrom(gpu, [n, cb, h, w], b, "b"),
    y,
  });
  concatBackward(prog, {
    dy: tensorFrom(gpu, [n, ca + cb, h, w], r, "dy"),
    da,
    db,
    accumulateA,
    accumulateB,
  });
  prog.run();
  const label = `concat [${n}, ${ca}+${cb}, ${h}, ${w}]`;
  assertClose(await read(gpu, y), concat(a, b, n), { ...exact, label: `${label}: y` });
  const da32 = await read(gpu, da);
  assertGrad(da32, (v) => concat(v, b, n), a, r, accumulateA ? daBefore : null, `${label}: da`);
  const db32 = await read(gpu, db);
  assertGrad(db32, (v) => concat(a, v, n), b, r, accumulateB ? dbBefore : null, `${label}: db`);
}

Deno.test("concat: forward and backward with each accumulate flag", async () => {
  await checkConcat([2, 3, 5, 4, 4], true, false, 7);
  await checkConcat([3, 2, 1, 2, 4], false, true, 8);
  await checkConcat([3, 64, 64, 8, 8], false, false, 9);
});

Deno.test("addInto: dst += src over a 2-D dispatch grid", async () => {
  const gpu = await getGpu();
  // Past 65,535 × 64 vec4s the workgroup count is split over x and y.
  const n = (65_535 * 64 + 1000) * 4;
  const dstData = Float32Array.from({ length: n }, (_, i) => i % 1013);
  const srcData = Float32Array.from({ length: n }, (_, i) => (i % 7) - 3);
  const dst = tensorFrom(gpu, [n], dstData, "dst");
  const prog = new Program(gpu, "add_test");
  addInto(prog, { dst, src: tensorFrom(gpu, [n], srcData, "src") });
  prog.run();
  const out = await read(gpu, dst);
  const wrong = out.findIndex((v, i) => v !== dstData[i] + srcData[i]);
  deepStrictEqual(wrong, -1, `element ${wrong} is ${out[wrong]}`);
});
