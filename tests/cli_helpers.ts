/**
 * Helpers for the end-to-end CLI tests: spawning `main.ts` as a user runs it,
 * checking one-line errors, tiny weights and a tiny `.npy` dataset. Test-only.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { npyBytes } from "../lib/data/testing.ts";
import type { ModelConfig } from "../lib/model/config.ts";
import { paramSpecs } from "../lib/model/config.ts";
import { initParams } from "../lib/model/init.ts";
import { encodeSafetensors } from "../lib/io/safetensors.ts";
import { encodeWeights } from "../lib/model/weights.ts";
import { ParamLayout } from "../lib/nn/params.ts";

export const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Variables that change what the CLI prints: a spawned run gets only those its test sets. */
const OUTPUT_VARIABLES = ["NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "COLUMNS", "LINES"];

/**
 * The environment of a spawned CLI run (pass it with `clearEnv: true`): the caller's
 * without {@link OUTPUT_VARIABLES}, then `env`. So a test sees what it assumes whatever
 * the caller exported (NO_COLOR=1, TERM=dumb …).
 */
export function cliEnv(env: Record<string, string>): Record<string, string> {
  const inherited = Deno.env.toObject();
  for (const name of OUTPUT_VARIABLES) delete inherited[name];
  return { ...inherited, ...env };
}

/** The `deno run -A main.ts …` command, piped, without colour (as a script or CI runs it). */
export function mainCommand(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: cliEnv({ NO_COLOR: "1", ...env }),
  });
}

/** Runs `main.ts` with `args` to completion (in the folder `cwd`, by default this one). */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<RunResult> {
  const out = await mainCommand(args, env, cwd).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Exit code 0, or a failure showing what the command printed. */
export function succeeded(r: RunResult): void {
  deepStrictEqual(r.code, 0, `exit code ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

/** Exit code ≠ 0, nothing on stdout, and exactly one stderr line: `error: …` matching `pattern`. */
export function failsWith(r: RunResult, pattern: RegExp): void {
  ok(r.code !== 0, `exit code 0; stdout:\n${r.stdout}`);
  const lines = r.stderr.trimEnd().split("\n");
  deepStrictEqual(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  ok(lines[0].startsWith("error: "), lines[0]);
  ok(pattern.test(lines[0]), `'${lines[0]}' does not match ${pattern}`);
  deepStrictEqual(r.stdout, "", "stdout of a failed run");
}

/** Names in `dir` (sorted), or [] when it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** A temporary folder for one test, removed after `body` (also when it fails). */
export async function withTempDir(
  prefix: string,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** An RGBA model small enough to compile and run in seconds on the CPU fallback. */
export const TINY_CONFIG: ModelConfig = {
  in_ch: 4,
  base_ch: 8,
  channel_mults: [1, 2, 2],
  num_res_blocks: 1,
  use_attention: [false, true, true],
  num_classes: 3,
};

export const TINY_CLASSES = ["slime", "sword", "potion"];

export interface TinyWeightsOptions {
  config?: ModelConfig;
  classNames?: string[];
  /**
   * "bare F16": as PyTorch users save a half-precision state_dict, with no metadata (the
   * config comes from the tensor shapes, the classes are numbered). Default: F32, as `train`
   * writes weights.
   */
  form?: "F32" | "bare F16";
}

/**
 * Seeded untrained weights ({@link TINY_CONFIG} unless told otherwise). The values are
 * F16-exact, so both forms hold the same model.
 */
export async function writeTinyWeights(path: string, o: TinyWeightsOptions = {}): Promise<void> {
  const config = o.config ?? TINY_CONFIG;
  const layout = new ParamLayout(paramSpecs(config));
  const weights = {
    config,
    classNames: o.classNames ?? TINY_CLASSES,
    provenance: { note: "untrained test weights" },
    layout,
    // Rounded by the runtime, not by the F16 code the bare form tests.
    flat: initParams(layout, 1).map(Math.f16round),
  };
  if (o.form !== "bare F16") return await Deno.writeFile(path, encodeWeights(weights));
  const tensors = layout.entries.map((e) => ({
    name: e.name,
    dtype: "F16" as const,
    shape: [...e.shape],
    data: weights.flat.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1)),
  }));
  await Deno.writeFile(path, encodeSafetensors(tensors, {}));
}

/**
 * `count` RGBA sprites of two classes with fixed shapes, as `sprites.npy` and
 * `sprites_labels.npy` in `dir` (the original's layout; returns the images'
 * path): class 0 a red square on transparency, class 1 an opaque blue/white
 * striped tile. A diffusion model learns such sets quickly, so the loss falls.
 */
export async function writeTinyDataset(dir: string, count = 64): Promise<string> {
  const pixels = new Uint8Array(count * 16 * 16 * 4);
  const labels = new BigInt64Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels[n] = BigInt(label);
    const shift = n % 4; // a little variety inside each class
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 16; x++) {
        const at = ((n * 16 + y) * 16 + x) * 4;
        if (label === 0) {
          const inside = x >= 3 + shift && x < 11 + shift && y >= 4 && y < 12;
          pixels.set(inside ? [220, 40, 40, 255] : [0, 0, 0, 0], at);
        } else {
          pixels.set((y + shift) % 4 < 2 ? [30, 60, 200, 255] : [240, 240, 240, 255], at);
        }
      }
    }
  }
  const path = `${dir}/sprites.npy`;
  await Deno.writeFile(path, npyBytes("|u1", [count, 16, 16, 4], pixels));
  await Deno.writeFile(`${dir}/sprites_labels.npy`, npyBytes("<i8", [count], labels));
  return path;
}
