/**
 * End to end: `main.ts train` on a 64-sprite, two-class `.npy` dataset built
 * here, with the tiny preset and batch 8. One uninterrupted 40-step run is the
 * reference for the loss, the output weights, and exact resume: from its
 * step-20 checkpoint to a SIGTERM, then from the checkpoint SIGTERM wrote.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { datasetHash, loadDataset } from "../lib/data/dataset.ts";
import { encodeSafetensors } from "../lib/io/safetensors.ts";
import { type ModelConfig, paramSpecs, PRESETS } from "../lib/model/config.ts";
import { readWeights } from "../lib/cli/weights.ts";
import { hexOf } from "../lib/palette/palette.ts";
import { ParamLayout } from "../lib/nn/params.ts";
import {
  CHECKPOINT_FORMAT,
  type CheckpointState,
  readCheckpoint,
  writeCheckpoint,
} from "../lib/train/checkpoint.ts";
import {
  failsWith,
  listDir,
  mainCommand,
  runMain,
  succeeded,
  withTempDir,
  writeTinyDataset,
  writeTinyWeights,
} from "./cli_helpers.ts";

const STEPS = 40;
/** The tiny preset, batch 8, and a higher learning rate than the recipe's so 40 steps show learning. */
const RUN_OPTIONS = [
  ...`--config tiny --batch 8 --lr 1e-3 --steps ${STEPS}`.split(" "),
  ...`--log-every 1 --checkpoint-every 20 --sample-every 0`.split(" "),
];
const recipe = (data: string) => ["train", "--data", data, ...RUN_OPTIONS];

/** The model the recipe builds for the test dataset: RGBA, two classes. */
const CONFIG: ModelConfig = { ...PRESETS.tiny, in_ch: 4, num_classes: 2 };

interface LogLine {
  step: number;
  loss: number;
  grad_norm: number;
}

