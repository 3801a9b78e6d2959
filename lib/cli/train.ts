/**
 * `train`: the original's recipe on WebGPU with live progress, a JSONL log,
 * sample grids, atomic checkpoints (every N steps and on Ctrl-C/SIGTERM) and
 * exact resume. The result is the EMA weights as safetensors.
 */

import { join } from "node:path";
import { getGpu, type Gpu } from "../gpu/device.ts";
import { datasetHash, DEFAULT_DATASET, loadDataset, type SpriteDataset } from "../data/dataset.ts";
import { IMAGE_SIZE, type ModelConfig, PRESETS } from "../model/config.ts";
import { largestActivationPerRow } from "../model/memory.ts";
import { type CheckpointState, readCheckpoint } from "../train/checkpoint.ts";
import {
  CHECKPOINT_NAME,
  type LoopOptions,
  stopOnSignals,
  TrainingStopped,
  trainLoop,
} from "../train/loop.ts";
import { RECIPE, type TrainHyper } from "../train/trainer.ts";
import { detectDisplay } from "../term/detect.ts";
import { LiveView } from "../term/live.ts";
import { formatProgress, formatStarting } from "../term/progress.ts";
import { datasetPalette } from "../data/palette.ts";
import type { Command } from "./commands.ts";
import { PALETTE_OPTIONS, parsePaletteOptions, resolvePaletteOptions } from "./palette_options.ts";
import { UserError } from "./errors.ts";
import {
  choiceOption,
  helpText,
  numberOption,
  parseOptions,
  PICTURE_OPTIONS,
  pictureOptions,
  writableOutDir,
} from "./options.ts";

const OPTIONS = {
  data: {
    value: "PATH",
    help: "dataset: data folder, .npy, sheet .png or class folders (default: data/angband)",
  },
  config: {
    value: "NAME",
    help: `model preset: ${Object.keys(PRESETS).join(", ")} (default small); in_ch and classes\n` +
      "come from the data",
  },
  steps: { value: "N", help: "length of the run in steps (default: 100 epochs)" },
  epochs: { value: "E", help: "length of the run in epochs (instead of --steps)" },
  batch: { value: "B", help: `batch size (default ${RECIPE.batch})` },
  lr: { value: "LR", help: `AdamW learning rate (default ${RECIPE.lr})` },
  "weight-decay": {
    value: "WD",
    help: `AdamW decoupled weight decay (default ${RECIPE.weightDecay})`,
  },
  "max-grad-norm": {
    value: "G",
    help: `global gradient-norm clip, 0 = off (default ${RECIPE.maxGradNorm})`,
  },
  "ema-decay": { value: "D", help: `EMA decay per step (default ${RECIPE.emaDecay})` },
  "p-uncond": { value: "P", help: `label dropout to the null class (default ${RECIPE.pUncond})` },
  "no-flip": { help: "no random horizontal flips" },
  warmup: { value: "N", help: "linear learning-rate warm-up steps (default 0)" },
  "lr-decay": { value: "none|cosine", help: "learning-rate decay after warm-up (default none)" },
  seed: { value: "S", help: "seed of init, batches and noise (default 0)" },
  out: {
    value: "DIR",
    help: "run folder: log, checkpoints, samples, weights (default runs/<config>)",
  },
  "log-every": { value: "N", help: "log line / JSONL entry every N steps (default 10)" },
  "checkpoint-every": { value: "N", help: "checkpoint every N steps (default 500)" },
  "sample-every": {
    value: "N",
    help: "EMA sample grid every N steps, 0 = off (default 1000); shown in the\n" +
      "terminal too, one row per class",
  },
  ...PICTURE_OPTIONS,
  keep: { value: "K", help: "checkpoints kept (default 3)" },
  resume: { value: "FILE", help: "continue a run from its checkpoint, exactly" },
  ...PALETTE_OPTIONS,
  force: {
    help: "resume even if the dataset or config differ; start a new run in a\n" +
      "folder that holds one (its log and checkpoints are deleted)",
  },
} as const;

const HELP = helpText(
  "deno run -A main.ts train [options]",
  "Trains ContextUNet on sprites (default: the shipped Angband dataset) with the\n" +
    "original's recipe; every option below defaults to it.",
  OPTIONS,
  "The palette options apply to the sample grids; --palette dataset means the training\n" +
    "data's own colours.",
);

function checkBatchFits(gpu: Gpu, config: ModelConfig, batch: number): void {
  const perRow = largestActivationPerRow(config);
  if (perRow * batch > gpu.maxBinding) {
    throw new UserError(
      `--batch ${batch} needs ${
        perRow * batch
      } bytes in one buffer, over this adapter's maxStorageBufferBindingSize ` +
        `(${gpu.maxBinding}); use --batch ${Math.floor(gpu.maxBinding / perRow)} or less`,
    );
  }
}

