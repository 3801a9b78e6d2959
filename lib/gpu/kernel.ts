/**
 * Compute pipelines, specialised per shape and cached.
 *
 * Kernels are WGSL files that use constants they do not declare (`C`, `H`, `ACCUM` …);
 * {@link KernelCache.get} prepends the declarations. Shapes baked in as `const`
 * compile to far faster code on llvmpipe than shapes read from a uniform
 * (see ../shared notes: 18 vs 11 GFLOP/s), and real GPUs lose nothing.
 */

/** Values baked into a kernel as WGSL abstract constants. */
export type KernelConsts = Readonly<Record<string, number | boolean>>;

/** A WGSL source with a name used in labels and error messages. */
export interface KernelSource {
  name: string;
  code: string;
}

function constLine(name: string, value: number | boolean): string {
  if (typeof value === "boolean") return `const ${name} = ${value};`;
  if (!Number.isFinite(value)) throw new Error(`kernel constant ${name} is not finite: ${value}`);
  // Integers stay abstract-int so they serve as u32, i32 or f32; others are abstract floats.
  const text = Number.isInteger(value) ? String(value) : value.toExponential(9);
  return `const ${name} = ${text};`;
}

/** Renders the constant header a kernel is compiled with (exported for tests and debugging). */
export function constHeader(consts: KernelConsts): string {
  return Object.keys(consts).sort().map((k) => constLine(k, consts[k])).join("\n");
}

export class KernelCache {
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #modules = new Map<string, GPUShaderModule>();

  constructor(readonly device: GPUDevice) {}

  get size(): number {
    return this.#pipelines.size;
  }

  /** The pipeline of `entry` in `source` with `consts` baked in; created once per key. */
  get(source: KernelSource, entry: string, consts: KernelConsts): GPUComputePipeline {
    const header = constHeader(consts);
    const key = `${source.name}|${entry}|${header}`;
    let pipeline = this.#pipelines.get(key);
    if (pipeline) return pipeline;
    const moduleKey = `${source.name}|${header}`;
    let module = this.#modules.get(moduleKey);
    if (!module) {
      module = this.device.createShaderModule({
        label: `${source.name} {${header.replaceAll("\n", " ")}}`,
        code: `${header}\n${source.code}`,
      });
      this.#modules.set(moduleKey, module);
    }
    pipeline = this.device.createComputePipeline({
      label: `${source.name}:${entry}`,
      layout: "auto",
      compute: { module, entryPoint: entry },
    });
    this.#pipelines.set(key, pipeline);
    return pipeline;
  }
}
