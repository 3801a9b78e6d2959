/**
 * The training loss: mean squared error between the predicted and the true noise,
 * with its gradient, in one read of both tensors (kernels/loss.wgsl).
 *
 * The sum is deterministic: fixed-size chunks are summed per invocation, then one
 * invocation adds the chunk sums in order; no atomics, so every replay gives the
 * same bits. The loss stays on the GPU (read it back only at logging intervals).
 */

import code from "../../kernels/loss.wgsl" with { type: "text" };
import type { KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";
import { sizeOf, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "loss", code };

/** Vec4s summed by one invocation of the first pass: 1,024 floats, 96 partial sums at batch 128. */
const CHUNK = 256;

/**
 * Records loss[0] = mean((pred − target)²) over all elements and
 * dpred = 2 (pred − target) / numel (overwritten). 2 dispatches.
 */
export function mseForwardBackward(
  prog: Program,
  a: { pred: Tensor; target: Tensor; dpred: Tensor; loss: Tensor },
): void {
  const n = sizeOf(a.pred);
  if (sizeOf(a.target) !== n || sizeOf(a.dpred) !== n || n % 4 !== 0 || sizeOf(a.loss) < 1) {
    throw new RangeError(
      `mse: pred [${a.pred.shape}], target [${a.target.shape}] and dpred [${a.dpred.shape}] must ` +
        `have one size, a multiple of 4, and loss [${a.loss.shape}] at least one element`,
    );
  }
  const nv = n / 4;
  const partialCount = Math.ceil(nv / CHUNK);
  const partials = prog.scratch([partialCount, 4], "mse.partials");
  const consts = { NV: nv, CHUNK, PARTIALS: partialCount };
  const resources = [a.pred, a.target, a.dpred, partials, a.loss];
  prog.add(KERNEL, "partial_sums", consts, resources.slice(0, 4), Math.ceil(partialCount / 64));
  prog.add(KERNEL, "final_sum", consts, [undefined, undefined, undefined, partials, a.loss], 1);
}
