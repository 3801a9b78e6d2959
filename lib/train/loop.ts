/**
 * The training run, top to bottom: steps, the loss log (a GPU ring buffer read at
 * log intervals), atomic checkpoints with pruning, EMA sample grids, a stop on
 * request (Ctrl-C, SIGTERM) with a checkpoint, and the final EMA weights.
 * Front ends watch it through {@link TrainHooks}; files go to `outDir`.
 */

import { join } from "node:path";
import type { Gpu } from "../gpu/gpu.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import type { RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import { composeSheet } from "../io/sheet.ts";
import type { SpriteDataset } from "../data/dataset.ts";
import { GENERATE_DEFAULTS } from "../generate/defaults.ts";
import { Generator } from "../generate/generator.ts";
import type { PostOptions } from "../generate/postprocess.ts";
import type { ModelConfig } from "../model/config.ts";
import { encodeWeights } from "../model/weights.ts";
import { datasetPalette } from "../data/palette.ts";
import { InputError } from "../util/errors.ts";
import { type CheckpointState, writeCheckpoint } from "./checkpoint.ts";
import { type LogEntry, Trainer, type TrainHyper } from "./trainer.ts";

export interface LoopOptions {
  hyper: TrainHyper;
  config: ModelConfig;
  outDir: string;
  logEvery: number;
  checkpointEvery: number;
  /** EMA sample grid every this many steps; 0 = never. */
  sampleEvery: number;
  /** The grids' post-processing (default: as `sample` with no options). */
  gridPost?: PostOptions;
  /** Checkpoints kept (the newest). */
  keep: number;
}

/** Where the run is, after each log interval. */
export interface Progress {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  /** Exponential moving average of the loss (0.98 per logged step). */
  smoothLoss: number;
  /** Since `rateFrom` (the first report's: since the start, compile included). */
  imagesPerSecond: number;
  /** performance.now() when this process started training, and the step it started from. */
  startedAt: number;
  startStep: number;
  /**
   * Where rates are measured from: the run's first step, reported on its own, once it is done.
   * On a new machine that step also compiles every kernel (minutes on lavapipe), which would
   * drag the rate and the ETA down for a long while.
   */
  rateFrom: { step: number; at: number };
}

export interface TrainHooks {
  onProgress?: (p: Progress) => void;
  /** An EMA sample grid, one row per class, as written to samples-<step>.png (and unscaled). */
  onSampleGrid?: (rows: RgbaImage[][], step: number) => void;
}

/** The run stopped on request; its state is in `checkpoint`. */
export class TrainingStopped extends Error {
  constructor(readonly reason: string, readonly step: number, readonly checkpoint: string) {
    super(`stopped by ${reason} at step ${step}; resume with --resume ${checkpoint}`);
    this.name = "TrainingStopped";
  }
}

/** The loss stopped being a number: the run ends before any checkpoint holds that state. */
export class LossDiverged extends InputError {}

export const CHECKPOINT_NAME = /^ckpt-\d+\.safetensors$/;

const SAMPLES_PER_CLASS = 4;

const pad = (step: number) => String(step).padStart(7, "0");

/**
 * Trains until `hyper.totalSteps` or until `stop` is aborted (its reason names the signal);
 * returns the path of the EMA weights.
 */
