/**
 * Weights written by this project load in PyTorch and give the same output:
 * scripts/torch_reference.py loads our file (F32 and F16) into its own
 * ContextUNet and runs the fixture's inputs in float64. Runs where Debian's
 * python3-torch is installed.
 */

import { ok } from "node:assert/strict";
import { join } from "node:path";
import { getGpu } from "../lib/gpu/device.ts";
import { download, upload } from "../lib/gpu/tensor.ts";
import { parseSafetensors, toFloat32, toInt32 } from "../lib/io/safetensors.ts";
import { ContextUNet } from "../lib/model/unet.ts";
import {
  encodeWeights,
  parseWeights,
  storeFromWeights,
  weightsFromFile,
} from "../lib/model/weights.ts";
import { relError } from "../lib/nn/testing.ts";
import { withTempDir } from "./cli_helpers.ts";

const PYTHON = "/usr/bin/python3";
const hasTorch =
  new Deno.Command(PYTHON, { args: ["-c", "import torch"], stderr: "null" }).outputSync().success;
const FIXTURE = new URL("./fixtures/unet_tiny.safetensors", import.meta.url).pathname;
const SCRIPT = new URL("../scripts/torch_reference.py", import.meta.url).pathname;

Deno.test({
  name: "weights written here load in PyTorch and predict what our GPU model predicts (F32, F16)",
  ignore: !hasTorch,
  async fn() {
    const fixture = parseSafetensors(await Deno.readFile(FIXTURE), "fixture");
    const base = weightsFromFile(fixture, "fixture", "param.");
    // Perturbed, so PyTorch cannot simply reproduce the fixture's stored prediction.
    const flat = base.flat.map((v, i) => v + 0.02 * Math.sin(i));
    const gpu = await getGpu();
    await withTempDir("torch-interop-", async (dir) => {
      for (const dtype of ["F32", "F16"] as const) {
        const path = join(dir, `weights-${dtype}.safetensors`);
        const bytes = encodeWeights({ ...base, flat }, dtype);
        await Deno.writeFile(path, bytes);
        const predPath = join(dir, `pred-${dtype}.safetensors`);
        const run = await new Deno.Command(PYTHON, {
          args: [SCRIPT, "--load", path, "--inputs", FIXTURE, "--pred-out", predPath],
        }).output();
        ok(run.success, new TextDecoder().decode(run.stderr));
        const torchPred = toFloat32(
          parseSafetensors(await Deno.readFile(predPath), "pred").tensors.get("pred")!,
        );

        const ours = parseWeights(bytes, path); // what we wrote, as we read it back (F16 rounded)
        const store = storeFromWeights(gpu, ours);
        const model = new ContextUNet(
          gpu,
          ours.config,
          store,
          torchPred.length / (ours.config.in_ch * 256),
        );
        upload(gpu, model.x, toFloat32(fixture.tensors.get("x_t")!));
        upload(
          gpu,
          model.tfrac,
          Float32Array.from(toInt32(fixture.tensors.get("t")!), (t) => t / 1000),
        );
        upload(gpu, model.labels, Uint32Array.from(toInt32(fixture.tensors.get("labels")!)));
        model.forward.run();
        const err = relError(await download(gpu, model.eps), torchPred);
        model.destroy();
        store.destroy();
        ok(err <= 1e-4, `${dtype}: our forward differs from PyTorch's by ${err}`);
      }
    });
  },
});
