/**
 * The whole model against PyTorch: forward output, MSE loss, every parameter
 * gradient, and the parameters after one clipped AdamW step, from a fixture
 * written by scripts/torch_reference.py (float64 in PyTorch, stored as f32).
 */

import { ok, strictEqual } from "node:assert/strict";
import { getGpu } from "../lib/gpu/device.ts";
import { Program } from "../lib/gpu/program.ts";
import { createTensor, download, upload } from "../lib/gpu/tensor.ts";
import { parseSafetensors, toFloat32, toInt32 } from "../lib/io/safetensors.ts";
import { ContextUNet } from "../lib/model/unet.ts";
import { storeFromWeights, weightsFromFile } from "../lib/model/weights.ts";
import { mseForwardBackward } from "../lib/nn/loss.ts";
import { Optimizer } from "../lib/nn/optim.ts";
import { relError } from "../lib/nn/testing.ts";

const FIXTURE = new URL("./fixtures/unet_tiny.safetensors", import.meta.url);

Deno.test("ContextUNet equals PyTorch: forward, loss, gradients, AdamW step", async (t) => {
  const file = parseSafetensors(await Deno.readFile(FIXTURE), "unet_tiny.safetensors");
  const tensor = (name: string) => toFloat32(file.tensors.get(name)!);
  const weights = weightsFromFile(file, "fixture", "param.");
  const recipe = JSON.parse(file.metadata.recipe);
  const gpu = await getGpu();
  const store = storeFromWeights(gpu, weights);
  const xt = tensor("x_t");
  const batch = file.tensors.get("x_t")!.shape[0];
  const model = new ContextUNet(gpu, weights.config, store, batch);
  upload(gpu, model.x, xt);
  upload(gpu, model.tfrac, Float32Array.from(toInt32(file.tensors.get("t")!), (v) => v / recipe.T));
  upload(gpu, model.labels, Uint32Array.from(toInt32(file.tensors.get("labels")!)));
  const target = createTensor(gpu, model.eps.shape, "target");
  upload(gpu, target, tensor("eps"));
  const loss = createTensor(gpu, [1], "loss");
  const { program: backward, deps } = model.backward;
  const optimizer = new Optimizer(gpu, store, {
    beta1: recipe.betas[0],
    beta2: recipe.betas[1],
    eps: recipe.eps,
    weightDecay: recipe.weight_decay,
    maxGradNorm: recipe.max_grad_norm,
    emaDecay: 0,
  });
  const step = new Program(gpu, "fixture.step");
  step.append(model.forward);
  mseForwardBackward(step, { pred: model.eps, target, dpred: deps, loss });
  step.append(backward);
  const update = new Program(gpu, "fixture.update");
  optimizer.record(update);
  step.run();

  await t.step("forward output ≤ 1e-4 relative", async () => {
    const err = relError(await download(gpu, model.eps), tensor("pred"));
    ok(err <= 1e-4, `forward relative error ${err}`);
    const l = (await download(gpu, loss))[0];
    ok(
      Math.abs(l - tensor("loss")[0]) <= 1e-4 * tensor("loss")[0],
      `loss ${l} vs ${tensor("loss")[0]}`,
    );
  });

  await t.step(
    "a static-weights model (weights repacked once, as sampling runs) gives the same output",
    async () => {
      const frozen = new ContextUNet(gpu, weights.config, store, batch, { staticWeights: true });
      // The weight repacks moved out of the forward into `prepare`, not copied.
      ok(frozen.prepare.length > 0, "nothing to prepare");
      strictEqual(frozen.forward.length + frozen.prepare.length, model.forward.length);
      frozen.prepare.run();
      upload(gpu, frozen.x, xt);
      upload(gpu, frozen.tfrac, await download(gpu, model.tfrac));
      upload(gpu, frozen.labels, Uint32Array.from(toInt32(file.tensors.get("labels")!)));
      frozen.forward.run();
      const err = relError(await download(gpu, frozen.eps), tensor("pred"));
      frozen.destroy();
      ok(err <= 1e-4, `static-weights forward relative error ${err}`);
    },
  );

  const gradFlat = await download(gpu, store.flat("grad"));
  await t.step("every parameter gradient ≤ 1e-3 relative", () => {
    // Gradients that are exactly zero in theory (a bias before a GroupNorm of
    // one channel per group, the attention key bias) are compared against the
    // largest gradient of the model instead of their own (zero) scale.
    let globalMax = 0;
    for (const e of weights.layout.entries) {
      for (const v of tensor(`grad.${e.name}`)) globalMax = Math.max(globalMax, Math.abs(v));
    }
    const failures: string[] = [];
    let worst = 0;
    for (const e of weights.layout.entries) {
      const expected = tensor(`grad.${e.name}`);
      const actual = gradFlat.subarray(e.offset, e.offset + expected.length);
      const scale = Math.max(
        expected.reduce((a, v) => Math.max(a, Math.abs(v)), 0),
        1e-3 * globalMax,
      );
      let maxDiff = 0;
      for (let i = 0; i < expected.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
      }
      worst = Math.max(worst, maxDiff / scale);
      if (maxDiff / scale > 1e-3) failures.push(`${e.name}: ${(maxDiff / scale).toExponential(2)}`);
    }
    ok(failures.length === 0, `gradients off: ${failures.join(", ")}`);
    console.log(
      `  worst gradient relative error ${
        worst.toExponential(2)
      } over ${weights.layout.entries.length} tensors`,
    );
  });

  await t.step("one clipped AdamW step ≤ 1e-5 (from PyTorch's gradients)", async () => {
    // The optimiser gets PyTorch's own gradients: Adam's first step is about
    // lr·g/(|g| + eps), which turns the f32 noise of gradients near eps (~1e-8)
    // into visible differences, so the model's gradients are checked above and
    // the optimiser here, each against its own reference.
    const torchGrads = new Float32Array(weights.layout.size);
    for (const e of weights.layout.entries) torchGrads.set(tensor(`grad.${e.name}`), e.offset);
    upload(gpu, store.flat("grad"), torchGrads);
    optimizer.setStep(1, recipe.lr);
    update.run();
    const norm = (await download(gpu, optimizer.gradNorm))[0];
    ok(
      Math.abs(norm - recipe.grad_norm) <= 1e-5 * recipe.grad_norm,
      `grad norm ${norm} vs ${recipe.grad_norm}`,
    );
    const after = await download(gpu, store.flat("param"));
    let worst = 0;
    for (const e of weights.layout.entries) {
      const expected = tensor(`adamw.${e.name}`);
      for (let i = 0; i < expected.length; i++) {
        worst = Math.max(worst, Math.abs(after[e.offset + i] - expected[i]));
      }
    }
    ok(worst <= 1e-5, `parameters after the step differ by ${worst}`);
  });
});
