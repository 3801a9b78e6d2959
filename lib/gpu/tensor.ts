/**
 * Tensors: typed views (offset, shape) into GPU buffers.
 *
 * Every view starts on a 256-byte boundary, the strictest
 * `minStorageBufferOffsetAlignment` WebGPU allows, so any view can be bound on
 * any adapter. Activations get a buffer each; parameters share one buffer
 * (see ../nn/params.ts).
 */

import type { Gpu } from "./gpu.ts";

/** Elements per 256-byte alignment unit of f32 data. */
export const ALIGN_ELEMENTS = 64;

export const alignUp = (n: number, to = ALIGN_ELEMENTS): number => Math.ceil(n / to) * to;

export interface Tensor {
  readonly buffer: GPUBuffer;
  /** Offset in elements (4 bytes each); a multiple of {@link ALIGN_ELEMENTS}. */
  readonly offset: number;
  readonly shape: readonly number[];
  readonly label: string;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const sizeOf = (t: Tensor): number => numel(t.shape);

/** The binding of a tensor (bound size rounded up to 16 bytes so vec4 arrays fit). */
export function binding(t: Tensor): GPUBufferBinding {
  return { buffer: t.buffer, offset: t.offset * 4, size: alignUp(sizeOf(t), 4) * 4 };
}

export const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A fresh zero-filled tensor in a buffer of its own. */
export function createTensor(gpu: Gpu, shape: readonly number[], label: string): Tensor {
  const n = numel(shape);
  const bytes = alignUp(Math.max(n, 4), 4) * 4;
  if (bytes > gpu.maxBinding) {
    throw new RangeError(
      `tensor ${label} [${shape.join("×")}] needs ${bytes} bytes, over this adapter's ` +
        `maxStorageBufferBindingSize of ${gpu.maxBinding}`,
    );
  }
  const buffer = gpu.device.createBuffer({ label, size: bytes, usage: STORAGE });
  return { buffer, offset: 0, shape, label };
}

/** A view of `t` with another shape of the same or fewer elements. */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  if (numel(shape) > sizeOf(t)) {
    throw new RangeError(`reshape of ${t.label} to [${shape}] is too large`);
  }
  return { ...t, shape };
}

export function upload(gpu: Gpu, t: Tensor, data: Float32Array | Int32Array | Uint32Array): void {
  if (data.length !== sizeOf(t)) {
    throw new RangeError(`upload to ${t.label}: ${data.length} values for shape [${t.shape}]`);
  }
  // Never a SharedArrayBuffer here; the cast only narrows the view's buffer type.
  gpu.device.queue.writeBuffer(t.buffer, t.offset * 4, data as Float32Array<ArrayBuffer>);
}

/** Copies `t` back to the CPU. One queue round trip: never call inside a step. */
export async function download(gpu: Gpu, t: Tensor): Promise<Float32Array> {
  const bytes = alignUp(sizeOf(t), 4) * 4;
  const staging = gpu.device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  gpu.submit((e) => e.copyBufferToBuffer(t.buffer, t.offset * 4, staging, 0, bytes));
  await staging.mapAsync(GPUMapMode.READ);
  await gpu.verify();
  const out = new Float32Array(staging.getMappedRange().slice(0, sizeOf(t) * 4));
  staging.unmap();
  staging.destroy();
  return out;
}

/** Like {@link download}, reinterpreting the bits as 32-bit integers. */
export async function downloadInt(gpu: Gpu, t: Tensor): Promise<Int32Array> {
  const f = await download(gpu, t);
  return new Int32Array(f.buffer);
}

/** The tensors of one model (activations, gradients), created at record time and freed together. */
export class TensorPool {
  readonly #owned: Tensor[] = [];

  constructor(readonly gpu: Gpu) {}

  create(shape: readonly number[], label: string): Tensor {
    const t = createTensor(this.gpu, shape, label);
    this.#owned.push(t);
    return t;
  }

  destroy(): void {
    for (const t of this.#owned) t.buffer.destroy();
    this.#owned.length = 0;
  }
}

export const hasShape = (t: Tensor, shape: readonly number[]): boolean =>
  t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);

/** Throws a RangeError naming `what` and the tensor unless `t` has exactly `shape`. */
export function expectShape(t: Tensor, shape: readonly number[], what: string): void {
  if (!hasShape(t, shape)) {
    throw new RangeError(`${what} ${t.label} is [${t.shape}], expected [${shape}]`);
  }
}