/** The log and checkpoints of an earlier run in `dir`; none when `dir` cannot be listed. */
function earlierRun(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((name) => name === "train.jsonl" || CHECKPOINT_NAME.test(name)).sort();
  } catch {
    return []; // no folder yet, or not a folder: ensureWritableDir says which
  }
}

async function loadData(path: string): Promise<SpriteDataset> {
  const ds = await loadDataset(path);
  if (ds.size !== IMAGE_SIZE) {
    throw new UserError(`${path}: sprites must be ${IMAGE_SIZE}×${IMAGE_SIZE}`);
  }
  if (ds.classNames.length < 1) throw new UserError(`${path}: the dataset has no classes`);
  return ds;
}

export const trainCommand: Command = {
  async run(args) {
    const { values } = parseOptions("train", args, OPTIONS);
    if (values.help) return void console.log(HELP);
    const gridPalette = parsePaletteOptions(values);

    let resume: CheckpointState | null = null;
    if (values.resume) {
      try {
        resume = await readCheckpoint(values.resume);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
    }
    const dataPath = values.data ?? resume?.datasetSource ?? DEFAULT_DATASET;
    const data = await loadData(dataPath);
    const presetName = values.config ?? "small";
    const preset = PRESETS[presetName];
    if (!preset) {
      throw new UserError(
        `unknown --config '${presetName}'; presets: ${Object.keys(PRESETS).join(", ")}`,
      );
    }
    const config: ModelConfig = resume?.config ??
      { ...preset, in_ch: data.channels, num_classes: data.classNames.length };
    if (
      resume && values.config &&
      JSON.stringify({ ...preset, in_ch: config.in_ch, num_classes: config.num_classes }) !==
        JSON.stringify(config) &&
      !values.force
    ) {
      throw new UserError(
        `--config ${presetName} differs from the checkpoint's config; drop --config or pass --force`,
      );
    }
    if (config.in_ch !== data.channels || config.num_classes !== data.classNames.length) {
      throw new UserError(
        `${dataPath}: ${data.channels} channels and ${data.classNames.length} classes, but the model has ` +
          `in_ch ${config.in_ch} and num_classes ${config.num_classes}`,
      );
    }
    if (gridPalette.spec?.kind === "dataset" && !datasetPalette(data)) {
      throw new UserError(
        `${dataPath} has more than 256 colours, so no dataset palette for the grids; choose another --palette`,
      );
    }
    const hash = await datasetHash(data);
    if (resume && resume.datasetHash !== hash && !values.force) {
      throw new UserError(
        `${dataPath} is not the dataset the checkpoint was trained on (${resume.datasetSource}); pass --force to continue anyway`,
      );
    }

    const saved = (resume?.options ?? {}) as Partial<TrainHyper>;
    type NumberName = {
      [K in keyof typeof OPTIONS]: typeof OPTIONS[K] extends { value: string } ? K : never;
    }[keyof typeof OPTIONS];
    const num = (
      name: NumberName,
      fallback: number,
      range: { min?: number; max?: number; integer?: boolean },
    ) => numberOption(name, values[name], fallback, range);
    const batch = num("batch", saved.batch ?? RECIPE.batch, { min: 1, max: 65536, integer: true });
    const stepsPerEpoch = Math.floor(data.count / batch);
    if (stepsPerEpoch < 1) {
      throw new UserError(
        `${dataPath} has ${data.count} sprites, fewer than --batch ${batch}; lower --batch`,
      );
    }
    if (values.steps && values.epochs) throw new UserError("give --steps or --epochs, not both");
    const epochs = num("epochs", 100, { min: 1, max: 1e6, integer: true });
    const totalSteps = num(
      "steps",
      values.epochs ? epochs * stepsPerEpoch : saved.totalSteps ?? 100 * stepsPerEpoch,
      {
        min: 1,
        max: 1e9,
        integer: true,
      },
    );
    const hyper: TrainHyper = {
      batch,
      lr: num("lr", saved.lr ?? RECIPE.lr, { min: 0, max: 1 }),
      weightDecay: num("weight-decay", saved.weightDecay ?? RECIPE.weightDecay, { min: 0, max: 1 }),
      beta1: saved.beta1 ?? RECIPE.beta1,
      beta2: saved.beta2 ?? RECIPE.beta2,
      eps: saved.eps ?? RECIPE.eps,
      maxGradNorm: num("max-grad-norm", saved.maxGradNorm ?? RECIPE.maxGradNorm, { min: 0 }),
      emaDecay: num("ema-decay", saved.emaDecay ?? RECIPE.emaDecay, { min: 0, max: 0.999999 }),
      pUncond: num("p-uncond", saved.pUncond ?? RECIPE.pUncond, { min: 0, max: 1 }),
      flip: values["no-flip"] ? false : saved.flip ?? RECIPE.flip,
      warmup: num("warmup", saved.warmup ?? RECIPE.warmup, { min: 0, integer: true }),
      decay: choiceOption(
        "lr-decay",
        values["lr-decay"],
        ["none", "cosine"] as const,
        saved.decay ?? RECIPE.decay,
      ),
      seed: num("seed", resume?.seed ?? 0, { min: 0, max: 2 ** 32 - 1, integer: true }),
      totalSteps,
    };
    if (resume && hyper.seed !== resume.seed && !values.force) {
      throw new UserError(
        `--seed ${hyper.seed} differs from the checkpoint's seed ${resume.seed}; an exact resume keeps it`,
      );
    }
    const outDir = values.out ??
      (values.resume ? join(values.resume, "..") : join("runs", presetName));
    // A new run appending to another's log, and pruning its checkpoints by name, would mix them up.
    const earlier = resume ? [] : earlierRun(outDir);
    if (earlier.length && !values.force) {
      const latest = earlier.filter((name) => CHECKPOINT_NAME.test(name)).at(-1);
      const resumeHint = latest ? `continue it with --resume ${join(outDir, latest)}, ` : "";
      throw new UserError(
        `${outDir} holds an earlier run; ${resumeHint}choose another --out, or pass --force to replace it`,
      );
    }
    const run: LoopOptions = {
      hyper,
      config,
      outDir,
      logEvery: num("log-every", 10, { min: 1, max: 1000, integer: true }),
      checkpointEvery: num("checkpoint-every", 500, { min: 1, integer: true }),
      sampleEvery: num("sample-every", 1000, { min: 0, integer: true }),
      keep: num("keep", 3, { min: 1, integer: true }),
      gridPost: await resolvePaletteOptions(gridPalette, {
        palette: datasetPalette(data),
        source: dataPath,
      }, 0),
    };
    const pictures = pictureOptions(values);
    const gpu = await getGpu();
    checkBatchFits(gpu, config, batch);
    // Only now, so a refused run leaves no new folder behind.
    await writableOutDir(outDir);
    for (const name of earlier) await Deno.remove(join(outDir, name));
    await runWithProgress(gpu, data, hash, resume, run, pictures);
  },
};

/** The training loop with its terminal view: a progress bar (or plain lines) and sample grids. */
async function runWithProgress(
  gpu: Gpu,
  data: SpriteDataset,
  hash: string,
  resume: CheckpointState | null,
  o: LoopOptions,
  pictures: ReturnType<typeof pictureOptions>,
): Promise<void> {
  const display = await detectDisplay(pictures.preview);
  const onTerminal = display.color !== "none" && Deno.stdout.isTerminal();
  const live = new LiveView(Deno.stdout, display.color, display);
  const stop = stopOnSignals();
  live.update(formatStarting(Math.min(display.columns, 120)));
  try {
    const weightsPath = await trainLoop(gpu, data, hash, resume, o, {
      onProgress(p) {
        if (onTerminal) {
          const fields = { epoch: String(p.epoch), loss: p.smoothLoss.toFixed(4) };
          live.update(formatProgress(
            {
              step: p.step,
              total: p.totalSteps,
              startedAt: p.startedAt,
              startStep: p.startStep,
              rateFrom: p.rateFrom,
              fields,
            },
            { width: Math.min(display.columns, 120), unit: "img/s", rate: p.imagesPerSecond },
          ));
        } else {
          console.log(
            `step ${p.step}/${p.totalSteps} epoch ${p.epoch} loss ${p.loss.toFixed(4)} ` +
              `(avg ${p.smoothLoss.toFixed(4)}) ${p.imagesPerSecond.toFixed(1)} img/s`,
          );
        }
      },
      onSampleGrid(rows) {
        if (!onTerminal || display.protocol === "none") return;
        // Drawn above the progress line in turn; done() below waits for it.
        live.logImages(rows.flat(), { perRow: rows[0].length, scale: pictures.scale });
      },
    }, stop.signal);
    await live.done();
    console.log(`trained ${o.hyper.totalSteps} steps; EMA weights: ${weightsPath}`);
  } catch (err) {
    await live.done().catch(() => {}); // the run's own error is the one to report
    // An error, so main.ts exits with 130 (it sets the exit code of a command that returns to 0).
    if (err instanceof TrainingStopped) throw new UserError(err.message, 130);
    throw err;
  } finally {
    stop.dispose();
  }
}
