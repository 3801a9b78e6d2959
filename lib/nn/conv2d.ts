/**
 * 2-D convolution (stride 1, zero padding (K − 1) / 2, K = 1 or 3) on NCHW tensors.
 *
 * Forward: each invocation holds TN output channels × one row of up to 16 pixels
 * in registers, so one vec4 load of the input feeds 4·TN FMAs and the kx = ±1 taps
 * are swizzles of the loaded row (the fastest form measured on llvmpipe). The
 * weights are first repacked to [Cin, K·K, Cout] so each tap's TN weights are
 * vec4 loads; they change every optimiser step, so the repack is recorded with
 * the convolution and replays every time.
 *
 * Backward: the input gradient is the same kernel run on dy with the weights
 * transposed and flipped; the weight and bias gradients are split over the batch
 * (S partial sums) and summed by a small reduce pass.
 */

import code from "../../kernels/conv2d.wgsl" with { type: "text" };
import type { KernelConsts, KernelSource } from "../gpu/kernel.ts";
import type { Program, Resource } from "../gpu/program.ts";
import { alignUp, createTensor, type Tensor } from "../gpu/tensor.ts";

export const KERNEL: KernelSource = { name: "conv2d", code };

export interface Conv2dForwardArgs {
  /** [N, Cin, H, W], W a multiple of 4. */
  x: Tensor;
  /** [Cout, Cin, K, K], K = 1 or 3. */
  w: Tensor;
  /** [Cout]. */
  b: Tensor;
  /** [N, Cout, H, W]. */
  y: Tensor;
  /** [N, Cout, H, W]; when given, y = conv(x) + b + residual. */
  residual?: Tensor;
}

export interface Conv2dBackwardArgs {
  x: Tensor;
  w: Tensor;
  /** [N, Cout, H, W]. */
  dy: Tensor;
  /** [N, Cin, H, W]; omitted when the input gradient is not needed. */
  dx?: Tensor;
  /** dx += … instead of dx = …. */
  accumulateDx?: boolean;
  /** [Cout, Cin, K, K], overwritten. */
  dw: Tensor;
  /** [Cout], overwritten. */
  db: Tensor;
}

const WORKGROUP = 64;
/**
 * Fewer invocations than this leave cores (or GPU lanes) idle, so smaller problems
 * (sampling batches) take narrower channel tiles and more splits of the batch.
 */
const MIN_INVOCATIONS = 2048;
/** More batch splits than this cost more in the reduce pass than they gain. */
const MAX_SPLITS = 16;

interface Shape {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: number;
}

function sameShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new RangeError(`conv2d: ${what} ${t.label} is [${t.shape}], expected [${shape}]`);
  }
}

/** Checks the operands against x and w and returns the problem shape. */
function shapeOf(x: Tensor, w: Tensor): Shape {
  if (x.shape.length !== 4 || w.shape.length !== 4) {
    throw new RangeError(`conv2d: x [${x.shape}] and w [${w.shape}] must both be 4-D`);
  }
  const [n, cin, h, width] = x.shape;
  const [cout, wcin, k, k2] = w.shape;
  if (wcin !== cin || k !== k2 || (k !== 1 && k !== 3)) {
    throw new RangeError(`conv2d: weight [${w.shape}] does not fit input [${x.shape}]`);
  }
  if (width % 4 !== 0) throw new RangeError(`conv2d: width ${width} is not a multiple of 4`);
  return { n, cin, cout, h, w: width, k };
}

/** Every constant the kernel file uses; the entry points read the ones they need. */
export function constsFor(
  s: Shape,
  o: {
    tn?: number;
    rh?: number;
    flip?: boolean;
    accum?: boolean;
    splits?: number;
    tco?: number;
    tci?: number;
  } = {},
): KernelConsts {
  const tn = o.tn ?? 4;
  return {
    N: s.n,
    H: s.h,
    W: s.w,
    K: s.k,
    CIN: s.cin,
    COUT: s.cout,
    COUTP: alignUp(s.cout, tn),
    TN: tn,
    RH: o.rh ?? 1,
    FLIP: o.flip ?? false,
    ACCUM: o.accum ?? false,
    S: o.splits ?? 1,
    TCO: o.tco ?? 4,
    TCI: o.tci ?? 4,
  };
}

/**
 * Output channels per invocation: 8 with 16-pixel rows, 16 with shorter ones (about
 * 32 vec4 accumulators either way), fewer when Cout is small or the problem would
 * not fill MIN_INVOCATIONS.
 */
function channelTile(s: Shape): number {
  const rowVec4s = Math.min(s.w / 4, 4);
  const invocations = (tn: number) =>
    alignUp(s.cout, tn) / tn * s.n * s.h * Math.ceil(s.w / 4 / rowVec4s);
  let tn = rowVec4s >= 4 ? 8 : 16;
  while (tn > 4 && (alignUp(s.cout, 4) % tn !== 0 || invocations(tn) < MIN_INVOCATIONS)) tn /= 2;
  return tn;
}

