/** The GPU layer: device, kernels, tensors and recorded programs. */
export * from "./device.ts";
export * from "./kernel.ts";
export * from "./program.ts";
export * from "./tensor.ts";
