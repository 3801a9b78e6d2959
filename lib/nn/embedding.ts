/**
 * The label embedding (nn.Embedding) fused with the add that follows it in the
 * model: emb = time_mlp(t/T) + label_emb(c).
 *
 * Labels live in a tensor of shape [N] holding u32 bits (upload a Uint32Array),
 * each below the table's row count. ∂y/∂base is the identity, so the caller
 * reuses dy as the base's gradient; {@link embedBackward} gives the table's.
 *
 * {@link embedMixForward} is the same add with each row a weighted mix of table
 * rows (class mixing while sampling; it has no backward).
 */

import { hasShape, type Tensor } from "../gpu/tensor.ts";
import code from "../../kernels/embedding.wgsl" with { type: "text" };
import type { KernelConsts, KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";

const KERNEL: KernelSource = { name: "embedding", code };

export interface EmbedAddArgs {
  /** [N, E] */
  base: Tensor;
  /** [K + 1, E] */
  table: Tensor;
  /** [N], u32 bits */
  labels: Tensor;
  /** [N, E] */
  y: Tensor;
}

export interface EmbedBackwardArgs {
  /** [N, E], the gradient of y. */
  dy: Tensor;
  /** [N], u32 bits */
  labels: Tensor;
  /** [K + 1, E], overwritten. */
  dtable: Tensor;
}

/** Checks [N, E] rows against a [ROWS, E] table and [N] labels; returns the kernel constants. */
function constsFor(rows: Tensor, table: Tensor, labels: Tensor): KernelConsts {
  const [n, e] = rows.shape;
  const count = table.shape[0];
  if (
    rows.shape.length !== 2 || !hasShape(table, [count, e]) || !hasShape(labels, [n]) ||
    e % 4 !== 0
  ) {
    throw new RangeError(
      `embedding: rows [${rows.shape}], table [${table.shape}], labels [${labels.shape}]: ` +
        "expected [N, E], [K + 1, E], [N] with E a multiple of 4",
    );
  }
  return { N: n, E: e, ROWS: count };
}

/** y[n] = base[n] + table[labels[n]]. */
export function embedAddForward(prog: Program, a: EmbedAddArgs): void {
  const c = constsFor(a.base, a.table, a.labels);
  if (!hasShape(a.y, a.base.shape)) {
    throw new RangeError(`embedding: y [${a.y.shape}] differs from base [${a.base.shape}]`);
  }
  const vec4s = a.base.shape[0] * a.base.shape[1] / 4;
  prog.add(KERNEL, "embed_add", c, [a.base, a.table, a.labels, a.y], Math.ceil(vec4s / 64));
}

export interface EmbedMixArgs {
  /** [N, E] */
  base: Tensor;
  /** [K + 1, E] */
  table: Tensor;
  /** [N, K + 1], f32: row n's weight of each table row. */
  mix: Tensor;
  /** [N, E] */
  y: Tensor;
}

/** y[n] = base[n] + Σ_k mix[n, k] · table[k]; a one-hot mix row equals {@link embedAddForward}. */
export function embedMixForward(prog: Program, a: EmbedMixArgs): void {
  const [n, e] = a.base.shape;
  const rows = a.table.shape[0];
  if (
    a.base.shape.length !== 2 || !hasShape(a.table, [rows, e]) || !hasShape(a.mix, [n, rows]) ||
    !hasShape(a.y, a.base.shape) || e % 4 !== 0
  ) {
    throw new RangeError(
      `embedding: base [${a.base.shape}], table [${a.table.shape}], mix [${a.mix.shape}], ` +
        `y [${a.y.shape}]: expected [N, E], [K + 1, E], [N, K + 1], [N, E], E a multiple of 4`,
    );
  }
  const bindings = [a.base, a.table, undefined, a.y, a.mix];
  prog.add(KERNEL, "embed_mix", { N: n, E: e, ROWS: rows }, bindings, Math.ceil(n * e / 4 / 64));
}

/** dtable[k] = Σ_{n : labels[n] = k} dy[n], overwritten; deterministic (no atomics). */
export function embedBackward(prog: Program, a: EmbedBackwardArgs): void {
  const c = constsFor(a.dy, a.dtable, a.labels);
  const vec4s = a.dtable.shape[0] * a.dtable.shape[1] / 4;
  prog.add(KERNEL, "embed_grad", c, [a.dy, a.dtable, a.labels], Math.ceil(vec4s / 64));
}
