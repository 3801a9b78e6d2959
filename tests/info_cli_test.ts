/**
 * End to end: `main.ts info` reports the adapter this test process sees and what the weights
 * file holds (config, classes, parameter count from the file's own tensors).
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { getGpu } from "../lib/gpu/device.ts";
import { parseSafetensors } from "../lib/io/safetensors.ts";
import { DEFAULT_WEIGHTS_NAME, loadDefaultWeights } from "../lib/model/default_weights.ts";
import {
  runMain,
  succeeded,
  TINY_CLASSES,
  TINY_CONFIG,
  withTempDir,
  writeTinyWeights,
} from "./cli_helpers.ts";

/** Parameters a safetensors file holds: the sum of its tensors' sizes. */
async function parametersIn(path: string): Promise<number> {
  const file = parseSafetensors(await Deno.readFile(path), path);
  return [...file.tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0);
}

Deno.test("info: the adapter, and the default weights' model, size and classes", async () => {
  const gpu = await getGpu();
  const r = await runMain(["info"]);
  succeeded(r);
  const lines = r.stdout.trimEnd().split("\n");
  const field = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.slice(12);
  ok(field("adapter")?.startsWith(gpu.adapter.description), r.stdout);
  deepStrictEqual(field("weights"), DEFAULT_WEIGHTS_NAME);
  const root = new URL("..", import.meta.url).pathname;
  const count = await parametersIn(join(root, DEFAULT_WEIGHTS_NAME));
  deepStrictEqual(field("parameters"), count.toLocaleString("en-US"));
  const { classNames, config } = loadDefaultWeights();
  deepStrictEqual(field("classes"), classNames.map((n, i) => `${i} ${n}`).join(", "));
  ok(field("model")?.includes(`base_ch ${config.base_ch}`), r.stdout);
  ok(/^\d+ sprites per guided sampling step$/.test(field("batch limit") ?? ""), r.stdout);
  deepStrictEqual(r.stderr, "");
});

Deno.test("info --json: the adapter's limits and the given weights", async () => {
  const gpu = await getGpu();
  await withTempDir("info-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const r = await runMain(["info", "--weights", weights, "--json"]);
    succeeded(r);
    const report = JSON.parse(r.stdout);
    const a = gpu.adapter;
    deepStrictEqual(report.adapter, {
      description: a.description,
      vendor: a.vendor,
      architecture: a.architecture,
      fallback: a.isFallbackAdapter,
      shader_f16: a.features.includes("shader-f16"),
      max_storage_binding: a.maxStorageBufferBindingSize,
      max_buffer: a.maxBufferSize,
      storage_buffers_per_stage: a.maxStorageBuffersPerShaderStage,
      max_workgroups_per_dim: a.maxComputeWorkgroupsPerDimension,
    });
    const w = report.weights;
    deepStrictEqual(w.file, weights);
    deepStrictEqual(w.config, TINY_CONFIG);
    deepStrictEqual(w.embed_width, 4 * TINY_CONFIG.base_ch);
    deepStrictEqual(w.parameters, await parametersIn(weights));
    deepStrictEqual(w.classes, TINY_CLASSES);
    deepStrictEqual(w.provenance, { note: "untrained test weights" });
    ok(Number.isInteger(w.max_sprites_per_step_with_guidance), r.stdout);
    ok(w.max_sprites_per_step_with_guidance > 0, r.stdout);
  });
});
