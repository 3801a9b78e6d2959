/**
 * GroupNorm with the model's fused extras, forward and backward:
 *
 *   y = act(GN(x)·γ + β + residual) + emb[n, c]      act = SiLU or identity
 *
 * GN is PyTorch's (biased variance, eps 1e-5). The forward reads x twice in one
 * dispatch (group statistics, then normalise), the backward reads x and dy twice (per-row gradient sums,
 * then dx) with a tiny reduction in between; with SiLU and a residual whose gradient
 * is overwritten, the first backward pass stores that gradient (= ∂L/∂pre-activation)
 * and the second reads it back instead of dy and the residual. dγ and dβ are reduced
 * over the batch in a fixed order, so every replay gives the same bits.
 * Kernels: kernels/groupnorm.wgsl.
 *
 * Outputs must not share a buffer with inputs (WebGPU forbids binding one buffer both
 * read-only and writable in a dispatch), nor overlap each other: y apart from x;
 * dx and dresidual apart from x, dy, residual and each other.
 */

import code from "../../kernels/groupnorm.wgsl" with { type: "text" };
import type { KernelConsts, KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";
import { expectShape, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "groupnorm", code };

export interface GroupNormForwardArgs {
  /** [N, C, H, W] */
  x: Tensor;
  /** [C] (views into the flat parameter buffer) */
  gamma: Tensor;
  beta: Tensor;
  /** [N, groups, 2] written: mean, rstd (kept for backward) */
  stats: Tensor;
  /** [N, C, H, W] */
  y: Tensor;
  /** C % groups == 0; a group may be a single channel */
  groups: number;
  silu: boolean;
  /** [N, C, H, W], added before the activation */
  residual?: Tensor;
  /** [N, C], broadcast over H×W, added after the activation */
  emb?: Tensor;
}

export interface GroupNormBackwardArgs {
  /** As in the forward. */
  x: Tensor;
  gamma: Tensor;
  beta: Tensor;
  stats: Tensor;
  groups: number;
  silu: boolean;
  residual?: Tensor;
  /** [N, C, H, W] */
  dy: Tensor;
  dx: Tensor;
  accumulateDx?: boolean;
  /** [C], overwritten (views into the flat gradient buffer) */
  dgamma: Tensor;
  dbeta: Tensor;
  /** Gradient of the residual input; required when `residual` is given. */
  dresidual?: Tensor;
  accumulateDresidual?: boolean;
  /** [N, C] = Σ_hw dy, overwritten; required when the forward added `emb`. */
  demb?: Tensor;
}

/** The shape constants of one GroupNorm call, validated. */
interface Geometry {
  n: number;
  c: number;
  groups: number;
  hw: number;
}

function geometry(a: GroupNormForwardArgs | GroupNormBackwardArgs): Geometry {
  if (a.x.shape.length !== 4) throw new RangeError(`groupnorm: x ${a.x.label} is not [N, C, H, W]`);
  const [n, c, h, w] = a.x.shape;
  const { groups } = a;
  if (!(Number.isInteger(groups) && groups > 0 && c % groups === 0)) {
    throw new RangeError(`groupnorm: ${c} channels do not split into ${groups} groups`);
  }
  if ((h * w) % 4 !== 0) throw new RangeError(`groupnorm: H·W = ${h * w} is not a multiple of 4`);
  expectShape(a.gamma, [c], "groupnorm gamma");
  expectShape(a.beta, [c], "groupnorm beta");
  expectShape(a.stats, [n, groups, 2], "groupnorm stats");
  if (a.residual) expectShape(a.residual, a.x.shape, "groupnorm residual");
  return { n, c, groups, hw: h * w };
}

function consts(
  g: Geometry,
  flags: { silu: boolean; residual: boolean; emb: boolean; accumDx: boolean; accumDres: boolean },
): KernelConsts {
  return {
    N: g.n,
    C: g.c,
    G: g.groups,
    CPG: g.c / g.groups,
    HW: g.hw,
    SILU: flags.silu,
    HAS_RES: flags.residual,
    HAS_EMB: flags.emb,
    ACCUM_DX: flags.accumDx,
    ACCUM_DRES: flags.accumDres,
  };
}

/** Flags of entry points that ignore them, so one pipeline serves every variant. */
const NO_FLAGS = { silu: false, residual: false, emb: false, accumDx: false, accumDres: false };

/** The kernel's bindings in @binding order (the WGSL variable names). */
const BINDINGS = [
  "x",
  "gamma",
  "beta",
  "residual",
  "emb",
  "dy",
  "stats",
  "partials",
  "y",
  "dx",
  "dres",
  "demb",
  "dgamma",
  "dbeta",
  "gsums",
] as const;

/** The resources array for `Program.add`, from bindings named as in the kernel. */
function bind(named: Partial<Record<(typeof BINDINGS)[number], Tensor>>): (Tensor | undefined)[] {
  return BINDINGS.map((name) => named[name]);
}

/** Records the forward: 1 dispatch of N·groups invocations. */
export function groupNormForward(prog: Program, a: GroupNormForwardArgs): void {
  const g = geometry(a);
  expectShape(a.y, a.x.shape, "groupnorm y");
  if (a.emb) expectShape(a.emb, [g.n, g.c], "groupnorm emb");
  const k = consts(g, { ...NO_FLAGS, silu: a.silu, residual: !!a.residual, emb: !!a.emb });
  // Absent optional inputs are bound to tensors already bound read-only; never read.
  prog.add(
    KERNEL,
    "forward",
    k,
    bind({
      x: a.x,
      gamma: a.gamma,
      beta: a.beta,
      residual: a.residual ?? a.x,
      emb: a.emb ?? a.gamma,
      stats: a.stats,
      y: a.y,
    }),
    Math.ceil((g.n * g.groups) / 64),
  );
}

/** Records the backward: 3 dispatches (N·C, C + N·groups and N·C invocations). */
export function groupNormBackward(prog: Program, a: GroupNormBackwardArgs): void {
  const g = geometry(a);
  expectShape(a.dy, a.x.shape, "groupnorm dy");
  expectShape(a.dx, a.x.shape, "groupnorm dx");
  expectShape(a.dgamma, [g.c], "groupnorm dgamma");
  expectShape(a.dbeta, [g.c], "groupnorm dbeta");
  if (a.residual) {
    if (!a.dresidual) throw new RangeError("groupnorm: dresidual is required with a residual");
    expectShape(a.dresidual, a.x.shape, "groupnorm dresidual");
  }
  if (a.demb) expectShape(a.demb, [g.n, g.c], "groupnorm demb");
  const partials = prog.scratch([g.n, g.c, 2], "groupnorm.grad_partials");
  const gsums = prog.scratch([g.n, g.groups, 2], "groupnorm.grad_group_means");
  const k = consts(g, {
    silu: a.silu,
    residual: !!a.residual,
    emb: !!a.demb,
    accumDx: !!a.accumulateDx,
    accumDres: !!a.accumulateDresidual,
  });
  const rows = Math.ceil((g.n * g.c) / 64);
  // Absent optional tensors are bound to ones already bound with the same access; never touched.
  const inputs = {
    x: a.x,
    gamma: a.gamma,
    beta: a.beta,
    residual: a.residual ?? a.x,
    dy: a.dy,
    stats: a.stats,
  };
  prog.add(
    KERNEL,
    "grad_rows",
    k,
    bind({ ...inputs, partials, dres: a.dresidual ?? partials, demb: a.demb ?? partials }),
    rows,
  );
  prog.add(
    KERNEL,
    "grad_reduce",
    consts(g, NO_FLAGS),
    bind({ gamma: a.gamma, partials, dgamma: a.dgamma, dbeta: a.dbeta, gsums }),
    Math.ceil((g.c + g.n * g.groups) / 64),
  );
  prog.add(
    KERNEL,
    "grad_input",
    k,
    bind({ ...inputs, gsums, dx: a.dx, dres: a.dresidual ?? a.dx }),
    rows,
  );
}
