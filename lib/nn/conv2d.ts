/**
 * 2-D convolution (stride 1, zero padding (K − 1) / 2, K = 1 or 3) on NCHW tensors.
 * The forward may pad circularly instead along either axis ({@link Wrap}: seamless
 * tiles while sampling; the backward always pads with zeros).
 *
 * Forward: each invocation holds TN output channels × RH rows × up to 16 pixels of
 * accumulators, so one vec4 load of the input feeds up to 4·TN·K FMAs (the kx = ±1
 * taps are swizzles of the loaded row) and one vec4 of weights 4·RH·4. The weights
 * are first repacked to [Cin, K·K, Cout] so each tap's TN weights are vec4 loads.
 * The accumulators far outnumber a CPU's registers, so each vec4 of them takes all K·K
 * taps of an input channel in a row: one load and one store of a spilled accumulator per
 * input channel, not per tap (1.10× a training step, 1.2× a sampling forward).
 *
 * Backward: the input gradient is the same kernel run on dy with the weights
 * transposed and flipped. The weight and bias gradients are summed per 4 × 4
 * channel pairs, split over the batch (S partial sums), then reduced by a small pass.
 *
 * The shapes are baked into the kernels (see ../gpu/kernel.ts); tile sizes were
 * chosen by measurement on llvmpipe (scripts/bench_conv.ts).
 */

import code from "../../kernels/conv2d.wgsl" with { type: "text" };
import type { KernelConsts, KernelSource } from "../gpu/kernel.ts";
import type { Program, Resource } from "../gpu/program.ts";
import { alignUp, expectShape, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "conv2d", code };

/** Circular padding per axis: the image wraps around (x: left ↔ right, y: top ↔ bottom). */
export interface Wrap {
  x: boolean;
  y: boolean;
}

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
  /**
   * Where to record the weight repack (default: the forward program itself, so it
   * follows every weight update). A program replayed only when the weights change,
   * such as once per sampling run, saves one dispatch per layer and step.
   */
  prepare?: Program;
  /** Circular padding along these axes (default: zero padding on both). */
  wrap?: Wrap;
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
 * The conv entry's workgroup size on an adapter. A CPU fallback (lavapipe, SwiftShader) runs
 * each workgroup on one thread, and a batch-2 layer has a few dozen invocations, so 64 left a
 * core idle: 16 measured 1.3× faster there (batch-2 forward of both configs, in one process; 8
 * and 32 less). A GPU runs 32 or 64 invocations in lockstep, so it keeps 64 (not measured on
 * a GPU).
 */
export const convWorkgroupSize = (adapter: { isFallbackAdapter: boolean }): number =>
  adapter.isFallbackAdapter ? 16 : WORKGROUP;
/**
 * Forward invocations below this take narrower channel tiles (and one sample each): a
 * 16-channel tile is four times the code for lavapipe to compile, and at small batches more,
 * smaller invocations also measured faster. At 128 the default `sample` (8 sprites, 16 rows,
 * small config) took 16-channel tiles; at 256 it takes 8, runs 1.06× faster per step
 * (scripts/ab.ts, CPU time; batch 8 also 1.06×) and starts in 12–14 s instead of 20–23 s on a
 * new machine (Mesa cache disabled). Batch 32 changes only in its 4×4 layers, which now take
 * one sample per invocation (0.97× and 1.03× in two runs: no change); 512 would also narrow its
 * 16×16 tiles (0.92×).
 */
const MIN_CONV_INVOCATIONS = 256;
/**
 * 1×1 convolutions of at least this batch read narrow planes as 16-pixel rows (kernelShape)
 * and take four input channels per step (CIN_STEP in the kernel): the batch-32 forward
 * 1.05–1.09× faster, a training step 1.01–1.08× (scripts/ab.ts), for 18–27 s more compile in a
 * new machine's first training step (measured before the branchless padding rows halved every
 * convolution's compile). Smaller batches keep the plain form: its code is a quarter to a
 * sixteenth as long for lavapipe to compile, which the default `sample` (16 rows) would not earn
 * back (a new machine's first run 28 → 32 s).
 */
const MIN_WIDE_1X1_BATCH = 32;
const wide1x1 = (s: ConvShape) => s.k === 1 && s.n >= MIN_WIDE_1X1_BATCH;
/** Weight-gradient invocations to aim for by splitting the batch. */
const MIN_GRAD_INVOCATIONS = 2048;
/** More batch splits than this cost more in the reduce pass than they gain. */
const MAX_SPLITS = 16;
/** Pixels of a row one invocation holds. */
const SEGMENT = 16;

export interface ConvShape {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: number;
}

