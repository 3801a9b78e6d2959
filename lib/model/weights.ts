/**
 * Model weights as safetensors with the reference tensor names.
 *
 * `__metadata__` carries `config` (the ModelConfig JSON), `class_names` (a JSON
 * array), `provenance` (JSON: dataset, steps, wall time, adapter …) and, when the
 * training data has at most 256 colours, `palette` (a JSON array of `rrggbb`
 * strings: the data's distinct opaque colours, for `--palette dataset`). A file
 * without a config — a PyTorch state_dict saved with safetensors — still loads:
 * the config is inferred from the tensor shapes.
 */

import type { Gpu } from "../gpu/gpu.ts";
import { InputError } from "../util/errors.ts";
import { upload } from "../gpu/tensor.ts";
import {
  encodeSafetensors,
  parseSafetensors,
  type SafetensorsFile,
  toFloat32,
} from "../io/safetensors.ts";
import { ParamLayout, type ParamRole, ParamStore } from "../nn/params.ts";
import { hexOf, makePalette, MAX_COLORS, type Palette, parseHex } from "../palette/palette.ts";
import { type ModelConfig, paramSpecs, validateConfig } from "./config.ts";

export interface Weights {
  config: ModelConfig;
  classNames: string[];
  provenance: Record<string, unknown>;
  /** The training data's colours (`--palette dataset`), when it had at most 256. */
  palette?: Palette;
  /** One flat f32 array in {@link ParamLayout} order (padding zero). */
  flat: Float32Array;
  layout: ParamLayout;
}

/** A loaded weights file, or the reason it cannot be used. */
export class WeightsError extends InputError {}

const defaultClassNames = (k: number) => Array.from({ length: k }, (_, i) => `class ${i}`);

/** Reads the config a state_dict implies (for files written without metadata). */
export function inferConfig(file: SafetensorsFile, source: string, prefix = ""): ModelConfig {
  const shape = (name: string) => file.tensors.get(prefix + name)?.shape;
  const init = shape("init_conv.weight");
  const table = shape("label_emb.weight");
  if (!init || !table) {
    throw new WeightsError(
      `${source}: not ContextUNet weights: init_conv.weight or label_emb.weight missing`,
    );
  }
  const base = init[0];
  const mults: number[] = [];
  const attention: boolean[] = [];
  for (let i = 0; shape(`downs.${i}.blocks.0.conv1.weight`); i++) {
    mults.push(shape(`downs.${i}.blocks.0.conv1.weight`)![0] / base);
    attention.push(shape(`downs.${i}.attn.norm.weight`) !== undefined);
  }
  let blocks = 0;
  while (shape(`downs.0.blocks.${blocks}.conv1.weight`)) blocks++;
  return {
    in_ch: init[1],
    base_ch: base,
    channel_mults: mults,
    num_res_blocks: blocks,
    use_attention: attention,
    num_classes: table[0] - 1,
  };
}

/** A JSON metadata entry, undefined when absent; invalid JSON is a {@link WeightsError}. */
export function parseJson<T>(
  text: string | undefined,
  what: string,
  source: string,
): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new WeightsError(`${source}: metadata ${what} is not valid JSON`);
  }
}

/**
 * The tensors `layout` names (under `prefix`), checked for presence, shape and a float dtype,
 * as one flat f32 array in layout order. `config` only makes a missing-tensor error clearer.
 */
export function flattenTensors(
  file: SafetensorsFile,
  layout: ParamLayout,
  source: string,
  config: unknown,
  prefix = "",
): Float32Array {
  const flat = new Float32Array(layout.size);
  for (const e of layout.entries) {
    const t = file.tensors.get(prefix + e.name);
    if (!t) {
      throw new WeightsError(
        `${source}: tensor ${prefix + e.name} is missing (config ${JSON.stringify(config)})`,
      );
    }
    if (t.shape.join("x") !== e.shape.join("x")) {
      throw new WeightsError(
        `${source}: ${e.name} has shape [${t.shape}], the config needs [${e.shape}]`,
      );
    }
    if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16") {
      throw new WeightsError(
        `${source}: ${e.name} has dtype ${t.dtype}; weights must be F32, F16 or BF16`,
      );
    }
    flat.set(toFloat32(t), e.offset);
  }
  return flat;
}

/**
 * Checks and flattens the tensors of a parsed file. `prefix` selects names
 * like `param.…` in test fixtures that hold several sets.
 */
