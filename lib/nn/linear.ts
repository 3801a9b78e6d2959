/**
 * Fully connected layers, y = act(x Wᵀ + b) with PyTorch's nn.Linear layout
 * (W is [Out, In]) and an optional fused SiLU.
 *
 * Forward is one dispatch. Backward is two or three: dz = dy · SiLU'(preact)
 * when there is a SiLU (into a scratch tensor made at record time), then dW and
 * db together, then dx if asked for. Any In works (the time MLP's first layer
 * has In = 1); Out must be a multiple of 4.
 */

import code from "../../kernels/linear.wgsl" with { type: "text" };
import type { KernelConsts, KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";
import { expectShape, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "linear", code };

export interface LinearForwardArgs {
  /** [N, In] */
  x: Tensor;
  /** [Out, In] */
  w: Tensor;
  /** [Out] */
  b: Tensor;
  /** [N, Out] */
  y: Tensor;
  silu: boolean;
  /** [N, Out]; required when `silu`: the pre-activation, kept for backward. */
  preact?: Tensor;
}

export interface LinearBackwardArgs {
  /** [N, In], the forward input. */
  x: Tensor;
  /** [Out, In] */
  w: Tensor;
  silu: boolean;
  /** [N, Out]; required when `silu`. */
  preact?: Tensor;
  /** [N, Out], the gradient of the output y. */
  dy: Tensor;
  /** [N, In]; left out when the input needs no gradient. */
  dx?: Tensor;
  /** Adds into dx instead of overwriting it. */
  accumulateDx?: boolean;
  /** [Out, In], overwritten. */
  dw: Tensor;
  /** [Out], overwritten. */
  db: Tensor;
}

interface Dims {
  n: number;
  inF: number;
  out: number;
}

/** Reads N, In, Out from x and w and checks the tensors shared by forward and backward. */
function dims(x: Tensor, w: Tensor, silu: boolean, preact: Tensor | undefined): Dims {
  if (x.shape.length !== 2 || w.shape.length !== 2) {
    throw new RangeError(`linear: x [${x.shape}] and w [${w.shape}] must be matrices`);
  }
  const [n, inF] = x.shape;
  const out = w.shape[0];
  expectShape(w, [out, inF], "linear w");
  if (out % 4 !== 0) throw new RangeError(`linear: Out = ${out} must be a multiple of 4`);
  if (silu) {
    if (!preact) throw new Error("linear: silu needs the preact tensor");
    expectShape(preact, [n, out], "linear preact");
  }
  return { n, inF, out };
}

const consts = ({ n, inF, out }: Dims, accumulate: boolean): KernelConsts => ({
  N: n,
  IN: inF,
  OUT: out,
  ACCUM: accumulate,
});

/** Invocations are 64 per workgroup; Program splits large counts over a 2-D grid. */
const groupsFor = (invocations: number): number => Math.ceil(invocations / 64);

export function linearForward(prog: Program, a: LinearForwardArgs): void {
  const d = dims(a.x, a.w, a.silu, a.preact);
  expectShape(a.b, [d.out], "linear b");
  expectShape(a.y, [d.n, d.out], "linear y");
  const groups = groupsFor(Math.ceil(d.n / 4) * (d.out / 4));
  const c = consts(d, false);
  if (a.silu) prog.add(KERNEL, "forward_silu", c, [a.x, a.w, a.b, a.y, a.preact], groups);
  else prog.add(KERNEL, "forward", c, [a.x, a.w, a.b, a.y], groups);
}

export function linearBackward(prog: Program, a: LinearBackwardArgs): void {
  const d = dims(a.x, a.w, a.silu, a.preact);
  expectShape(a.dy, [d.n, d.out], "linear dy");
  expectShape(a.dw, [d.out, d.inF], "linear dw");
  expectShape(a.db, [d.out], "linear db");
  const c = consts(d, false);
  const inQuads = Math.ceil(d.inF / 4);
  let dz = a.dy;
  if (a.silu) {
    dz = prog.scratch([d.n, d.out], `${a.dy.label}.dz`);
    prog.add(KERNEL, "silu_grad", c, [a.dy, a.preact, dz], groupsFor((d.n * d.out) / 4));
  }
  prog.add(KERNEL, "grad_weight", c, [a.x, a.dw, dz, a.db], groupsFor((d.out / 4) * inQuads));
  if (a.dx) {
    expectShape(a.dx, [d.n, d.inF], "linear dx");
    const dxConsts = consts(d, a.accumulateDx ?? false);
    const groups = groupsFor(Math.ceil(d.n / 4) * inQuads);
    prog.add(KERNEL, "grad_input", dxConsts, [a.dx, a.w, dz], groups);
  }
}
