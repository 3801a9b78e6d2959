/**
 * Compute pipelines, specialised per shape and cached.
 *
 * Kernels are WGSL files that use constants they do not declare (`C`, `H`, `ACCUM` …);
 * {@link KernelCache.get} prepends the declarations. Shapes baked in as `const`
 * compile to far faster code on llvmpipe than shapes read from a uniform
 * (see ../shared notes: 18 vs 11 GFLOP/s), and real GPUs lose nothing.
 *
 * Creation runs inside a validation error scope, so an invalid kernel is reported
 * with its name, entry point and constants in every host (Deno, browsers), and the
 * cache remembers each variant it made so the whole set can be recompiled elsewhere
 * (tests/kernels_chromium_test.ts compiles it with Chromium's WGSL compiler).
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

/** The WGSL a kernel is compiled as: its constant declarations, then its source. */
export const kernelCode = (source: KernelSource, consts: KernelConsts): string =>
  `${constHeader(consts)}\n${source.code}`;

/** One pipeline the cache created. */
export interface KernelVariant {
  source: KernelSource;
  entry: string;
  consts: KernelConsts;
}

export class KernelCache {
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly #variants: KernelVariant[] = [];
  #pending: Promise<void>[] = [];

  /** `onError` receives one line per invalid kernel: name, entry, constants and the compiler's message. */
  constructor(readonly device: GPUDevice, readonly onError: (message: string) => void) {}

  get size(): number {
    return this.#pipelines.size;
  }

  /** The pipeline of `entry` in `source` with `consts` baked in; created once per key. */
  get(source: KernelSource, entry: string, consts: KernelConsts): GPUComputePipeline {
    const header = constHeader(consts);
    const key = `${source.name}|${entry}|${header}`;
    let pipeline = this.#pipelines.get(key);
    if (pipeline) return pipeline;
    const constsText = header.replaceAll("\n", " ");
    this.device.pushErrorScope("validation");
    const moduleKey = `${source.name}|${header}`;
    let module = this.#modules.get(moduleKey);
    if (!module) {
      module = this.device.createShaderModule({
        label: `${source.name} {${constsText}}`,
        code: kernelCode(source, consts),
      });
      this.#modules.set(moduleKey, module);
    }
    pipeline = this.device.createComputePipeline({
      label: `${source.name}:${entry}`,
      layout: "auto",
      compute: { module, entryPoint: entry },
    });
    this.#pending.push(
      this.device.popErrorScope().then((error) => {
        if (error) {
          // The first line names the problem; the rest is a source excerpt.
          const message = error.message.trim().split("\n")[0];
          this.onError(`kernel ${source.name}:${entry} {${constsText}}: ${message}`);
        }
      }),
    );
    this.#pipelines.set(key, pipeline);
    this.#variants.push({ source, entry, consts });
    return pipeline;
  }

  /** Every (kernel, entry, constants) created so far, in creation order. */
  get variants(): readonly KernelVariant[] {
    return this.#variants;
  }

  /** Waits until every kernel created so far has been validated (and any error reported). */
  async settled(): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    await Promise.all(pending);
  }
}
