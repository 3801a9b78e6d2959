/**
 * End to end: `main.ts train` on a 64-sprite, two-class `.npy` dataset built
 * here, with the tiny preset and batch 8. One uninterrupted 40-step run is the
 * reference for the loss, the output weights, its sample grid, and exact resume:
 * from its step-20 checkpoint to a SIGTERM, then from the checkpoint SIGTERM wrote.
 * A short run checks the learning-rate schedule, checkpoint pruning and grid steps.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { datasetHash, loadDataset } from "../lib/data/dataset.ts";
import { decodePng } from "../lib/io/png.ts";
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
/**
 * The tiny preset, batch 8, and a higher learning rate than the recipe's so 40 steps show
 * learning; one sample grid, at the end.
 */
const runOptions = (steps: number) => [
  ...`--config tiny --batch 8 --lr 1e-3 --steps ${steps}`.split(" "),
  ...`--log-every 1 --checkpoint-every 20 --sample-every ${steps}`.split(" "),
];
const recipe = (data: string, steps = STEPS) => ["train", "--data", data, ...runOptions(steps)];

/** The model the recipe builds for the test dataset: RGBA, two classes. */
const CONFIG: ModelConfig = { ...PRESETS.tiny, in_ch: 4, num_classes: 2 };

interface LogLine {
  step: number;
  loss: number;
  lr: number;
  grad_norm: number;
}

async function readLog(dir: string): Promise<LogLine[]> {
  const text = await Deno.readTextFile(join(dir, "train.jsonl"));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

/** What a resumed run must repeat exactly: step, loss and gradient norm (not the timings). */
const trace = (lines: LogLine[]) =>
  lines.map(({ step, loss, grad_norm }) => [step, loss, grad_norm]);

const pad = (step: number) => String(step).padStart(7, "0");
const ckpt = (dir: string, step: number) => join(dir, `ckpt-${pad(step)}.safetensors`);
const grid = (dir: string, step: number) => join(dir, `samples-${pad(step)}.png`);

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

/** How long a run may take to stop after SIGTERM (a step and a checkpoint) before it is killed. */
const SIGTERM_GRACE_MS = 5 * 60_000;

/**
 * Starts `train`, sends SIGTERM once step `at` is logged, and returns what the run printed.
 * The run must not be able to finish on its own: how far past `at` it gets depends on load.
 */
async function trainUntilSigterm(args: string[], at: number) {
  const child = mainCommand(args).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stdout = "";
  let killer: ReturnType<typeof setTimeout> | undefined;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    stdout += chunk.value;
    if (killer === undefined && stdout.includes(`step ${at}/`)) {
      child.kill("SIGTERM");
      // A run that ignores the signal would never end: it is killed, and the test fails.
      killer = setTimeout(() => child.kill("SIGKILL"), SIGTERM_GRACE_MS);
    }
  }
  const status = await child.status;
  clearTimeout(killer);
  return { status, stdout, stderr: await stderr };
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
        "samples-0000040.png",
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

    await t.step("the written weights sample what the run's last grid shows", async () => {
      // The grid's first row: 4 sprites of class 0, sampled with the `sample` defaults and
      // 50 steps, as `sample` draws them from the same seed (0); opaque pixels keep their
      // colour, transparent ones show the checkerboard.
      const out = join(dir, "samples");
      const r = await runMain([
        "sample",
        "--weights",
        join(full, "ema.safetensors"),
        ..."--class 0 --n 4 --steps 50 --json --out".split(" "),
        out,
      ]);
      succeeded(r);
      deepStrictEqual(JSON.parse(r.stdout).classes, new Array(4).fill("class 0"));
      deepStrictEqual(listDir(out).length, 10); // 4 sprites × 2 sizes, the sheet and its JSON
      const sheet = await decodePng(await Deno.readFile(grid(full, STEPS)), "grid");
      // 2 classes × 4 sprites, 4× upscaled, 2-px gaps.
      deepStrictEqual([sheet.width, sheet.height], [4 * 64 + 3 * 2, 2 * 64 + 2]);
      for (let i = 0; i < 4; i++) {
        const sprite = await decodePng(
          await Deno.readFile(join(out, `class-0-s0-${i}.png`)),
          `sprite ${i}`,
        );
        for (let p = 0; p < 16 * 16; p++) {
          const [r, g, b, a] = sprite.data.subarray(4 * p, 4 * p + 4);
          for (let k = 0; k < 16; k++) {
            const x = i * 66 + 4 * (p % 16) + (k % 4);
            const y = 4 * Math.floor(p / 16) + Math.floor(k / 4);
            const shown = [
              ...sheet.data.subarray(4 * (y * sheet.width + x), 4 * (y * sheet.width + x) + 4),
            ];
            const checker = shown[0] === shown[1] && shown[1] === shown[2] &&
              (shown[0] === 0x99 || shown[0] === 0x66);
            ok(
              a === 255
                ? `${shown}` === `${[r, g, b, 255]}`
                : a === 0 && checker && shown[3] === 255,
              `sprite ${i} pixel ${p} is ${[r, g, b, a]}, the grid shows ${shown} at ${x},${y}`,
            );
          }
        }
      }
    });

    await t.step("resumed at step 20, stopped by SIGTERM, resumed again: bit for bit", async () => {
      // The same sprites at another path: the dataset is known by its content.
      const copy = join(dir, "copy");
      await Deno.mkdir(copy);
      const copied = await writeTinyDataset(copy);
      const stopped = join(dir, "stopped");
      // A billion steps: the run is still going whenever the signal lands. The learning rate
      // is constant, so the total does not change the steps.
      const r = await trainUntilSigterm([
        ..."train --log-every 1 --sample-every 0 --steps 1000000000 --resume".split(" "),
        ckpt(full, 20),
        ...["--data", copied, "--out", stopped],
      ], 23);
      deepStrictEqual(r.status.code, 130, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      const match = STOPPED.exec(r.stderr);
      ok(match, `stderr: ${r.stderr}`);
      const step = Number(match[1]);
      ok(step >= 23, `stopped at step ${step}`);
      deepStrictEqual(match[2], ckpt(stopped, step));
      deepStrictEqual((await readCheckpoint(match[2])).step, step);
      ok(!listDir(stopped).includes("ema.safetensors"), "an unfinished run wrote final weights");

      // Resuming in place continues the run's folder and log, to the reference's 40 steps; a
      // loaded machine may have run past them before the signal landed, and then an
      // uninterrupted run as long as the resumed one is the reference.
      const end = Math.max(STEPS, step + 1);
      const reference = end === STEPS ? full : join(dir, "reference");
      if (end !== STEPS) succeeded(await runMain([...recipe(data, end), "--out", reference]));
      const resume = ["train", "--resume", match[2], "--steps", String(end)];
      succeeded(await runMain([...resume, "--log-every", "1", "--sample-every", "0"]));
      await sameCheckpoint(ckpt(stopped, end), ckpt(reference, end));
      deepStrictEqual(trace(await readLog(stopped)), trace((await readLog(reference)).slice(20)));
    });
  });
});

