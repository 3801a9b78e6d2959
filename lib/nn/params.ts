/**
 * One flat buffer for all parameters, llm.c style.
 *
 * A model declares its named tensors once; each gets an aligned slice of the
 * parameter buffer and the same slice of the gradient, AdamW-moment and EMA
 * buffers. The optimiser, clipping and EMA then run as single kernels over the
 * whole buffer, and checkpoints are five contiguous arrays. Padding between
 * slices is zero and stays zero (its gradient is always zero).
 */

import type { Gpu } from "../gpu/gpu.ts";
import { alignUp, numel, STORAGE, type Tensor } from "../gpu/tensor.ts";

export interface ParamSpec {
  name: string;
  shape: readonly number[];
}

export interface ParamEntry extends ParamSpec {
  /** Offset in elements into every buffer of the store. */
  offset: number;
}

/** The layout of named tensors in the flat buffers. */
export class ParamLayout {
  readonly entries: readonly ParamEntry[];
  readonly #byName = new Map<string, ParamEntry>();
  /** Total elements including alignment padding (a multiple of 4). */
  readonly size: number;
  /** Real parameter count, padding excluded. */
  readonly count: number;

  constructor(specs: readonly ParamSpec[]) {
    let offset = 0;
    const entries: ParamEntry[] = [];
    for (const s of specs) {
      if (this.#byName.has(s.name)) throw new Error(`duplicate parameter name ${s.name}`);
      const e = { ...s, offset };
      entries.push(e);
      this.#byName.set(s.name, e);
      offset = alignUp(offset + numel(s.shape));
    }
    this.entries = entries;
    this.size = Math.max(offset, 64);
    this.count = specs.reduce((a, s) => a + numel(s.shape), 0);
  }

  get(name: string): ParamEntry {
    const e = this.#byName.get(name);
    if (!e) throw new Error(`no parameter named ${name}`);
    return e;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }
}

/** Which flat buffer of the store a view refers to. */
export type ParamRole = "param" | "grad" | "m" | "v" | "ema";

/**
 * GPU buffers for one {@link ParamLayout}: parameters, gradients, AdamW moments,
 * EMA. Each is created on first use, so sampling allocates only the parameters.
 */
export class ParamStore {
  readonly #buffers: Map<ParamRole, GPUBuffer>;

  constructor(readonly gpu: Gpu, readonly layout: ParamLayout, shared?: Map<ParamRole, GPUBuffer>) {
    const bytes = layout.size * 4;
    if (bytes > gpu.maxBinding) {
      throw new RangeError(
        `parameters need ${bytes} bytes, over maxStorageBufferBindingSize ${gpu.maxBinding}`,
      );
    }
    this.#buffers = shared ?? new Map();
  }

  /** The flat buffer of `role`, zero-filled when first asked for. */
  buffer(role: ParamRole): GPUBuffer {
    let b = this.#buffers.get(role);
    if (!b) {
      b = this.gpu.device.createBuffer({ label: role, size: this.layout.size * 4, usage: STORAGE });
      this.#buffers.set(role, b);
    }
    return b;
  }

  /** The same buffers with `role` serving as the parameters (e.g. to sample from the EMA). */
  asParams(role: ParamRole): ParamStore {
    const shared = new Map(this.#buffers);
    shared.set("param", this.buffer(role));
    return new ParamStore(this.gpu, this.layout, shared);
  }

  /** The view of parameter `name` in buffer `role`. */
  view(name: string, role: ParamRole = "param"): Tensor {
    const e = this.layout.get(name);
    return {
      buffer: this.buffer(role),
      offset: e.offset,
      shape: e.shape,
      label: `${role}:${name}`,
    };
  }

  /** The whole flat buffer of `role` as one tensor. */
  flat(role: ParamRole): Tensor {
    return { buffer: this.buffer(role), offset: 0, shape: [this.layout.size], label: role };
  }

  destroy(): void {
    for (const b of this.#buffers.values()) b.destroy();
    this.#buffers.clear();
  }
}
