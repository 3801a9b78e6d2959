/**
 * Writes the EMA (or raw) parameters of a training checkpoint as a weights
 * file, e.g. to ship or evaluate a model while its run goes on.
 *
 *   deno run -A scripts/export_weights.ts CKPT OUT.safetensors [--role ema|param] [--dtype F32|F16]
 */

import { parseArgs } from "node:util";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { paramSpecs } from "../lib/model/config.ts";
import { encodeWeights } from "../lib/model/weights.ts";
import { ParamLayout } from "../lib/nn/params.ts";
import { readCheckpoint } from "../lib/train/checkpoint.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { role: { type: "string", default: "ema" }, dtype: { type: "string", default: "F16" } },
});
const [ckptPath, outPath] = positionals;
if (
  !ckptPath || !outPath || !["ema", "param"].includes(values.role) ||
  !["F32", "F16"].includes(values.dtype)
) {
  console.error(
    "usage: export_weights.ts CKPT OUT.safetensors [--role ema|param] [--dtype F32|F16]",
  );
  Deno.exit(2);
}
const ckpt = await readCheckpoint(ckptPath);
const layout = new ParamLayout(paramSpecs(ckpt.config));
const options = ckpt.options as { batch?: number };
await writeFileAtomic(
  outPath,
  encodeWeights({
    config: ckpt.config,
    classNames: ckpt.classNames,
    layout,
    flat: values.role === "ema" ? ckpt.ema : ckpt.param,
    provenance: {
      dataset: ckpt.datasetSource.split("/").slice(-2).join("/"),
      dataset_hash: ckpt.datasetHash,
      steps: ckpt.step,
      batch: options.batch,
      wall_time_s: Math.round(ckpt.elapsed),
      weights: values.role,
      recipe: ckpt.options,
    },
  }, values.dtype as "F32" | "F16"),
);
console.log(`wrote ${outPath}: ${values.role} weights of step ${ckpt.step} (${values.dtype})`);
