/**
 * Layout layers of the UNet: 2×2 average pooling, nearest 2× upsampling, channel
 * concat, and `dst += src`, each forward and backward; kernels: kernels/resample.wgsl.
 *
 * Pooling and upsampling share two kernels: `down` sums 2×2 blocks (pool forward,
 * upsample backward) and `up` spreads a value over its 2×2 block (upsample forward,
 * pool backward), each with a scale and an accumulate flag. The large image's W
 * must be a multiple of 4 (vec4 rows); H even.
 */

import code from "../../kernels/resample.wgsl" with { type: "text" };
import type { KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";
import { sizeOf, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "resample", code };

/** The constants of one dispatch (see the kernel's header); THREADS = invocations that do work. */
interface ResampleConsts {
  THREADS: number;
  QUADS?: number;
  SCALE?: number;
  ACCUM?: boolean;
  ACCUM_B?: boolean;
  A_QUADS?: number;
  B_QUADS?: number;
}

/**
 * Every other constant the module references, so each entry point compiles. The
 * divisors are 1, not 0: WGSL makes an integer division by a constant zero a
 * shader-creation error (Chromium enforces it) even in entry points never run.
 */
const DEFAULTS: Required<Omit<ResampleConsts, "THREADS">> = {
  QUADS: 1,
  SCALE: 1,
  ACCUM: false,
  ACCUM_B: false,
  A_QUADS: 1,
  B_QUADS: 1,
};

function dispatch(
  prog: Program,
  entry: string,
  consts: ResampleConsts,
  resources: (Tensor | undefined)[],
): void {
  prog.add(KERNEL, entry, { ...DEFAULTS, ...consts }, resources, Math.ceil(consts.THREADS / 64));
}

function fail(what: string, ...tensors: Tensor[]): never {
  throw new RangeError(`${what}: ${tensors.map((t) => `${t.label} [${t.shape}]`).join(", ")}`);
}

/** Checks large [N, C, H, W] against small [N, C, H/2, W/2]; returns the `down`/`up` constants. */
function resampleConsts(
  large: Tensor,
  small: Tensor,
  scale: number,
  accumulate: boolean,
): ResampleConsts {
  const [n, c, h, w] = large.shape;
  const s = small.shape;
  if (
    large.shape.length !== 4 || s.length !== 4 || s[0] !== n || s[1] !== c || s[2] * 2 !== h ||
    s[3] * 2 !== w
  ) {
    fail("resample: shapes are not [N, C, H, W] and [N, C, H/2, W/2]", large, small);
  }
  if (w % 4 !== 0) fail("resample: W of the large image must be a multiple of 4", large);
  return { THREADS: sizeOf(small) / 2, QUADS: w / 4, SCALE: scale, ACCUM: accumulate };
}

/** y = AvgPool2d(2)(x): [N, C, H, W] → [N, C, H/2, W/2]. */
export function avgPool2Forward(prog: Program, a: { x: Tensor; y: Tensor }): void {
  dispatch(prog, "down", resampleConsts(a.x, a.y, 0.25, false), [a.x, a.y]);
}

export function avgPool2Backward(
  prog: Program,
  a: { dy: Tensor; dx: Tensor; accumulate?: boolean },
): void {
  dispatch(prog, "up", resampleConsts(a.dx, a.dy, 0.25, !!a.accumulate), [a.dy, a.dx]);
}

/** y = nearest 2× upsample of x: [N, C, H, W] → [N, C, 2H, 2W]. */
export function upsample2Forward(prog: Program, a: { x: Tensor; y: Tensor }): void {
  dispatch(prog, "up", resampleConsts(a.y, a.x, 1, false), [a.x, a.y]);
}

export function upsample2Backward(
  prog: Program,
  a: { dy: Tensor; dx: Tensor; accumulate?: boolean },
): void {
  dispatch(prog, "down", resampleConsts(a.dy, a.dx, 1, !!a.accumulate), [a.dy, a.dx]);
}

/** Checks y = [a, b] along channels; returns the concat constants. */
function concatConsts(a: Tensor, b: Tensor, y: Tensor): ResampleConsts {
  const [n, ca, h, w] = a.shape;
  const s = b.shape;
  const t = y.shape;
  const fits = a.shape.length === 4 && s.length === 4 && t.length === 4 &&
    s[0] === n && s[2] === h && s[3] === w &&
    t[0] === n && t[1] === ca + s[1] && t[2] === h && t[3] === w;
  if (!fits) {
    fail("concat: shapes are not [N, Ca, H, W], [N, Cb, H, W] and [N, Ca+Cb, H, W]", a, b, y);
  }
  if ((h * w) % 4 !== 0) fail("concat: H·W must be a multiple of 4", a);
  return { THREADS: sizeOf(y) / 4, A_QUADS: (ca * h * w) / 4, B_QUADS: (s[1] * h * w) / 4 };
}

/** y = concat([a, b], channels): [N, Ca, H, W] + [N, Cb, H, W] → [N, Ca+Cb, H, W]. */
export function concatForward(prog: Program, a: { a: Tensor; b: Tensor; y: Tensor }): void {
  dispatch(prog, "concat", concatConsts(a.a, a.b, a.y), [a.a, a.y, a.b]);
}

export function concatBackward(
  prog: Program,
  a: { dy: Tensor; da: Tensor; db: Tensor; accumulateA?: boolean; accumulateB?: boolean },
): void {
  const k = { ...concatConsts(a.da, a.db, a.dy), ACCUM: !!a.accumulateA, ACCUM_B: !!a.accumulateB };
  dispatch(prog, "concat_split", k, [a.dy, a.da, undefined, a.db]);
}

/** dst += src (same shape, a multiple of 4 elements). */
export function addInto(prog: Program, a: { dst: Tensor; src: Tensor }): void {
  const n = sizeOf(a.dst);
  if (sizeOf(a.src) !== n || n % 4 !== 0) {
    fail("addInto: sizes differ or are not a multiple of 4", a.dst, a.src);
  }
  dispatch(prog, "add", { THREADS: n / 4 }, [a.src, a.dst]);
}