/**
 * Records the weight repack and the convolution of `src` into `dst` (shape s: src has
 * s.cin channels, dst s.cout). `epilogue` picks the entry point and its extra bindings.
 */
function recordConv(
  prog: Program,
  s: Shape,
  weight: Tensor,
  src: Tensor,
  dst: Tensor,
  entry: "forward" | "forward_residual" | "input_grad",
  extra: { bias?: Tensor; residual?: Tensor; flip?: boolean; accum?: boolean },
): void {
  const tn = Number(Deno.env.get("CONV_TN") ?? channelTile(s));
  const rh = Number(Deno.env.get("CONV_RH") ?? 1);
  const consts = constsFor(s, { tn, rh, flip: extra.flip, accum: extra.accum });
  const coutPadded = alignUp(s.cout, tn);
  const packed = createTensor(prog.gpu, [s.cin, s.k * s.k, coutPadded], `${weight.label}/packed`);
  const packBindings: (Resource | undefined)[] = [];
  packBindings[5] = packed;
  packBindings[6] = weight;
  prog.add(
    KERNEL,
    "pack_weights",
    consts,
    packBindings,
    Math.ceil(s.cin * s.k * s.k * coutPadded / WORKGROUP),
  );
  const invocations = coutPadded / tn * s.n * Math.ceil(s.h / rh) *
    Math.ceil(s.w / 4 / Math.min(s.w / 4, 4));
  prog.add(
    KERNEL,
    entry,
    consts,
    [src, packed, dst, extra.bias, extra.residual],
    Math.ceil(invocations / WORKGROUP),
  );
}

/** Records y = conv(x, w) + b (+ residual). */
export function conv2dForward(prog: Program, a: Conv2dForwardArgs): void {
  const s = shapeOf(a.x, a.w);
  sameShape(a.b, [s.cout], "bias");
  sameShape(a.y, [s.n, s.cout, s.h, s.w], "output");
  if (a.residual) sameShape(a.residual, [s.n, s.cout, s.h, s.w], "residual");
  recordConv(prog, s, a.w, a.x, a.y, a.residual ? "forward_residual" : "forward", {
    bias: a.b,
    residual: a.residual,
  });
}

/** Records dw, db (overwritten) and, when asked, dx (overwritten or accumulated). */
export function conv2dBackward(prog: Program, a: Conv2dBackwardArgs): void {
  const s = shapeOf(a.x, a.w);
  sameShape(a.dy, [s.n, s.cout, s.h, s.w], "output gradient");
  sameShape(a.dw, [s.cout, s.cin, s.k, s.k], "weight gradient");
  sameShape(a.db, [s.cout], "bias gradient");
  if (a.dx) {
    sameShape(a.dx, [s.n, s.cin, s.h, s.w], "input gradient");
    // dx = conv(dy, w transposed and flipped): a convolution from Cout to Cin channels.
    const t: Shape = { ...s, cin: s.cout, cout: s.cin };
    recordConv(prog, t, a.w, a.dy, a.dx, "input_grad", {
      flip: true,
      accum: a.accumulateDx ?? false,
    });
  }
  recordWeightGrad(prog, s, a);
}

function recordWeightGrad(prog: Program, s: Shape, a: Conv2dBackwardArgs): void {
  const base = Math.ceil(s.cout / 4) * Math.ceil(s.cin / 4) * (s.k === 3 ? 1 : 1);
  const segments = Math.ceil(s.w / 16);
  const batchSplits = Math.max(1, Math.min(s.n, MAX_SPLITS, Math.ceil(MIN_INVOCATIONS / base)));
  // Every (batch split, row segment) pair gets its own partial sums.
  const splits = batchSplits * segments;
  const consts = constsFor(s, { splits });
  const dwPadded = alignUp(s.cout * s.cin * s.k * s.k, 4);
  const dbPadded = alignUp(s.cout, 4);
  const partial = createTensor(prog.gpu, [splits * (dwPadded + dbPadded)], `${a.dw.label}/partial`);
  const sums: (Resource | undefined)[] = [a.x];
  sums[7] = a.dy;
  sums[8] = partial;
  prog.add(
    KERNEL,
    s.k === 3 ? "weight_grad3" : "weight_grad",
    consts,
    sums,
    Math.ceil(splits * base / WORKGROUP),
  );
  const reduce: (Resource | undefined)[] = [];
  reduce[9] = partial;
  reduce[10] = a.dw;
  reduce[11] = a.db;
  prog.add(
    KERNEL,
    "weight_grad_reduce",
    consts,
    reduce,
    Math.ceil((dwPadded + dbPadded) / 4 / WORKGROUP),
  );
}
