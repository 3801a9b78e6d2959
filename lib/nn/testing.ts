/**
 * Helpers shared by the kernel tests: seeded data, tensors from arrays, and
 * tolerance checks that name the worst element. Test-only; the product never
 * imports this module.
 */

import type { Gpu } from "../gpu/gpu.ts";
import { createTensor, download, type Tensor, upload } from "../gpu/tensor.ts";

/** Deterministic standard-normal values (xorshift32 + Box–Muller), as f64. */
export function randn(n: number, seed: number, scale = 1): Float64Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** A GPU tensor holding `data` (converted to f32). */
export function tensorFrom(
  gpu: Gpu,
  shape: readonly number[],
  data: ArrayLike<number>,
  label = "t",
): Tensor {
  const t = createTensor(gpu, shape, label);
  upload(gpu, t, Float32Array.from(data));
  return t;
}

export const read = (gpu: Gpu, t: Tensor): Promise<Float32Array> => download(gpu, t);

/**
 * Asserts |a − e| ≤ atol + rtol·|e| element-wise; the message names the worst
 * element and the largest error relative to max |e|.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-4, atol = 1e-5, label = "" }: { rtol?: number; atol?: number; label?: string } = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length} != expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    maxAbs = Math.max(maxAbs, Math.abs(e));
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(rtol ${rtol}, atol ${atol}, max |expected| ${maxAbs})`,
    );
  }
}

/** max |a − e| / max |e|: the relative error the fixture tests report. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return den === 0 ? num : num / den;
}

/**
 * Central finite differences of a scalar function f64 → f64 at x, for the
 * listed coordinates (all when omitted).
 */
export function finiteDiff(
  f: (x: Float64Array) => number,
  x: Float64Array,
  h = 1e-5,
  indices?: readonly number[],
): Float64Array {
  const g = new Float64Array(x.length);
  for (const i of indices ?? x.keys()) {
    const keep = x[i];
    x[i] = keep + h;
    const up = f(x);
    x[i] = keep - h;
    const down = f(x);
    x[i] = keep;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** {@link assertClose} with the absolute tolerance scaled to the largest expected value. */
export function assertNear(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  label: string,
  rtol = 1e-4,
): void {
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  assertClose(actual, expected, { rtol, atol: rtol * maxAbs, label });
}

/** The elements of `a` at `indices`. */
export const pick = (a: ArrayLike<number>, indices: readonly number[]): number[] =>
  indices.map((i) => a[i]);

/** Up to `count` indices spread over [0, size) (all of them when size ≤ count). */
export function spread(size: number, count: number): number[] {
  if (size <= count) return [...Array(size).keys()];
  return Array.from({ length: count }, (_, i) => (i * 7919 + 13) % size);
}
