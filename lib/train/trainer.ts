/**
 * The training step on the GPU, recorded once and replayed:
 * make_batch → forward → MSE → backward → clip + AdamW + EMA.
 *
 * A step uploads the batch's row indices and two small uniforms and submits;
 * it never waits. The loss and gradient norm of each step are copied into a
 * ring buffer on the GPU, read back only when the caller asks (`drainLog`).
 */

import type { Gpu } from "../gpu/gpu.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, download, upload } from "../gpu/tensor.ts";
import { cosineSchedule } from "../diffusion/schedule.ts";
import { type ModelConfig, paramSpecs } from "../model/config.ts";
import { initParams } from "../model/init.ts";
import { ContextUNet } from "../model/unet.ts";
import { mseForwardBackward } from "../nn/loss.ts";
import { Optimizer } from "../nn/optim.ts";
import { ParamLayout, type ParamRole, ParamStore } from "../nn/params.ts";
import { BatchMaker, type BatchSource } from "./batch.ts";

export interface TrainHyper {
  batch: number;
  lr: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  maxGradNorm: number;
  emaDecay: number;
  pUncond: number;
  flip: boolean;
  seed: number;
  /** Linear warm-up steps (0 = none). */
  warmup: number;
  /** Learning-rate decay after warm-up: constant, or cosine to 0 at `totalSteps`. */
  decay: "none" | "cosine";
  totalSteps: number;
}

/** The original's recipe (batch 128, AdamW 2e-4/1e-4, clip 1, EMA 0.9995, p_uncond 0.1, flips). */
export const RECIPE: Omit<TrainHyper, "totalSteps" | "seed"> = {
  batch: 128,
  lr: 2e-4,
  weightDecay: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  maxGradNorm: 1,
  emaDecay: 0.9995,
  pUncond: 0.1,
  flip: true,
  warmup: 0,
  decay: "none",
};

export function learningRate(h: TrainHyper, step: number): number {
  const warm = h.warmup > 0 ? Math.min(1, (step + 1) / h.warmup) : 1;
  if (h.decay === "none" || step < h.warmup) return h.lr * warm;
  const progress = Math.min(1, (step - h.warmup) / Math.max(1, h.totalSteps - h.warmup));
  return h.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}

export interface LogEntry {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
}

/** Initial state of a run: fresh (seeded init) or the arrays of a checkpoint. */
export interface TrainStart {
  step: number;
  param?: Float32Array;
  ema?: Float32Array;
  m?: Float32Array;
  v?: Float32Array;
}

export class Trainer {
  readonly layout: ParamLayout;
  readonly store: ParamStore;
  readonly model: ContextUNet;
  readonly batches: BatchMaker;
  /** Steps completed. */
  step: number;
  readonly #program: Program;
  readonly #optimizer: Optimizer;
  readonly #lossBuffer: GPUBuffer;
  readonly #ring: GPUBuffer;
  readonly #ringSize: number;
  #pending: { step: number; lr: number }[] = [];

  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    readonly data: BatchSource,
    readonly hyper: TrainHyper,
    start: TrainStart = { step: 0 },
    ringSize = 1024,
  ) {
    this.layout = new ParamLayout(paramSpecs(config));
    this.store = new ParamStore(gpu, this.layout);
    const param = start.param ?? initParams(this.layout, hyper.seed);
    for (
      const [role, data] of [["param", param], ["ema", start.ema ?? param], ["m", start.m], [
        "v",
        start.v,
      ]] as const
    ) {
      if (data) this.#uploadFlat(role, data);
    }
    this.step = start.step;
    this.model = new ContextUNet(gpu, config, this.store, hyper.batch);
    const prog = new Program(gpu, "train.step");
    this.batches = new BatchMaker(
      gpu,
      data,
      cosineSchedule(),
      {
        batch: hyper.batch,
        seed: hyper.seed,
        pUncond: hyper.pUncond,
        flip: hyper.flip,
        nullClass: config.num_classes,
      },
      this.model,
      prog,
    );
    prog.append(this.model.forward);
    const loss = createTensor(gpu, [1], "loss");
    this.#lossBuffer = loss.buffer;
    const { program: backward, deps } = this.model.backward;
    mseForwardBackward(prog, {
      pred: this.model.eps,
      target: this.batches.target,
      dpred: deps,
      loss,
    });
    prog.append(backward);
    const { beta1, beta2, eps, weightDecay, maxGradNorm, emaDecay } = hyper;
    this.#optimizer = new Optimizer(gpu, this.store, {
      beta1,
      beta2,
      eps,
      weightDecay,
      maxGradNorm,
      emaDecay,
    });
    this.#optimizer.record(prog);
    this.#program = prog;
    this.#ringSize = ringSize;
    this.#ring = gpu.device.createBuffer({
      label: "train.log-ring",
      size: ringSize * 8,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
  }

  #uploadFlat(role: ParamRole, data: Float32Array): void {
    if (data.length !== this.layout.size) {
      throw new RangeError(`${role}: ${data.length} values, the layout needs ${this.layout.size}`);
    }
    upload(this.gpu, this.store.flat(role), new Float32Array(data));
  }

  /** Submits one training step; returns at once. Call {@link drainLog} before `ringSize` steps pile up. */
  runStep(): void {
    if (this.#pending.length >= this.#ringSize) {
      throw new Error("drainLog() must run at least every ringSize steps");
    }
    const step = this.step;
    const lr = learningRate(this.hyper, step);
    this.batches.prepare(step);
    this.#optimizer.setStep(step + 1, lr);
    const slot = (step % this.#ringSize) * 8;
    this.gpu.submit((encoder) => {
      const pass = encoder.beginComputePass({ label: "train.step" });
      this.#program.encode(pass);
      pass.end();
      encoder.copyBufferToBuffer(this.#lossBuffer, 0, this.#ring, slot, 4);
      encoder.copyBufferToBuffer(
        this.#optimizer.gradNorm.buffer,
        this.#optimizer.gradNorm.offset * 4,
        this.#ring,
        slot + 4,
        4,
      );
    });
    this.#pending.push({ step, lr });
    this.step++;
  }

  /** Waits for the submitted steps and returns their losses and gradient norms (one round trip). */
  async drainLog(): Promise<LogEntry[]> {
    if (this.#pending.length === 0) return [];
    const staging = this.gpu.device.createBuffer({
      size: this.#ringSize * 8,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.gpu.submit((e) => e.copyBufferToBuffer(this.#ring, 0, staging, 0, this.#ringSize * 8));
    await staging.mapAsync(GPUMapMode.READ);
    await this.gpu.verify();
    const values = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const out = this.#pending.map(({ step, lr }) => {
      const slot = (step % this.#ringSize) * 2;
      return { step: step + 1, loss: values[slot], gradNorm: values[slot + 1], lr };
    });
    this.#pending = [];
    return out;
  }

  /** Copies a flat buffer of the store back (parameters, EMA or moments). */
  read(role: ParamRole): Promise<Float32Array> {
    return download(this.gpu, this.store.flat(role));
  }
}