/** Checks x against w and returns the problem shape. */
function shapeOf(x: Tensor, w: Tensor): ConvShape {
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

/**
 * The shape the kernels are compiled for. A 1×1 convolution has no padding, so (from
 * MIN_WIDE_1X1_BATCH) narrow planes are read as rows of SEGMENT pixels: an invocation's tile
 * holds SEGMENT pixels on 8×8 and 4×4 planes too, where a row would give it 8 or 4, so each
 * loaded weight meets 2 or 4 times the pixels.
 */
function kernelShape(s: ConvShape): ConvShape {
  if (!wide1x1(s) || s.w >= SEGMENT || (s.h * s.w) % SEGMENT !== 0) return s;
  return { ...s, h: s.h * s.w / SEGMENT, w: SEGMENT };
}

const segments = (s: ConvShape) => Math.ceil(s.w / SEGMENT);

/** Tile of one convolution dispatch: TN output channels × RH rows per invocation. */
export interface ConvTile {
  tn: number;
  rh: number;
  /** Samples per invocation: 2 where one row block covers the image. */
  nb: number;
  invocations: number;
}

/**
 * TN 16 and RH 4, but TN 8 for 3×3 on rows of 4 pixels; measured (scripts/ab.ts-style, in
 * one process, CPU time) against TN 8 for 3×3: 1.14–1.17× at 16×16, 1.06× at 8×8, 1.01× at
 * 4×4. TN shrinks when it would pad Cout or leave too few invocations. 1×1 convolutions take
 * one row: their rows share no input, and four rows made the code four times longer for
 * lavapipe to compile (a 16-row sampling UNet's first dispatches on a new machine: 36 s → 23 s)
 * for 1–2 % of step time (scripts/ab.ts, forward batch 2 and 32; training unchanged).
 * Where one row block covers the image (4×4), an invocation takes two samples, so each loaded
 * weight serves twice the pixels: the 4×4 forward 1.35× and input gradient 1.2× at batch 128
 * (scripts/bench_conv.ts), a training step 1.02× (reference) / 1.05× (small), forward batch 32
 * 1.03–1.06× (scripts/ab.ts); only where half the invocations still reach the minimum.
 * Exported so tests can tell which tile a shape takes (for the shape kernelShape gives it).
 */
export function convTile(shape: ConvShape): ConvTile {
  const s = kernelShape(shape);
  const rh = s.k === 1 ? 1 : s.h >= 4 ? 4 : s.h >= 2 ? 2 : 1;
  const invocations = (tn: number) =>
    alignUp(s.cout, tn) / tn * s.n * Math.ceil(s.h / rh) * segments(s);
  let tn = s.k === 3 && s.w < 8 ? 8 : 16;
  while (tn > 4 && (alignUp(s.cout, 4) % tn !== 0 || invocations(tn) < MIN_CONV_INVOCATIONS)) {
    tn /= 2;
  }
  const nb = s.h <= rh && s.n % 2 === 0 && invocations(tn) / 2 >= MIN_CONV_INVOCATIONS ? 2 : 1;
  return { tn, rh, nb, invocations: invocations(tn) / nb };
}

interface ConstOptions {
  tile?: ConvTile;
  flip?: boolean;
  bias?: boolean;
  residual?: boolean;
  accum?: boolean;
  splits?: number;
  wrap?: Wrap;
}

/** Every constant the kernel file uses; those an entry point does not read keep defaults. */
function constsFor(s: ConvShape, o: ConstOptions): KernelConsts {
  const tn = o.tile?.tn ?? 4;
  return {
    N: s.n,
    H: s.h,
    W: s.w,
    K: s.k,
    CIN: s.cin,
    COUT: s.cout,
    TN: tn,
    COUTP: alignUp(s.cout, tn),
    RH: o.tile?.rh ?? 1,
    NB: o.tile?.nb ?? 1,
    FLIP: o.flip ?? false,
    BIAS: o.bias ?? false,
    RESIDUAL: o.residual ?? false,
    ACCUM: o.accum ?? false,
    S: o.splits ?? 1,
    WRAP_X: o.wrap?.x ?? false,
    WRAP_Y: o.wrap?.y ?? false,
  };
}

interface ConvCall {
  /** src has s.cin channels, dst s.cout (the layer's shape; recordConv takes its kernelShape). */
  s: ConvShape;
  weight: Tensor;
  src: Tensor;
  dst: Tensor;
  bias?: Tensor;
  residual?: Tensor;
  flip?: boolean;
  accum?: boolean;
  wrap?: Wrap;
}

/** Records the weight repack (into `prepare`) and the convolution (into `prog`). */
function recordConv(prog: Program, prepare: Program, c: ConvCall): void {
  const s = kernelShape(c.s);
  const tile = convTile(s);
  const consts = constsFor(s, {
    tile,
    flip: c.flip,
    bias: c.bias !== undefined,
    residual: c.residual !== undefined,
    accum: c.accum,
    wrap: c.wrap,
  });
  const kk = s.k * s.k;
  const packedSize = s.cin * kk * alignUp(s.cout, tile.tn);
  const packed = prog.scratch([packedSize], `${c.weight.label}/packed`);
  const pack: (Resource | undefined)[] = [];
  pack[5] = packed;
  pack[6] = c.weight;
  prepare.add(KERNEL, "pack_weights", consts, pack, Math.ceil(packedSize / 4 / WORKGROUP));
  const bindings: (Resource | undefined)[] = [c.src, packed, c.dst, c.bias, c.residual];
  // conv reads its input channel count from src: one pipeline serves every CIN.
  const workgroup = convWorkgroupSize(prog.gpu.adapter);
  const cinStep = wide1x1(s) && s.cin % 4 === 0 ? 4 : 1;
  // FLIP shapes only the repack: without it, an input gradient's convolution shares the pipeline
  // of a forward one of the same shape.
  const convConsts = { ...consts, CIN: 0, FLIP: false, CONV_WG: workgroup, CIN_STEP: cinStep };
  prog.add(KERNEL, "conv", convConsts, bindings, Math.ceil(tile.invocations / workgroup));
}

/** Records y = conv(x, w) + b (+ residual). */
export function conv2dForward(prog: Program, a: Conv2dForwardArgs): void {
  const s = shapeOf(a.x, a.w);
  expectShape(a.b, [s.cout], "conv2d bias");
  expectShape(a.y, [s.n, s.cout, s.h, s.w], "conv2d output");
  if (a.residual) expectShape(a.residual, a.y.shape, "conv2d residual");
  if (a.wrap?.x && s.w > SEGMENT && s.w % SEGMENT !== 0) {
    // The kernel's right-hand wrap pixel sits past the last full segment's end.
    throw new RangeError(`conv2d: wrapping along x needs W ≤ ${SEGMENT} or a multiple of it`);
  }
  recordConv(prog, a.prepare ?? prog, {
    s,
    weight: a.w,
    src: a.x,
    dst: a.y,
    bias: a.b,
    residual: a.residual,
    wrap: a.wrap,
  });
}

/** Records dw, db (overwritten) and, when asked, dx (overwritten or accumulated). */
export function conv2dBackward(prog: Program, a: Conv2dBackwardArgs): void {
  const s = shapeOf(a.x, a.w);
  expectShape(a.dy, [s.n, s.cout, s.h, s.w], "conv2d output gradient");
  expectShape(a.dw, a.w.shape, "conv2d weight gradient");
  expectShape(a.db, [s.cout], "conv2d bias gradient");
  if (a.dx) {
    expectShape(a.dx, a.x.shape, "conv2d input gradient");
    // dx = conv(dy, w transposed and flipped): a convolution from Cout to Cin channels. A
    // zero bias (a scratch buffer is zero-filled and nothing writes it) makes it the same
    // pipeline as the forward convolutions of that shape, which lavapipe then compiles once:
    // they are the slowest kernels to compile (seconds each), and the added zero is exact.
    const accum = a.accumulateDx ?? false;
    recordConv(prog, prog, {
      s: { ...s, cin: s.cout, cout: s.cin },
      weight: a.w,
      src: a.dy,
      dst: a.dx,
      bias: accum ? undefined : prog.scratch([s.cin], `${a.dx.label}/zero bias`),
      flip: true,
      accum,
    });
  }
  recordWeightGrad(prog, kernelShape(s), a);
}

function recordWeightGrad(prog: Program, s: ConvShape, a: Conv2dBackwardArgs): void {
  // A 1×1 gradient is a plain matrix product: 16 × 16 channel tiles when the channels allow,
  // else 16 × 8 (CI_TILE in the kernel).
  const oneByOne = s.k === 1 && s.cin % 8 === 0 && s.cout % 16 === 0;
  const ciTile = s.cin % 16 === 0 ? 16 : 8;
  const tiles = oneByOne
    ? (s.cout / 16) * (s.cin / ciTile)
    : Math.ceil(s.cout / 4) * Math.ceil(s.cin / 4);
  // Every (batch split, row segment) pair sums into partials of its own; weight_grad_1x1 takes
  // whole planes.
  const batchSplits = Math.max(
    1,
    Math.min(s.n, MAX_SPLITS, Math.ceil(MIN_GRAD_INVOCATIONS / tiles)),
  );
  const splits = batchSplits * (oneByOne ? 1 : segments(s));
  const consts = constsFor(s, { splits });
  const dwPadded = alignUp(s.cout * s.cin * s.k * s.k, 4);
  const dbPadded = alignUp(s.cout, 4);
  const partial = prog.scratch([splits * (dwPadded + dbPadded)], `${a.dw.label}/partial`);
  const sums: (Resource | undefined)[] = [a.x];
  sums[7] = a.dy;
  sums[8] = partial;
  const entry = oneByOne ? "weight_grad_1x1" : "weight_grad";
  const entryConsts = oneByOne ? { ...consts, CI_TILE: ciTile } : consts;
  prog.add(KERNEL, entry, entryConsts, sums, Math.ceil(splits * tiles / WORKGROUP));
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
