/**
 * Weights written by this project load in PyTorch and give the same output:
 * scripts/torch_reference.py loads our file (F32 and F16) into its own
 * ContextUNet and runs the fixture's inputs in float64. And a bare state_dict
 * PyTorch saves (no metadata) loads in `info` and `sample`. Runs where Debian's
 * python3-torch is installed (.ci/run installs it).
 */

import { deepStrictEqual, ok } from "node:assert/strict";
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
import { decodePng } from "../lib/io/png.ts";
import type { ModelConfig } from "../lib/model/config.ts";
import { relError } from "../lib/nn/testing.ts";
import { listDir, runMain, succeeded, withTempDir } from "./cli_helpers.ts";

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

Deno.test({
  name: "a bare PyTorch state_dict (no metadata) samples, its config inferred from the shapes",
  ignore: !hasTorch,
  async fn() {
    // Not the tiny preset: RGB, two levels, one block per level, four classes.
    const config: ModelConfig = {
      in_ch: 3,
      base_ch: 8,
      channel_mults: [1, 2],
      num_res_blocks: 1,
      use_attention: [false, true],
      num_classes: 4,
    };
    await withTempDir("torch-interop-", async (dir) => {
      const weights = join(dir, "state_dict.safetensors");
      const written = await new Deno.Command(PYTHON, {
        args: [SCRIPT, "--weights-out", weights, "--bare", "--config", JSON.stringify(config)],
      }).output();
      ok(written.success, new TextDecoder().decode(written.stderr));
      const classes = ["class 0", "class 1", "class 2", "class 3"];

      const info = await runMain(["info", "--weights", weights, "--json"]);
      succeeded(info);
      const report = JSON.parse(info.stdout).weights;
      deepStrictEqual([report.config, report.classes], [config, classes]);

      const out = join(dir, "out");
      const r = await runMain([
        "sample",
        "--weights",
        weights,
        ..."--steps 2 --json --out".split(" "),
        out,
      ]);
      succeeded(r);
      deepStrictEqual(JSON.parse(r.stdout).classes, classes);
      deepStrictEqual(listDir(out).length, 2 * classes.length + 2); // and the sheet and its JSON
      // RGB weights give opaque sprites.
      const sprite = await decodePng(await Deno.readFile(join(out, "class-3-s0-3.png")), "sprite");
      deepStrictEqual([sprite.width, sprite.height], [16, 16]);
      ok(sprite.data.every((v, i) => i % 4 !== 3 || v === 255), "an RGB model drew transparency");
    });
  },
});
