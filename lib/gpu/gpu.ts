/**
 * The Gpu: a WebGPU device with the kernel cache every layer shares, and the checks
 * that keep WebGPU errors from passing silently. Host-neutral: Deno and browsers
 * reach it through {@link openGpu}; device.ts is Deno's way in.
 *
 * The device asks for the adapter's own maximum buffer limits, so a CPU fallback
 * (Mesa llvmpipe) and a discrete GPU both get all the memory they can address.
 * Pipelines and readbacks live on {@link Gpu}; everything else takes a `Gpu`.
 */

import { KernelCache } from "./kernel.ts";

/** Raised when no usable WebGPU adapter exists (the CLI exits with code 2; a page says so). */
export class NoAdapterError extends Error {
  constructor() {
    super(
      "no WebGPU adapter found: install a Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`, " +
        "which includes the lavapipe CPU fallback) or run on a machine with a GPU",
    );
  }
}

/** A WebGPU validation or out-of-memory error raised by work run in {@link Gpu.scoped}. */
export class GpuError extends Error {
  constructor(message: string) {
    super(`WebGPU error: ${message}`);
    this.name = "GpuError";
  }
}

/** What `main.ts info` reports about the adapter. */
export interface AdapterSummary {
  description: string;
  vendor: string;
  architecture: string;
  isFallbackAdapter: boolean;
  features: string[];
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupsPerDimension: number;
}

/** A WebGPU device plus the kernel cache every layer shares. */
export class Gpu {
  readonly kernels: KernelCache;
  /** Set when the device is lost; checked before each submit. */
  lostReason: string | null = null;
  /** The first WebGPU error (an invalid kernel, a bad binding); {@link check} throws it. */
  firstError: string | null = null;

  constructor(readonly device: GPUDevice, readonly adapter: AdapterSummary) {
    this.kernels = new KernelCache(device, (message) => this.firstError ??= message);
    device.addEventListener("uncapturederror", (event) => {
      this.firstError ??= (event as GPUUncapturedErrorEvent).error.message.trim();
    });
    device.lost.then((info) => {
      this.lostReason = `${info.reason}: ${info.message}`;
      if (info.reason !== "destroyed") {
        console.error(`error: WebGPU device lost (${this.lostReason})`);
      }
    });
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** Largest single storage binding in bytes; batches are sized against it. */
  get maxBinding(): number {
    return Math.min(
      this.device.limits.maxStorageBufferBindingSize,
      this.device.limits.maxBufferSize,
    );
  }

  submit(encode: (encoder: GPUCommandEncoder) => void): void {
    this.check();
    const encoder = this.device.createCommandEncoder();
    encode(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Waits for all submitted work; costs one queue round trip (~11 ms on llvmpipe). */
  async sync(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    await this.verify();
  }

  /** Like {@link check}, after every kernel created so far has been validated. */
  async verify(): Promise<void> {
    await this.kernels.settled();
    this.check();
  }

  /**
   * Runs `work` inside WebGPU error scopes and throws {@link GpuError} if it caused a validation
   * or out-of-memory error. Errors caught here do not reach {@link firstError}, so one failed
   * request (a server's, say) does not fail every request after it.
   */
  async scoped<T>(work: () => Promise<T>): Promise<T> {
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    let result: { value: T } | { error: unknown };
    try {
      result = { value: await work() };
    } catch (error) {
      result = { error };
    }
    const validation = await this.device.popErrorScope();
    const memory = await this.device.popErrorScope();
    const gpuError = validation ?? memory;
    if (gpuError) throw new GpuError(gpuError.message.trim());
    if ("error" in result) throw result.error;
    return result.value;
  }

  /**
   * Throws if the device was lost or WebGPU reported an error: results after either are garbage.
   * Kernel validation is asynchronous; results read back go through {@link verify}.
   */
  check(): void {
    if (this.lostReason) throw new Error(`WebGPU device lost (${this.lostReason})`);
    if (this.firstError) throw new Error(`WebGPU error: ${this.firstError}`);
  }

  destroy(): void {
    this.device.destroy();
  }
}

/** A device on the best adapter `webgpu` (a host's `navigator.gpu`) offers; NoAdapterError if none. */
export async function openGpu(webgpu: GPU | undefined): Promise<Gpu> {
  if (!webgpu) throw new NoAdapterError();
  const adapter = await webgpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new NoAdapterError();
  const l = adapter.limits;
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has("timestamp-query")) requiredFeatures.push("timestamp-query");
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  });
  const info = adapter.info;
  return new Gpu(device, {
    // Browsers leave the description empty (fingerprinting); vendor and architecture remain.
    description: info.description || info.device ||
      [info.vendor, info.architecture].filter(Boolean).join(" ") || "unknown adapter",
    vendor: info.vendor,
    architecture: info.architecture,
    isFallbackAdapter: info.isFallbackAdapter ?? false,
    features: [...adapter.features].sort(),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
  });
}
