/**
 * The learning-rate schedule against values worked out by hand: linear warm-up
 * over `warmup` steps, then constant or a half cosine from lr to 0 at `totalSteps`.
 */

import { ok } from "node:assert/strict";
import { learningRate, RECIPE, type TrainHyper } from "./trainer.ts";

const hyper = (o: Partial<TrainHyper>): TrainHyper => ({
  ...RECIPE,
  seed: 0,
  totalSteps: 1100,
  ...o,
});

/** [0-based step, expected learning rate]: each checked to 1e-12 relative. */
function check(h: TrainHyper, cases: [number, number][]): void {
  for (const [step, expected] of cases) {
    const got = learningRate(h, step);
    ok(
      Math.abs(got - expected) <= 1e-12 * Math.max(expected, h.lr),
      `warmup ${h.warmup}, ${h.decay}, ${h.totalSteps} steps: step ${step} has lr ${got}, not ${expected}`,
    );
  }
}

Deno.test("learningRate: constant without warm-up or decay", () => {
  check(hyper({ lr: 2e-4 }), [[0, 2e-4], [550, 2e-4], [1099, 2e-4], [5000, 2e-4]]);
});

Deno.test("learningRate: linear warm-up reaches lr at its last step, then stays", () => {
  // Step s of the warm-up trains with lr · (s + 1) / warmup.
  check(hyper({ lr: 2e-4, warmup: 100 }), [
    [0, 2e-6],
    [49, 1e-4],
    [98, 1.98e-4],
    [99, 2e-4],
    [100, 2e-4],
    [1099, 2e-4],
  ]);
});

Deno.test("learningRate: warm-up then cosine decay to 0 at the last step", () => {
  // After 100 warm-up steps, progress p = (step − 100) / 1000 and lr · ½ (1 + cos πp):
  // p = ¼ → ½ (1 + √2/2) = 0.8535533905932737…, p = ¾ → ½ (1 − √2/2) = 0.1464466094067262….
  check(hyper({ lr: 2e-4, warmup: 100, decay: "cosine" }), [
    [0, 2e-6],
    [99, 2e-4],
    [100, 2e-4],
    [350, 2e-4 * 0.8535533905932737],
    [600, 1e-4],
    [850, 2e-4 * 0.1464466094067262],
    [1100, 0],
    [1500, 0],
  ]);
  // Without warm-up the cosine starts at step 0; over 4 steps p = step / 4.
  check(hyper({ lr: 1e-3, decay: "cosine", totalSteps: 4 }), [
    [0, 1e-3],
    [1, 1e-3 * 0.8535533905932737],
    [2, 5e-4],
    [3, 1e-3 * 0.1464466094067262],
  ]);
});