Deno.test("train: warm-up and cosine decay, checkpoints pruned to --keep, grids every --sample-every", async () => {
  await withTempDir("train-cli-", async (dir) => {
    const data = await writeTinyDataset(dir);
    const run = join(dir, "run");
    succeeded(
      await runMain([
        ..."train --config tiny --batch 8 --lr 1e-3 --steps 7 --warmup 3 --lr-decay cosine".split(
          " ",
        ),
        ..."--log-every 1 --checkpoint-every 2 --keep 2 --sample-every 3".split(" "),
        ...["--data", data, "--out", run],
      ]),
    );
    // Checkpoints at steps 2, 4, 6 and 7 (the last), of which the newest 2 stay; grids at
    // steps 3, 6 and 7 (the last).
    deepStrictEqual(listDir(run), [
      "ckpt-0000006.safetensors",
      "ckpt-0000007.safetensors",
      "ema.safetensors",
      "samples-0000003.png",
      "samples-0000006.png",
      "samples-0000007.png",
      "train.jsonl",
    ]);
    // Steps 1–3 warm up linearly to 1e-3; steps 4–7 follow ½ (1 + cos πp), p = 0, ¼, ½, ¾.
    const c = Math.SQRT1_2;
    const expected = [1 / 3, 2 / 3, 1, 1, (1 + c) / 2, 0.5, (1 - c) / 2].map((f) => f * 1e-3);
    const log = await readLog(run);
    deepStrictEqual(log.map((l) => l.step), [1, 2, 3, 4, 5, 6, 7]);
    log.forEach((l, i) =>
      ok(Math.abs(l.lr - expected[i]) <= 1e-12, `step ${l.step}: lr ${l.lr}, not ${expected[i]}`)
    );
    // Resumed from step 6 without the schedule options: the checkpoint keeps them, and the last
    // step takes the same learning rate and lands on the same weights.
    const resumed = join(dir, "resumed");
    succeeded(
      await runMain([
        ..."train --log-every 1 --sample-every 0 --resume".split(" "),
        ckpt(run, 6),
        ...["--out", resumed],
      ]),
    );
    deepStrictEqual((await readLog(resumed)).map((l) => [l.step, l.lr]), [[7, log[6].lr]]);
    await sameCheckpoint(ckpt(resumed, 7), ckpt(run, 7));
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
