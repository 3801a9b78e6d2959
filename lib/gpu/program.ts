/**
 * A Program is a recorded list of dispatches, replayed as one compute pass.
 *
 * Layers append their dispatches once, when a model is built for a batch size;
 * pipelines and bind groups are created then, never per step. A training or
 * sampling step is `program.encode(pass)` plus small `writeBuffer`s.
 */

import type { Gpu } from "./gpu.ts";
import type { KernelConsts, KernelSource } from "./kernel.ts";
import { binding, createTensor, type Tensor } from "./tensor.ts";

/** What a binding slot takes: a tensor view, or a whole buffer (uniforms). */
export type Resource = Tensor | GPUBuffer;

/** What a recorded dispatch runs: for profiles and tests, which group dispatches by kernel. */
export interface DispatchInfo {
  kernel: string;
  entry: string;
  consts: KernelConsts;
  groups: readonly [number, number, number];
}

interface Dispatch extends DispatchInfo {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
}

const isTensor = (r: Resource): r is Tensor => "shape" in r;

/** Splits a 1-D workgroup count over x and y when it exceeds the per-dimension limit. */
export function grid1d(gpu: Gpu, workgroups: number): [number, number, number] {
  const max = gpu.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups <= max) return [workgroups, 1, 1];
  return [max, Math.ceil(workgroups / max), 1];
}

export class Program {
  readonly #dispatches: Dispatch[] = [];
  /** Buffers only this program's dispatches use (repacked weights, partial sums). */
  readonly #scratch: Tensor[] = [];

  constructor(readonly gpu: Gpu, readonly label: string) {}

  get length(): number {
    return this.#dispatches.length;
  }

  /**
   * Records one dispatch of `entry`. `resources[i]` is bound at `@binding(i)` of
   * group 0; `undefined` leaves a slot out (for entry points that do not use it).
   */
  add(
    source: KernelSource,
    entry: string,
    consts: KernelConsts,
    resources: readonly (Resource | undefined)[],
    groups: number | [number, number, number],
  ): void {
    const entries: GPUBindGroupEntry[] = [];
    resources.forEach((r, i) => {
      if (r) entries.push({ binding: i, resource: isTensor(r) ? binding(r) : { buffer: r } });
    });
    const slots = entries.map((e) => e.binding);
    const pipeline = this.gpu.kernels.get(source, entry, consts, slots);
    const bindGroup = this.gpu.device.createBindGroup({
      label: `${this.label}/${source.name}:${entry}`,
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    const g: [number, number, number] = typeof groups === "number"
      ? grid1d(this.gpu, groups)
      : groups;
    if (g.some((n) => n < 1 || !Number.isInteger(n))) {
      throw new RangeError(`${source.name}:${entry}: bad workgroup count ${g}`);
    }
    this.#dispatches.push({ kernel: source.name, entry, consts, pipeline, bindGroup, groups: g });
  }

  /** The recorded dispatches, in replay order. */
  get dispatches(): readonly DispatchInfo[] {
    return this.#dispatches;
  }

  /**
   * A program that replays only the dispatches `keep` selects, on the same buffers
   * (a profile times each layer family this way). It owns no scratch buffers.
   */
  select(keep: (d: DispatchInfo) => boolean, label = this.label): Program {
    const p = new Program(this.gpu, label);
    p.#dispatches.push(...this.#dispatches.filter(keep));
    return p;
  }

  /** A buffer for intermediate results of the dispatches being recorded; freed by `destroy`. */
  scratch(shape: readonly number[], label: string): Tensor {
    const t = createTensor(this.gpu, shape, label);
    this.#scratch.push(t);
    return t;
  }

  /** Frees the scratch buffers. A program that `append`ed this one must not run afterwards. */
  destroy(): void {
    for (const t of this.#scratch) t.buffer.destroy();
    this.#scratch.length = 0;
  }

  /** Appends all of `other`'s dispatches (used to compose forward and backward). */
  append(other: Program): void {
    this.#dispatches.push(...other.#dispatches);
  }

  encode(pass: GPUComputePassEncoder): void {
    for (const d of this.#dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    }
  }

  /** Submits the program as one pass (does not wait). */
  run(): void {
    this.gpu.submit((encoder) => {
      const pass = encoder.beginComputePass({ label: this.label });
      this.encode(pass);
      pass.end();
    });
  }
}
