/**
 * The core of the reference AttentionBlock: single-head scaled dot-product
 * attention over the H·W positions of each sample, on q, k, v of shape [N, C, L].
 *
 *   s[n,i,j] = Σ_c q[n,c,i] k[n,c,j] · C^-0.5,  p = softmax over j,  o[n,c,i] = Σ_j p[n,i,j] v[n,c,j]
 *
 * The GroupNorm and the q/k/v/proj 1×1 convolutions around it are other layers.
 * Forward is two dispatches (scores fused with the softmax, then p·v) and keeps
 * p [N, L, L] for backward; backward is four. Both need [N, L, L] scratch
 * tensors (the transposes of p and of the score gradient), made at record time.
 * C and L must be multiples of 8 (GroupNorm(8, C) makes C one; L = H·W is 16,
 * 64 or 256 for 16×16 sprites).
 */

import code from "../../kernels/attention.wgsl" with { type: "text" };
import type { KernelConsts, KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";
import { hasShape, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "attention", code };

export interface AttentionForwardArgs {
  /** [N, C, L] each. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** [N, C, L], written. */
  o: Tensor;
  /** [N, L, L], written: the attention weights, kept for backward. */
  p: Tensor;
}

export interface AttentionBackwardArgs {
  /** [N, C, L] each: the forward inputs. */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** [N, L, L]: the forward's attention weights. */
  p: Tensor;
  /** [N, C, L]: the gradient of o. */
  dout: Tensor;
  /** [N, C, L] each, overwritten. */
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
}

interface Dims {
  n: number;
  c: number;
  l: number;
}

/** Reads N, C, L from q and checks every [N, C, L] and [N, L, L] tensor given. */
function dims(q: Tensor, seqs: readonly Tensor[], p: Tensor): Dims {
  const [n, c, l] = q.shape;
  const bad = q.shape.length !== 3 || c % 8 !== 0 || l % 8 !== 0 ||
    seqs.some((t) => !hasShape(t, q.shape)) || !hasShape(p, [n, l, l]);
  if (bad) {
    const shapes = [q, ...seqs, p].map((t) => `${t.label} [${t.shape}]`).join(", ");
    throw new RangeError(
      `attention: ${shapes}: expected [N, C, L] and p [N, L, L] with C and L multiples of 8`,
    );
  }
  return { n, c, l };
}

const consts = ({ n, c, l }: Dims): KernelConsts => ({ N: n, C: c, L: l, SCALE: 1 / Math.sqrt(c) });

/** Workgroups (of 64) for the row kernels (8 queries each) and matmul (8 × 8 tiles). */
const rowGroups = ({ n, l }: Dims) => Math.ceil((n * l) / 8 / 64);
const matmulGroups = ({ n, c, l }: Dims) => Math.ceil((n * (c / 8) * (l / 8)) / 64);

export function attentionForward(prog: Program, a: AttentionForwardArgs): void {
  const d = dims(a.q, [a.k, a.v, a.o], a.p);
  const c = consts(d);
  const pt = prog.scratch(a.p.shape, `${a.p.label}.T`);
  prog.add(KERNEL, "scores_softmax", c, [a.q, a.k, a.p, pt], rowGroups(d));
  prog.add(KERNEL, "matmul", c, [a.v, pt, a.o], matmulGroups(d));
}

export function attentionBackward(prog: Program, a: AttentionBackwardArgs): void {
  const d = dims(a.q, [a.k, a.v, a.dout, a.dq, a.dk, a.dv], a.p);
  const c = consts(d);
  const ds = prog.scratch(a.p.shape, `${a.p.label}.ds`);
  const dst = prog.scratch(a.p.shape, `${a.p.label}.dsT`);
  prog.add(KERNEL, "matmul", c, [a.dout, a.p, a.dv], matmulGroups(d));
  prog.add(KERNEL, "grad_scores", c, [a.dout, a.v, a.p, ds, dst], rowGroups(d));
  prog.add(KERNEL, "matmul", c, [a.k, dst, a.dq], matmulGroups(d));
  prog.add(KERNEL, "matmul", c, [a.q, ds, a.dk], matmulGroups(d));
}
