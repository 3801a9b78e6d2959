/**
 * Deno's way to the GPU (the host adapter; a browser page opens its own with
 * {@link openGpu}): the process-wide device, with Mesa quietened.
 */

import { type Gpu, openGpu } from "./gpu.ts";

export { type AdapterSummary, Gpu, GpuError, NoAdapterError, openGpu } from "./gpu.ts";

let shared: Promise<Gpu> | null = null;

/** Returns the process-wide GPU, creating it on first use. */
export function getGpu(): Promise<Gpu> {
  shared ??= requestGpu();
  return shared;
}

/** A new device of its own (most callers want the shared one, {@link getGpu}). */
export function requestGpu(): Promise<Gpu> {
  // Mesa's WSI probing prints a warning when XDG_RUNTIME_DIR is unset, although compute needs no display.
  if (!Deno.env.get("XDG_RUNTIME_DIR")) Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync());
  return openGpu((navigator as Navigator & { gpu?: GPU }).gpu);
}
