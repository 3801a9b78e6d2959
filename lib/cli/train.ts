/**
 * `train`: the original's recipe on WebGPU with live progress, a JSONL log,
 * sample grids, atomic checkpoints (every N steps and on Ctrl-C/SIGTERM) and
 * exact resume. The result is the EMA weights as safetensors.
 */

import { join } from "node:path";
import { getGpu, type Gpu } from "../gpu/device.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { imageFromTensor, snapAlpha } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import { composeSheet } from "../io/sheet.ts";
import { sample } from "../diffusion/sampler.ts";
import { datasetHash, DEFAULT_DATASET, loadDataset, type SpriteDataset } from "../data/dataset.ts";
import { IMAGE_SIZE, type ModelConfig, PRESETS } from "../model/config.ts";
import { largestActivationPerRow } from "../model/memory.ts";
import { encodeWeights } from "../model/weights.ts";
import { type CheckpointState, readCheckpoint, writeCheckpoint } from "../train/checkpoint.ts";
import { type LogEntry, RECIPE, Trainer, type TrainHyper } from "../train/trainer.ts";
import { colorModeFor, renderHalfBlocks } from "../term/ansi.ts";
import { LiveView } from "../term/live.ts";
import { formatProgress } from "../term/progress.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import { SAMPLE_DEFAULTS } from "./sample.ts";
import {
  choiceOption,
  numberOption,
  parseOptions,
  terminalColumns,
  writableOutDir,
} from "./options.ts";

const HELP = `usage: deno run -A main.ts train [options]

Trains ContextUNet on sprites (default: the shipped Angband dataset) with the
original's recipe; every option below defaults to it.

  --data PATH            dataset: data folder, .npy, sheet .png or class folders (default: data/angband)
  --config NAME          model preset: ${
  Object.keys(PRESETS).join(", ")
} (default small); in_ch and classes come from the data
  --steps N | --epochs E length of the run (default: 100 epochs)
  --batch B              batch size (default ${RECIPE.batch})
  --lr LR                AdamW learning rate (default ${RECIPE.lr})
  --weight-decay WD      AdamW decoupled weight decay (default ${RECIPE.weightDecay})
  --max-grad-norm G      global gradient-norm clip, 0 = off (default ${RECIPE.maxGradNorm})
  --ema-decay D          EMA decay per step (default ${RECIPE.emaDecay})
  --p-uncond P           label dropout to the null class (default ${RECIPE.pUncond})
  --no-flip              no random horizontal flips
  --warmup N             linear learning-rate warm-up steps (default 0)
  --lr-decay none|cosine learning-rate decay after warm-up (default none)
  --seed S               seed of init, batches and noise (default 0)
  --out DIR              run folder: log, checkpoints, samples, weights (default runs/<config>)
  --log-every N          log line / JSONL entry every N steps (default 10)
  --checkpoint-every N   checkpoint every N steps (default 500)
  --sample-every N       EMA sample grid every N steps, 0 = off (default 1000)
  --keep K               checkpoints kept (default 3)
  --resume FILE          continue a run from its checkpoint, exactly
  --force                resume even if the dataset or config differ; start a new run in a
                         folder that holds one (its log and checkpoints are deleted)`;

interface RunOptions {
  hyper: TrainHyper;
  config: ModelConfig;
  outDir: string;
  logEvery: number;
  checkpointEvery: number;
  sampleEvery: number;
  keep: number;
}

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

