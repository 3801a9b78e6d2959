/**
 * Softmax cross-entropy against target distributions (one-hot, smoothed or mixed labels), the
 * sprite classifier's training loss: per-row losses and the gradient of their mean in one
 * dispatch (kernels/classifier.wgsl). Rows may be wider than the class count (the head pads
 * its outputs to a multiple of 4); padding columns are ignored and get a zero gradient.
 */

import code from "../../kernels/classifier.wgsl" with { type: "text" };
import type { KernelSource } from "../gpu/kernel.ts";
import type { Program } from "../gpu/program.ts";
import { expectShape, type Tensor } from "../gpu/tensor.ts";

const KERNEL: KernelSource = { name: "classifier", code };

export interface SoftmaxXentArgs {
  /** [N, KP], class scores in the first `classes` columns. */
  logits: Tensor;
  /** [N, KP] class probabilities in the first `classes` columns, each row summing to 1. */
  targets: Tensor;
  /** [N, KP], overwritten with ∂(mean loss)/∂logits. */
  dlogits: Tensor;
  /** [N], overwritten with each row's loss. */
  losses: Tensor;
  classes: number;
}

/** Records the loss and its gradient (1 dispatch, one invocation per row). */
export function softmaxXent(prog: Program, a: SoftmaxXentArgs): void {
  const [n, kp] = a.logits.shape;
  if (
    a.logits.shape.length !== 2 || !Number.isInteger(a.classes) || a.classes < 1 || a.classes > kp
  ) {
    throw new RangeError(`softmaxXent: logits [${a.logits.shape}] do not fit ${a.classes} classes`);
  }
  expectShape(a.dlogits, [n, kp], "softmaxXent dlogits");
  expectShape(a.targets, [n, kp], "softmaxXent targets");
  expectShape(a.losses, [n], "softmaxXent losses");
  prog.add(
    KERNEL,
    "softmax_xent",
    { N: n, K: a.classes, KP: kp },
    [a.logits, a.targets, a.dlogits, a.losses],
    Math.ceil(n / 64),
  );
}