async function readLog(dir: string): Promise<LogLine[]> {
  const text = await Deno.readTextFile(join(dir, "train.jsonl"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

/** What a resumed run must repeat exactly: step, loss and gradient norm (not the timings). */
const trace = (lines: LogLine[]) =>
  lines.map(({ step, loss, grad_norm }) => [step, loss, grad_norm]);

const ckpt = (dir: string, step: number) =>
  join(dir, `ckpt-${String(step).padStart(7, "0")}.safetensors`);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Bit-for-bit equality of the arrays and the run state of two checkpoints. */
async function sameCheckpoint(path: string, reference: string): Promise<void> {
  const [a, b] = await Promise.all([readCheckpoint(path), readCheckpoint(reference)]);
  deepStrictEqual([a.step, a.seed, a.config, a.datasetHash], [
    b.step,
    b.seed,
    b.config,
    b.datasetHash,
  ]);
  deepStrictEqual(a.options, b.options);
  for (const name of ["param", "ema", "m", "v"] as const) {
    const x = new Uint32Array(a[name].buffer, a[name].byteOffset, a[name].length);
    const y = new Uint32Array(b[name].buffer, b[name].byteOffset, b[name].length);
    deepStrictEqual(x.length, y.length, name);
    let differing = 0;
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      if (x[i] !== y[i]) {
        differing++;
        worst = Math.max(worst, Math.abs(a[name][i] - b[name][i]));
      }
    }
    deepStrictEqual(
      differing,
      0,
      `${name}: ${differing} of ${x.length} values differ (max ${worst})`,
    );
  }
}

/** The last words of a run stopped by a signal: the step and the checkpoint to resume from. */
const STOPPED = /^error: stopped by SIGTERM at step (\d+); resume with --resume (\S+)\n$/;

/** Starts the recipe, sends SIGTERM once step `at` is logged, and returns what the run printed. */
async function trainUntilSigterm(args: string[], at: number) {
  const child = mainCommand(args).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  let signalled = false;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    stdout += chunk.value;
    if (!signalled && stdout.includes(`step ${at}/`)) {
      child.kill("SIGTERM");
      signalled = true;
    }
  }
  return { status: await child.status, stdout, stderr: await stderr };
}

Deno.test("train: the loss falls, the weights sample, and resume equals an uninterrupted run", async (t) => {
  await withTempDir("train-cli-", async (dir) => {
    const data = await writeTinyDataset(dir);
    // The folder holds an earlier run, which --force replaces.
    const full = join(dir, "full");
    await Deno.mkdir(full);
    await Deno.writeTextFile(join(full, "train.jsonl"), '{"step":1,"loss":9}\n');
    await Deno.writeFile(ckpt(full, 99), new Uint8Array(8));
    const run = await runMain([...recipe(data), "--force", "--out", full]);
    succeeded(run);
    const log = await readLog(full);

    await t.step("the loss falls and the EMA weights load back", async () => {
      deepStrictEqual(log.map((l) => l.step), Array.from({ length: STEPS }, (_, i) => i + 1));
      ok(log.every((l) => Number.isFinite(l.loss) && l.grad_norm > 0));
      const first = mean(log.slice(0, 8).map((l) => l.loss));
      const last = mean(log.slice(-8).map((l) => l.loss));
      ok(
        last < 0.8 * first,
        `loss ${first.toFixed(4)} over the first 8 steps, ${last.toFixed(4)} over the last 8`,
      );
      deepStrictEqual(listDir(full), [
        "ckpt-0000020.safetensors",
        "ckpt-0000040.safetensors",
        "ema.safetensors",
        "train.jsonl",
      ]);
      ok(run.stdout.includes(`trained ${STEPS} steps`), run.stdout);

      const weights = await readWeights(join(full, "ema.safetensors"));
      deepStrictEqual(weights.config, CONFIG);
      deepStrictEqual(weights.classNames, ["class 0", "class 1"]);
      deepStrictEqual([weights.provenance.steps, weights.provenance.batch], [STEPS, 8]);
      // The tiny dataset's three opaque colours, dark to light: the `dataset` palette.
      deepStrictEqual(weights.palette?.colors.map(hexOf), ["1e3cc8", "dc2828", "f0f0f0"]);
      const { ema } = await readCheckpoint(ckpt(full, STEPS));
      deepStrictEqual(weights.flat, ema);
    });

    await t.step("the written weights load in sample, with their class names", async () => {
      const out = join(dir, "samples");
      const r = await runMain([
        "sample",
        "--weights",
        join(full, "ema.safetensors"),
        ..."--steps 2 --json --out".split(" "),
        out,
      ]);
      succeeded(r);
      deepStrictEqual(JSON.parse(r.stdout).classes, ["class 0", "class 1"]);
      deepStrictEqual(listDir(out).length, 6); // 2 sprites × 2 sizes, the sheet and its JSON
    });

    await t.step("resumed at step 20, stopped by SIGTERM, resumed again: bit for bit", async () => {
      // The same sprites at another path: the dataset is known by its content.
      const copy = join(dir, "copy");
      await Deno.mkdir(copy);
      const copied = await writeTinyDataset(copy);
      const stopped = join(dir, "stopped");
      const r = await trainUntilSigterm([
        ..."train --log-every 1 --sample-every 0 --resume".split(" "),
        ckpt(full, 20),
        ...["--data", copied, "--out", stopped],
      ], 23);
      deepStrictEqual(r.status.code, 130, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      const match = STOPPED.exec(r.stderr);
      ok(match, `stderr: ${r.stderr}`);
      const step = Number(match[1]);
      ok(step >= 23 && step < STEPS, `stopped at step ${step}`);
      deepStrictEqual(match[2], ckpt(stopped, step));
      deepStrictEqual((await readCheckpoint(match[2])).step, step);
      ok(!listDir(stopped).includes("ema.safetensors"), "an unfinished run wrote final weights");

      // Resuming in place continues the run's folder and log.
      const resume = ["train", "--resume", match[2], "--log-every", "1", "--sample-every", "0"];
      succeeded(await runMain(resume));
      await sameCheckpoint(ckpt(stopped, STEPS), ckpt(full, STEPS));
      deepStrictEqual(trace(await readLog(stopped)), trace(log.slice(20)));
    });
  });
});

Deno.test("train: bad input ⇒ one error line before any work, nothing written", async () => {
  await withTempDir("train-cli-", async (dir) => {
    const data = await writeTinyDataset(dir);
    const fresh = join(dir, "fresh");
    const train = (...args: string[]) =>
      runMain([
        "train",
        "--data",
        data,
        ..."--config tiny --batch 8 --out".split(" "),
        fresh,
        ...args,
      ]);
    failsWith(
      await train("--config", "huge"),
      /unknown --config 'huge'; presets: reference, small, tiny/,
    );
    failsWith(await train("--batch", "65"), /sprites\.npy has 64 sprites, fewer than --batch 65/);
    failsWith(await train("--steps", "10", "--epochs", "2"), /give --steps or --epochs, not both/);
    failsWith(await train("--lr", "fast"), /--lr must be a number, not 'fast'/);
    failsWith(await train("--lr", "-0.1"), /--lr must be between 0 and 1, not -0\.1/);
    failsWith(await train("--log-every", "0"), /--log-every must be between 1 and 1000, not 0/);
    failsWith(await train("--data", join(dir, "none.npy")), /none\.npy: cannot read/);
    const file = join(dir, "a-file");
    await Deno.writeFile(file, new Uint8Array());
    failsWith(
      await train("--out", join(file, "run")),
      /cannot write to --out .*a-file\/run: Not a directory/,
    );
    deepStrictEqual(listDir(fresh), [], "a refused run created --out");

    // Checkpoints: a good one to vary, and damaged ones.
    const runDir = join(dir, "run");
    await Deno.mkdir(runDir);
    const ds = await loadDataset(data);
    const size = (c: ModelConfig) => new ParamLayout(paramSpecs(c)).size;
    const state = (config: ModelConfig, hash: string): CheckpointState => {
      const zeros = new Float32Array(size(config));
      return {
        config,
        classNames: ds.classNames,
        step: 4,
        seed: 0,
        datasetHash: hash,
        datasetSource: data,
        options: { batch: 8, totalSteps: 8 },
        elapsed: 1,
        param: zeros,
        ema: zeros,
        m: zeros,
        v: zeros,
      };
    };
    const good = join(runDir, "ckpt-0000004.safetensors");
    await writeCheckpoint(good, state(CONFIG, await datasetHash(ds)));
    const resume = (path: string, ...args: string[]) =>
      runMain(["train", "--resume", path, "--sample-every", "0", ...args]);

    const truncated = join(runDir, "truncated.safetensors");
    await Deno.writeFile(truncated, (await Deno.readFile(good)).subarray(0, 4000));
    failsWith(await resume(truncated), /truncated\.safetensors: truncated/);
    const weights = join(runDir, "weights.safetensors");
    await writeTinyWeights(weights);
    failsWith(
      await resume(weights),
      /weights\.safetensors: not a training checkpoint \(format pt\)/,
    );
    failsWith(await resume(data), /sprites\.npy: not a safetensors file/);
    failsWith(
      await resume(join(runDir, "none.safetensors")),
      /none\.safetensors: cannot read checkpoint/,
    );
    const garbled = join(runDir, "garbled.safetensors");
    const arrays = ["param", "ema", "m", "v"].map((name) => ({
      name,
      dtype: "F32" as const,
      shape: [1],
      data: new Float32Array(1),
    }));
    await Deno.writeFile(
      garbled,
      encodeSafetensors(arrays, { format: CHECKPOINT_FORMAT, config: "{" }),
    );
    failsWith(await resume(garbled), /garbled\.safetensors: checkpoint metadata is corrupt/);
    const short = join(runDir, "short.safetensors");
    const s = state(CONFIG, "0");
    await writeCheckpoint(short, { ...s, m: s.m.subarray(1) });
    failsWith(
      await resume(short),
      /short\.safetensors: checkpoint array m has \d+ values, its config needs \d+/,
    );

    // The checkpoint's model has three classes, the dataset two: refused, even with --force.
    const three = join(runDir, "three.safetensors");
    await writeCheckpoint(three, state({ ...CONFIG, num_classes: 3 }, await datasetHash(ds)));
    const classes =
      /sprites\.npy: 4 channels and 2 classes, but the model has in_ch 4 and num_classes 3/;
    failsWith(await resume(three), classes);
    failsWith(await resume(three, "--force"), classes);

    // Another dataset of the same shape: refused unless forced (then the next check speaks).
    const other = join(runDir, "other.safetensors");
    await writeCheckpoint(other, state(CONFIG, "0".repeat(64)));
    failsWith(await resume(other), /sprites\.npy is not the dataset the checkpoint was trained on/);
    failsWith(await resume(other, "--force", "--batch", "65"), /fewer than --batch 65/);
    failsWith(await resume(good, "--seed", "5"), /--seed 5 differs from the checkpoint's seed 0/);
    failsWith(
      await resume(good, "--config", "small"),
      /--config small differs from the checkpoint's config/,
    );
    deepStrictEqual(listDir(runDir), [
      "ckpt-0000004.safetensors",
      "garbled.safetensors",
      "other.safetensors",
      "short.safetensors",
      "three.safetensors",
      "truncated.safetensors",
      "weights.safetensors",
    ]);

    // A new run in a folder holding one would mix their logs and checkpoints.
    failsWith(
      await runMain([
        "train",
        "--data",
        data,
        ..."--config tiny --batch 8 --out".split(" "),
        runDir,
      ]),
      new RegExp(`holds an earlier run; continue it with --resume ${good}, choose another --out`),
    );
  });
});