const CHECKPOINT_NAME = /^ckpt-\d+\.safetensors$/;

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
  summary: "train a model on sprites (the original's recipe)",
  async run(args) {
    const { values } = parseOptions("train", args, {
      data: { type: "string" },
      config: { type: "string" },
      steps: { type: "string" },
      epochs: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      "weight-decay": { type: "string" },
      "max-grad-norm": { type: "string" },
      "ema-decay": { type: "string" },
      "p-uncond": { type: "string" },
      "no-flip": { type: "boolean" },
      warmup: { type: "string" },
      "lr-decay": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "log-every": { type: "string" },
      "checkpoint-every": { type: "string" },
      "sample-every": { type: "string" },
      keep: { type: "string" },
      resume: { type: "string" },
      force: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) return void console.log(HELP);

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
    const hash = await datasetHash(data);
    if (resume && resume.datasetHash !== hash && !values.force) {
      throw new UserError(
        `${dataPath} is not the dataset the checkpoint was trained on (${resume.datasetSource}); pass --force to continue anyway`,
      );
    }

    const saved = (resume?.options ?? {}) as Partial<TrainHyper>;
    const num = (
      name: string,
      fallback: number,
      range: { min?: number; max?: number; integer?: boolean },
    ) =>
      numberOption(
        name,
        values[name as keyof typeof values] as string | undefined,
        fallback,
        range,
      );
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
    const run: RunOptions = {
      hyper,
      config,
      outDir,
      logEvery: num("log-every", 10, { min: 1, max: 1000, integer: true }),
      checkpointEvery: num("checkpoint-every", 500, { min: 1, integer: true }),
      sampleEvery: num("sample-every", 1000, { min: 0, integer: true }),
      keep: num("keep", 3, { min: 1, integer: true }),
    };
    const gpu = await getGpu();
    checkBatchFits(gpu, config, batch);
    // Only now, so a refused run leaves no new folder behind.
    await writableOutDir(outDir);
    for (const name of earlier) await Deno.remove(join(outDir, name));
    await trainLoop(gpu, data, hash, resume, run);
  },
};

const pad = (step: number) => String(step).padStart(7, "0");