export async function trainLoop(
  gpu: Gpu,
  data: SpriteDataset,
  datasetHash: string,
  resume: CheckpointState | null,
  o: LoopOptions,
  hooks: TrainHooks = {},
  stop?: AbortSignal,
): Promise<string> {
  const trainer = new Trainer(gpu, o.config, data, o.hyper, resume ?? { step: 0 });
  const startStep = trainer.step;
  const elapsedBefore = resume?.elapsed ?? 0;
  const startedAt = performance.now();
  const log = await Deno.open(join(o.outDir, "train.jsonl"), { append: true, create: true });
  const encoder = new TextEncoder();
  const grids = new Generator(gpu, o.config, data.classNames, trainer.store.asParams("ema"), {
    ownsStore: false,
  });
  let smoothLoss = NaN;
  const elapsed = () => elapsedBefore + (performance.now() - startedAt) / 1000;
  let rateFrom = { step: startStep, at: startedAt };
  const imagesPerSecond = () =>
    ((trainer.step - rateFrom.step) * o.hyper.batch) / ((performance.now() - rateFrom.at) / 1000);

  const record = async (): Promise<void> => {
    const entries: LogEntry[] = await trainer.drainLog();
    if (entries.length === 0) return;
    const ips = imagesPerSecond();
    for (const e of entries) {
      if (!Number.isFinite(e.loss)) {
        throw new LossDiverged(
          `loss became ${e.loss} at step ${e.step}; the last good checkpoint is kept in ${o.outDir}/ ` +
            `(try a lower --lr or --max-grad-norm)`,
        );
      }
      smoothLoss = Number.isNaN(smoothLoss) ? e.loss : 0.98 * smoothLoss + 0.02 * e.loss;
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
    hooks.onProgress?.({
      step: trainer.step,
      totalSteps: o.hyper.totalSteps,
      epoch: Math.floor(trainer.step / trainer.batches.stepsPerEpoch) + 1,
      loss: entries.at(-1)!.loss,
      smoothLoss,
      imagesPerSecond: ips,
      startedAt,
      startStep,
      rateFrom,
    });
    if (rateFrom.step === startStep) rateFrom = { step: trainer.step, at: performance.now() };
  };

  const checkpoint = async (): Promise<string> => {
    await record(); // a non-finite loss must stop the run before it reaches a checkpoint
    const path = join(o.outDir, `ckpt-${pad(trainer.step)}.safetensors`);
    await writeCheckpoint(path, {
      config: o.config,
      classNames: data.classNames,
      step: trainer.step,
      seed: o.hyper.seed,
      datasetHash,
      datasetSource: data.source,
      options: { ...o.hyper },
      elapsed: elapsed(),
      param: await trainer.read("param"),
      ema: await trainer.read("ema"),
      m: await trainer.read("m"),
      v: await trainer.read("v"),
    });
    const old = [...Deno.readDirSync(o.outDir)].map((e) => e.name)
      .filter((name) => CHECKPOINT_NAME.test(name)).sort();
    for (const name of old.slice(0, Math.max(0, old.length - o.keep))) {
      await Deno.remove(join(o.outDir, name));
    }
    return path;
  };

  const sampleGrid = async (): Promise<void> => {
    const k = o.config.num_classes;
    const { images } = await grids.generate({
      ...GENERATE_DEFAULTS,
      classes: Array.from(
        { length: k * SAMPLES_PER_CLASS },
        (_, i) => Math.floor(i / SAMPLES_PER_CLASS),
      ),
      steps: 50,
      seed: 0,
      post: o.gridPost,
    });
    const rows = Array.from(
      { length: k },
      (_, r) => images.slice(r * SAMPLES_PER_CLASS, (r + 1) * SAMPLES_PER_CLASS),
    );
    await writeFileAtomic(
      join(o.outDir, `samples-${pad(trainer.step)}.png`),
      await encodePng(composeSheet(rows, { scale: 4, gap: 2, checker: true })),
    );
    hooks.onSampleGrid?.(rows, trainer.step);
  };

  try {
    while (trainer.step < o.hyper.totalSteps && !stop?.aborted) {
      trainer.runStep();
      const s = trainer.step;
      const last = s === o.hyper.totalSteps;
      if (s % o.logEvery === 0 || last || s === startStep + 1) await record();
      if (s % o.checkpointEvery === 0 || last) await checkpoint();
      if (o.sampleEvery > 0 && (s % o.sampleEvery === 0 || last)) await sampleGrid();
    }
    await record();
    if (stop?.aborted) {
      throw new TrainingStopped(String(stop.reason), trainer.step, await checkpoint());
    }
    const weightsPath = join(o.outDir, "ema.safetensors");
    await writeFileAtomic(
      weightsPath,
      encodeWeights({
        config: o.config,
        classNames: data.classNames,
        layout: trainer.layout,
        flat: await trainer.read("ema"),
        palette: datasetPalette(data),
        provenance: {
          dataset: data.source,
          dataset_hash: datasetHash,
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
    return weightsPath;
  } finally {
    grids.destroy();
    log.close();
  }
}

/**
 * An AbortSignal aborted by the first SIGINT or SIGTERM (its reason is the signal's name), so a
 * run can stop at a step boundary with a checkpoint; `dispose` removes the listeners.
 */
export function stopOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const listeners = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const listener = () => controller.abort(name);
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  return {
    signal: controller.signal,
    dispose: () => listeners.forEach(([name, l]) => Deno.removeSignalListener(name, l)),
  };
}
