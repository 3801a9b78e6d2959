/**
 * Compute pipelines, specialised per shape and cached.
 *
 * Kernels are WGSL files that use constants they do not declare (`C`, `H`, `ACCUM` …);
 * {@link KernelCache.get} prepends the declarations. Shapes baked in as `const`
 * compile to far faster code on llvmpipe than shapes read from a uniform
 * (see ../shared notes: 18 vs 11 GFLOP/s), and real GPUs lose nothing.
 *
 * Pipelines get explicit layouts: exactly the slots a dispatch binds, typed by the
 * kernel's own `@binding` declarations. With "auto" layouts a caller would have to bind
 * precisely what the compiled code reads, which changes with the constants once their
 * branches are removed (const_if.ts).
 *
 * Creation runs inside a validation error scope, so an invalid kernel is reported
 * with its name, entry point and constants in every host (Deno, browsers), and the
 * cache remembers each variant it made so the whole set can be recompiled elsewhere
 * (tests/kernels_chromium_test.ts compiles it with Chromium's WGSL compiler).
 */

import { pruneConstantIfs } from "./const_if.ts";
import { blankComments, functionsOf, namesReachedFrom, withoutUnreachable } from "./wgsl_text.ts";

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

/**
 * The WGSL an entry point of a kernel is compiled as: its constant declarations, then its
 * source with the branches its constants decide already taken (see const_if.ts) and without
 * the functions the entry point then does not reach.
 */
export const kernelCode = (source: KernelSource, consts: KernelConsts, entry: string): string =>
  `${constHeader(consts)}\n${withoutUnreachable(pruneConstantIfs(source.code, consts), entry)}`;

/** One pipeline the cache created. */
export interface KernelVariant {
  source: KernelSource;
  entry: string;
  consts: KernelConsts;
}

const DECLARATION =
  /@group\(0\)\s*@binding\((\d+)\)\s*var<(storage|uniform)\s*(?:,\s*(read_write|read))?\s*>\s*(\w+)/g;

/**
 * The buffer binding type of each slot of group 0 that `entry` reaches, read from the
 * source as written (before any branch is removed): the entry's function, the functions it
 * calls, and the variables they name. This is the layout "auto" gives the unpruned kernel.
 */
export function bindingTypes(
  source: KernelSource,
  entry: string,
): Map<number, GPUBufferBindingType> {
  const code = blankComments(source.code);
  const functions = functionsOf(code);
  if (!functions.has(entry)) throw new Error(`kernel ${source.name} has no function ${entry}`);
  const named = namesReachedFrom(functions, entry);
  const types = new Map<number, GPUBufferBindingType>();
  for (const [, slot, space, access, name] of code.matchAll(DECLARATION)) {
    if (!named.has(name)) continue;
    if (types.has(Number(slot))) {
      throw new Error(`kernel ${source.name}:${entry} uses two variables of @binding(${slot})`);
    }
    const type = space === "uniform"
      ? "uniform"
      : access === "read_write"
      ? "storage"
      : "read-only-storage";
    types.set(Number(slot), type);
  }
  return types;
}

export class KernelCache {
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly #layouts = new Map<string, GPUPipelineLayout>();
  readonly #variants: KernelVariant[] = [];
  #pending: Promise<void>[] = [];

  /** `onError` receives one line per invalid kernel: name, entry, constants and the compiler's message. */
  constructor(readonly device: GPUDevice, readonly onError: (message: string) => void) {}

  get size(): number {
    return this.#pipelines.size;
  }

  /**
   * The pipeline of `entry` in `source` with `consts` baked in; created once per key.
   * `slots`: the bindings of group 0 a dispatch will bind (a layout of just those);
   * without them the layout is "auto".
   */
  get(
    source: KernelSource,
    entry: string,
    consts: KernelConsts,
    slots?: readonly number[],
  ): GPUComputePipeline {
    const header = constHeader(consts);
    const key = `${source.name}|${entry}|${header}|${slots ?? "auto"}`;
    let pipeline = this.#pipelines.get(key);
    if (pipeline) return pipeline;
    const constsText = header.replaceAll("\n", " ");
    this.device.pushErrorScope("validation");
    // One module per entry point: each holds only the code its entry point reaches.
    const moduleKey = `${source.name}|${entry}|${header}`;
    let module = this.#modules.get(moduleKey);
    if (!module) {
      module = this.device.createShaderModule({
        label: `${source.name}:${entry} {${constsText}}`,
        code: kernelCode(source, consts, entry),
      });
      this.#modules.set(moduleKey, module);
    }
    pipeline = this.device.createComputePipeline({
      label: `${source.name}:${entry}`,
      layout: slots ? this.#layout(source, entry, slots) : "auto",
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

  #layout(source: KernelSource, entry: string, slots: readonly number[]): GPUPipelineLayout {
    const key = `${source.name}|${entry}|${slots}`;
    let layout = this.#layouts.get(key);
    if (layout) return layout;
    const types = bindingTypes(source, entry);
    const entries = slots.map((slot): GPUBindGroupLayoutEntry => {
      const type = types.get(slot);
      if (!type) throw new Error(`kernel ${source.name}:${entry} does not use @binding(${slot})`);
      return { binding: slot, visibility: GPUShaderStage.COMPUTE, buffer: { type } };
    });
    layout = this.device.createPipelineLayout({
      label: `${source.name}:${entry} [${slots}]`,
      bindGroupLayouts: [this.device.createBindGroupLayout({ entries })],
    });
    this.#layouts.set(key, layout);
    return layout;
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
