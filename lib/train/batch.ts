/**
 * Training batches built on the GPU.
 *
 * The whole dataset lives on the GPU; a step uploads only its row indices and a
 * 16-byte uniform, and one kernel draws t, the label dropout, the flip and the
 * noise from (seed, step) and writes x_t, the target ε, t/T and the labels.
 * Row order is a seeded permutation per epoch, so the batch of step s is a pure
 * function of (seed, s): that is what makes resume exact.
 */

import type { Gpu } from "../gpu/gpu.ts";
import { Program } from "../gpu/program.ts";
import { createTensor, numel, type Tensor, upload } from "../gpu/tensor.ts";
import type { Schedule } from "../diffusion/schedule.ts";
import { mulberry32 } from "../util/rng.ts";
import type { KernelSource } from "../gpu/kernel.ts";
import random from "../../kernels/random.wgsl" with { type: "text" };
import code from "../../kernels/batch.wgsl" with { type: "text" };

/** make_batch with the random-number functions it shares with the sampler. */
const BATCH_KERNEL: KernelSource = { name: "batch", code: `${random}\n${code}` };

/** The dataset fields the batch maker needs (see lib/data). */
export interface BatchSource {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  channels: number;
  size: number;
}

/** The dataset rows of epoch `epoch`, a Fisher–Yates shuffle seeded by (seed, epoch). */
export function epochPermutation(count: number, seed: number, epoch: number): Uint32Array {
  const rand = mulberry32((seed * 0x9e3779b1) ^ (epoch * 0x85ebca6b));
  const p = Uint32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export interface BatchOptions {
  batch: number;
  seed: number;
  pUncond: number;
  flip: boolean;
  nullClass: number;
}

export class BatchMaker {
  readonly stepsPerEpoch: number;
  readonly target: Tensor;
  readonly #indices: Tensor;
  readonly #uniform: GPUBuffer;
  #cachedEpoch = -1;
  #perm: Uint32Array = new Uint32Array();

  constructor(
    readonly gpu: Gpu,
    readonly data: BatchSource,
    readonly schedule: Schedule,
    readonly opts: BatchOptions,
    out: { x: Tensor; tfrac: Tensor; labels: Tensor },
    prog: Program,
  ) {
    if (data.count < opts.batch) {
      throw new RangeError(
        `the dataset has ${data.count} sprites, fewer than the batch size ${opts.batch}`,
      );
    }
    // Drop the last partial batch, so every epoch has the same number of full steps.
    this.stepsPerEpoch = Math.floor(data.count / opts.batch);
    const chw = data.channels * data.size * data.size;
    const images = createTensor(gpu, [data.count, chw], "dataset.images");
    upload(gpu, images, new Float32Array(data.images));
    const labels = createTensor(gpu, [data.count], "dataset.labels");
    upload(gpu, labels, new Int32Array(data.labels));
    const sched = createTensor(gpu, [2, schedule.T], "schedule");
    const table = new Float32Array(2 * schedule.T);
    schedule.alphaBar.forEach((ab, t) => {
      table[t] = Math.sqrt(ab);
      table[schedule.T + t] = Math.sqrt(1 - ab);
    });
    upload(gpu, sched, table);
    this.#indices = createTensor(gpu, [opts.batch], "batch.indices");
    this.target = createTensor(gpu, out.x.shape, "batch.target");
    this.#uniform = gpu.device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    prog.add(
      BATCH_KERNEL,
      "make_batch",
      {
        N: opts.batch,
        CHW: chw,
        W: data.size,
        T: schedule.T,
        NULL_CLASS: opts.nullClass,
        FLIP: opts.flip,
      },
      [
        this.#uniform,
        images,
        labels,
        this.#indices,
        sched,
        out.x,
        this.target,
        out.tfrac,
        out.labels,
      ],
      Math.ceil(numel(out.x.shape) / 64),
    );
  }

  /** The dataset rows of step `step` (0-based). */
  rows(step: number): Uint32Array {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    if (epoch !== this.#cachedEpoch) {
      this.#perm = epochPermutation(this.data.count, this.opts.seed, epoch);
      this.#cachedEpoch = epoch;
    }
    const start = (step % this.stepsPerEpoch) * this.opts.batch;
    return this.#perm.slice(start, start + this.opts.batch);
  }

  /** Uploads what the recorded make_batch dispatch needs for step `step`. */
  prepare(step: number): void {
    upload(this.gpu, this.#indices, this.rows(step));
    const u = new ArrayBuffer(16);
    new Uint32Array(u, 0, 2).set([this.opts.seed >>> 0, step >>> 0]);
    new Float32Array(u, 8, 1)[0] = this.opts.pUncond;
    this.gpu.device.queue.writeBuffer(this.#uniform, 0, u);
  }
}
