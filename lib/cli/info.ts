/** `info`: the WebGPU adapter, its limits, and the default model. */

import { getGpu } from "../gpu/device.ts";
import { embedWidth } from "../model/config.ts";
import { maxSampleRows } from "../model/memory.ts";
import type { Command } from "./commands.ts";
import { helpText, parseOptions } from "./options.ts";

const OPTIONS = {
  weights: { value: "FILE", help: "weights to describe (default: the shipped weights)" },
  json: { help: "print the report as JSON" },
} as const;

const HELP = helpText(
  "deno run -A main.ts info [options]",
  "Shows the WebGPU adapter (whether it is a CPU fallback, its limits) and the model.",
  OPTIONS,
);
import { openWeights } from "./weights.ts";

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

export const infoCommand: Command = {
  async run(args) {
    const { values } = parseOptions("info", args, OPTIONS);
    if (values.help) return void console.log(HELP);
    const gpu = await getGpu();
    const { weights, name } = await openWeights(values.weights);
    const a = gpu.adapter;
    const report = {
      adapter: {
        description: a.description,
        vendor: a.vendor,
        architecture: a.architecture,
        fallback: a.isFallbackAdapter,
        shader_f16: a.features.includes("shader-f16"),
        max_storage_binding: a.maxStorageBufferBindingSize,
        max_buffer: a.maxBufferSize,
        storage_buffers_per_stage: a.maxStorageBuffersPerShaderStage,
        max_workgroups_per_dim: a.maxComputeWorkgroupsPerDimension,
      },
      weights: {
        file: name,
        config: weights.config,
        embed_width: embedWidth(weights.config),
        parameters: weights.layout.count,
        classes: weights.classNames,
        max_sprites_per_step_with_guidance: Math.floor(
          maxSampleRows(weights.config, gpu.maxBinding) / 2,
        ),
        provenance: weights.provenance,
        dataset_palette_colors: weights.palette?.colors.length ?? null,
      },
    };
    if (values.json) return void console.log(JSON.stringify(report, null, 2));
    const c = weights.config;
    console.log(
      [
        `adapter     ${a.description}${a.vendor ? ` (vendor ${a.vendor})` : ""}`,
        `            ${
          a.isFallbackAdapter ? "CPU fallback adapter" : "hardware adapter"
        }, shader-f16 ${report.adapter.shader_f16 ? "yes" : "no"}`,
        `limits      storage binding ${mib(a.maxStorageBufferBindingSize)}, buffer ${
          mib(a.maxBufferSize)
        }, ` +
        `${a.maxStorageBuffersPerShaderStage} storage buffers/stage, ${a.maxComputeWorkgroupsPerDimension} workgroups/dim`,
        `weights     ${name}`,
        `model       ContextUNet in_ch ${c.in_ch}, base_ch ${c.base_ch}, mults [${c.channel_mults}], ` +
        `${c.num_res_blocks} res blocks/level, attention [${c.use_attention}]`,
        `parameters  ${weights.layout.count.toLocaleString("en-US")}`,
        `classes     ${weights.classNames.map((n, i) => `${i} ${n}`).join(", ")}`,
        `palette     ${
          weights.palette
            ? `${weights.palette.colors.length} colours of the training data (--palette dataset)`
            : "none stored (--palette dataset unavailable)"
        }`,
        `batch limit ${report.weights.max_sprites_per_step_with_guidance} sprites per guided sampling step`,
      ].join("\n"),
    );
  },
};
