/**
 * Training checkpoints: everything a run needs to continue exactly — the
 * parameters, EMA, AdamW moments (flat, in the store's layout), the step, the
 * seed (the RNG state: batches are pure functions of seed and step), the config,
 * the options and the dataset's hash. One safetensors file, written atomically.
 */

import { writeFileAtomic } from "../io/atomic.ts";
import { encodeSafetensors, parseSafetensors, toFloat32 } from "../io/safetensors.ts";
import { type ModelConfig, paramSpecs } from "../model/config.ts";
import { ParamLayout } from "../nn/params.ts";

export const CHECKPOINT_FORMAT = "pixel-diffusion-checkpoint/1";

export interface CheckpointState {
  config: ModelConfig;
  classNames: string[];
  /** Steps completed. */
  step: number;
  seed: number;
  datasetHash: string;
  datasetSource: string;
  /** The training options, stored so a resume can reuse and compare them. */
  options: Record<string, unknown>;
  /** Seconds of training so far (all sessions). */
  elapsed: number;
  param: Float32Array;
  ema: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

const ARRAYS = ["param", "ema", "m", "v"] as const;

export async function writeCheckpoint(path: string, s: CheckpointState): Promise<void> {
  const bytes = encodeSafetensors(
    ARRAYS.map((name) => ({ name, dtype: "F32" as const, shape: [s[name].length], data: s[name] })),
    {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(s.config),
      class_names: JSON.stringify(s.classNames),
      step: String(s.step),
      seed: String(s.seed),
      dataset_hash: s.datasetHash,
      dataset_source: s.datasetSource,
      options: JSON.stringify(s.options),
      elapsed: String(s.elapsed),
    },
  );
  await writeFileAtomic(path, bytes);
}

export async function readCheckpoint(path: string): Promise<CheckpointState> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new Error(`${path}: cannot read checkpoint (${(err as Error).message})`);
  }
  const file = parseSafetensors(bytes, path);
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT) {
    throw new Error(
      `${path}: not a training checkpoint (format ${
        meta.format ?? "missing"
      }); pass a ckpt-*.safetensors file`,
    );
  }
  const arrays = Object.fromEntries(ARRAYS.map((name) => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`${path}: checkpoint lacks the ${name} array`);
    return [name, toFloat32(t)];
  })) as Record<(typeof ARRAYS)[number], Float32Array>;
  let state: CheckpointState;
  try {
    state = {
      config: JSON.parse(meta.config),
      classNames: JSON.parse(meta.class_names),
      step: Number(meta.step),
      seed: Number(meta.seed),
      datasetHash: meta.dataset_hash,
      datasetSource: meta.dataset_source,
      options: JSON.parse(meta.options),
      elapsed: Number(meta.elapsed),
      ...arrays,
    };
  } catch {
    throw new Error(`${path}: checkpoint metadata is corrupt`);
  }
  if (![state.step, state.seed].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new Error(
      `${path}: checkpoint metadata is corrupt (step ${meta.step}, seed ${meta.seed})`,
    );
  }
  // Refuse here, before any work, a config the model cannot be built from or arrays that do not fit it.
  let size: number;
  try {
    size = new ParamLayout(paramSpecs(state.config)).size;
  } catch (err) {
    throw new Error(`${path}: checkpoint config is unusable (${(err as Error).message})`);
  }
  for (const name of ARRAYS) {
    if (state[name].length !== size) {
      throw new Error(
        `${path}: checkpoint array ${name} has ${
          state[name].length
        } values, its config needs ${size}`,
      );
    }
  }
  return state;
}