async function trainLoop(
  gpu: Gpu,
  data: SpriteDataset,
  hash: string,
  resume: CheckpointState | null,
  o: RunOptions,
): Promise<void> {
  const trainer = new Trainer(gpu, o.config, data, o.hyper, resume ?? { step: 0 });
  const startStep = trainer.step;
  const elapsedBefore = resume?.elapsed ?? 0;
  const startedAt = performance.now();
  const color = colorModeFor(Deno.stdout);
  const live = new LiveView(Deno.stdout, color);
  const columns = terminalColumns(100);
  const logPath = join(o.outDir, "train.jsonl");
  const log = await Deno.open(logPath, { append: true, create: true });
  const encoder = new TextEncoder();
  let lastLoss = NaN;
  let smoothLoss = NaN;
  let stopSignal: string | null = null;
  const onSignal = (name: string) => () => {
    stopSignal = name;
  };
  const signals = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, handler] of signals) Deno.addSignalListener(s, handler);
  const elapsed = () => elapsedBefore + (performance.now() - startedAt) / 1000;
  const imagesPerSecond = () =>
    ((trainer.step - startStep) * o.hyper.batch) / ((performance.now() - startedAt) / 1000);

  const record = async (): Promise<void> => {
    const entries: LogEntry[] = await trainer.drainLog();
    if (entries.length === 0) return;
    const ips = imagesPerSecond();
    for (const e of entries) {
      if (!Number.isFinite(e.loss)) {
        throw new UserError(
          `loss became ${e.loss} at step ${e.step}; the last good checkpoint is kept in ${o.outDir}/ ` +
            `(try a lower --lr or --max-grad-norm)`,
        );
      }
      smoothLoss = Number.isNaN(smoothLoss) ? e.loss : 0.98 * smoothLoss + 0.02 * e.loss;
      lastLoss = e.loss;
      const line = {
        step: e.step,
        loss: e.loss,
        lr: e.lr,
        grad_norm: e.gradNorm,
        images_per_s: Number(ips.toFixed(2)),
        elapsed_s: Number(elapsed().toFixed(2)),
      };
      await log.write(encoder.encode(JSON.stringify(line) + "\n"));
    }
    const epoch = Math.floor(trainer.step / trainer.batches.stepsPerEpoch) + 1;
    const fields = { epoch: String(epoch), loss: smoothLoss.toFixed(4) };
    const progress = formatProgress(
      { step: trainer.step, total: o.hyper.totalSteps, startedAt, startStep, fields },
      { width: Math.min(columns, 120), unit: "img/s", rate: ips },
    );
    if (color !== "none" && Deno.stdout.isTerminal()) live.update(progress);
    else {console.log(
        `step ${trainer.step}/${o.hyper.totalSteps} epoch ${epoch} loss ${
          lastLoss.toFixed(4)
        } (avg ${smoothLoss.toFixed(4)}) ${ips.toFixed(1)} img/s`,
      );}
  };

  const checkpoint = async (): Promise<string> => {
    await record(); // a non-finite loss must stop the run before it reaches a checkpoint
    const path = join(o.outDir, `ckpt-${pad(trainer.step)}.safetensors`);
    await writeCheckpoint(path, {
      config: o.config,
      classNames: data.classNames,
      step: trainer.step,
      seed: o.hyper.seed,
      datasetHash: hash,
      datasetSource: data.source,
      options: { ...o.hyper },
      elapsed: elapsed(),
      param: await trainer.read("param"),
      ema: await trainer.read("ema"),
      m: await trainer.read("m"),
      v: await trainer.read("v"),
    });
    const old = [...Deno.readDirSync(o.outDir)].map((e) => e.name).filter((n) =>
      CHECKPOINT_NAME.test(n)
    ).sort();
    for (const name of old.slice(0, Math.max(0, old.length - o.keep))) {
      await Deno.remove(join(o.outDir, name));
    }
    return path;
  };

  const sampleGrid = async (): Promise<void> => {
    const perClass = 4;
    const k = o.config.num_classes;
    const classes = Array.from({ length: k * perClass }, (_, i) => Math.floor(i / perClass));
    const ema = trainer.store.asParams("ema");
    const { images } = await sample(gpu, o.config, ema, {
      classes,
      guidance: SAMPLE_DEFAULTS.guidance,
      steps: 50,
      sampler: SAMPLE_DEFAULTS.sampler,
      seed: 0,
    });
    const c = o.config.in_ch;
    const rows = Array.from(
      { length: k },
      (_, r) =>
        Array.from(
          { length: perClass },
          (_, j) =>
            snapAlpha(
              imageFromTensor(
                images,
                c,
                IMAGE_SIZE,
                IMAGE_SIZE,
                (r * perClass + j) * c * IMAGE_SIZE ** 2,
              ),
            ),
        ),
    );
    await writeFileAtomic(
      join(o.outDir, `samples-${pad(trainer.step)}.png`),
      await encodePng(composeSheet(rows, { scale: 4, gap: 2, checker: true })),
    );
    if (color !== "none" && Deno.stdout.isTerminal()) {
      live.log(
        renderHalfBlocks(composeSheet(rows, { scale: 1, gap: 1, checker: false }), {
          color,
        }),
      );
    }
  };

  try {
    while (trainer.step < o.hyper.totalSteps && !stopSignal) {
      trainer.runStep();
      const s = trainer.step;
      const last = s === o.hyper.totalSteps;
      if (s % o.logEvery === 0 || last) await record();
      if (s % o.checkpointEvery === 0 || last) await checkpoint();
      if (o.sampleEvery > 0 && (s % o.sampleEvery === 0 || last)) await sampleGrid();
    }
    await record();
    if (stopSignal) {
      const path = await checkpoint();
      await live.done();
      // An error, so main.ts exits with 130 (it sets the exit code of a command that returns to 0).
      throw new UserError(
        `stopped by ${stopSignal} at step ${trainer.step}; resume with --resume ${path}`,
        130,
      );
    }
    await live.done();
    const weightsPath = join(o.outDir, "ema.safetensors");
    const flat = await trainer.read("ema");
    await writeFileAtomic(
      weightsPath,
      encodeWeights({
        config: o.config,
        classNames: data.classNames,
        layout: trainer.layout,
        flat,
        provenance: {
          dataset: data.source,
          dataset_hash: hash,
          steps: trainer.step,
          batch: o.hyper.batch,
          seed: o.hyper.seed,
          wall_time_s: Number(elapsed().toFixed(1)),
          final_loss: smoothLoss,
          adapter: gpu.adapter.description,
          recipe: o.hyper,
        },
      }),
    );
    console.log(
      `trained ${trainer.step} steps in ${elapsed().toFixed(0)} s; EMA weights: ${weightsPath}`,
    );
  } finally {
    for (const [s, handler] of signals) Deno.removeSignalListener(s, handler);
    log.close();
  }
}