export function weightsFromFile(file: SafetensorsFile, source: string, prefix = ""): Weights {
  const config = parseJson<ModelConfig>(file.metadata.config, "config", source) ??
    inferConfig(file, source, prefix);
  try {
    validateConfig(config);
  } catch (err) {
    throw new WeightsError(`${source}: ${(err as Error).message}`);
  }
  const layout = new ParamLayout(paramSpecs(config));
  const flat = flattenTensors(file, layout, source, config, prefix);
  if (!prefix) {
    const extra = [...file.tensors.keys()].filter((k) => !layout.has(k));
    if (extra.length) {
      throw new WeightsError(`${source}: unexpected tensors ${extra.slice(0, 3).join(", ")}…`);
    }
  }
  const classNames = parseJson<string[]>(file.metadata.class_names, "class_names", source) ??
    defaultClassNames(config.num_classes);
  if (classNames.length !== config.num_classes) {
    throw new WeightsError(
      `${source}: ${classNames.length} class names for ${config.num_classes} classes`,
    );
  }
  const provenance =
    parseJson<Record<string, unknown>>(file.metadata.provenance, "provenance", source) ?? {};
  const palette = parsePalette(file.metadata.palette, source);
  return { config, classNames, provenance, ...(palette && { palette }), flat, layout };
}

/** The `palette` metadata entry: a JSON array of 1–256 distinct `rrggbb` strings. */
function parsePalette(text: string | undefined, source: string): Palette | undefined {
  const list = parseJson<unknown>(text, "palette", source);
  if (list === undefined) return undefined;
  const colors = Array.isArray(list) && list.length >= 1 && list.length <= MAX_COLORS
    ? list.map((h) => (typeof h === "string" && /^[0-9a-f]{6}$/i.test(h) ? parseHex(h) : undefined))
    : [undefined];
  if (colors.some((c) => c === undefined)) {
    throw new WeightsError(
      `${source}: metadata palette must be a JSON array of 1–${MAX_COLORS} "rrggbb" colours`,
    );
  }
  return makePalette("dataset", colors.map((c) => c!));
}

/** The metadata entry for a palette (see {@link parsePalette}). */
export const paletteMetadata = (p: Palette): string => JSON.stringify(p.colors.map(hexOf));

export function parseWeights(bytes: Uint8Array, source: string, prefix = ""): Weights {
  let file: SafetensorsFile;
  try {
    file = parseSafetensors(bytes, source);
  } catch (err) {
    throw new WeightsError((err as Error).message);
  }
  return weightsFromFile(file, source, prefix);
}

/**
 * Weights a user chose (a file given on the command line, a file dropped on the page):
 * `read` fetches the bytes, each host its own way. Every problem is a WeightsError
 * saying what is wrong and what to pass instead, the same text in every front end.
 */
export async function openUserWeights(
  name: string,
  read: () => Promise<Uint8Array>,
): Promise<Weights> {
  const hint = "pass a weights file written by 'train'";
  let bytes: Uint8Array;
  try {
    bytes = await read();
  } catch (err) {
    throw new WeightsError(`${name}: cannot read weights (${(err as Error).message}); ${hint}`);
  }
  try {
    return parseWeights(bytes, name);
  } catch (err) {
    if (err instanceof WeightsError) throw new WeightsError(`${err.message}; ${hint}`);
    throw err;
  }
}

/** Encodes flat parameters as safetensors (F32, or F16 to halve the size). */
export function encodeWeights(
  w: Omit<Weights, "layout"> & { layout: ParamLayout },
  dtype: "F32" | "F16" = "F32",
): Uint8Array {
  const tensors = w.layout.entries.map((e) => ({
    name: e.name,
    dtype,
    shape: [...e.shape],
    data: w.flat.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1)),
  }));
  return encodeSafetensors(tensors, {
    format: "pt",
    config: JSON.stringify(w.config),
    class_names: JSON.stringify(w.classNames),
    provenance: JSON.stringify(w.provenance),
    ...(w.palette && { palette: paletteMetadata(w.palette) }),
  });
}

/** A store holding `w` in `role` (the parameter buffer unless told otherwise). */
export function storeFromWeights(gpu: Gpu, w: Weights, role: ParamRole = "param"): ParamStore {
  const store = new ParamStore(gpu, w.layout);
  upload(gpu, store.flat(role), w.flat);
  return store;
}
