/**
 * Every kernel variant the program creates (tests/kernel_set.ts) must be valid WGSL
 * for Chromium's compiler (Tint) too, not only for Deno's (naga): Tint rejects, for
 * instance, an integer division by a constant zero even in an entry point that never
 * runs it.
 *
 * In headless Chromium, on a device with the limits the program asks for (the
 * adapter's own), every module is created and its compilation messages read
 * (createShaderModule + getCompilationInfo: the whole WGSL validation, constants
 * included), and a compute pipeline is created (createComputePipelineAsync: the
 * entry point's resource limits and the backend compile) for the first variant of
 * each (kernel, entry point, boolean constants). Creating every pipeline costs
 * SwiftShader 1–2 s each on this (shared, 2-core) machine, half an hour for the set;
 * `KERNEL_PIPELINES=all` does it anyway. The default run takes about a minute here
 * (1,302 modules, one per entry point; 74 pipelines). A failure names the kernel, the
 * entry point, the constants and Chromium's message.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { requestGpu } from "../lib/gpu/device.ts";
import { browserSkipReason, Chromium } from "./chromium.ts";
import { buildPrograms, checkedConfigs, type KernelModule, kernelModules } from "./kernel_set.ts";

/** What the page compiles: the modules, and per module whether to make its pipeline. */
interface CompileJob {
  modules: KernelModule[];
  pipelines: boolean[];
}

interface CompileReport {
  failures: string[];
  modules: number;
  pipelines: number;
  adapter: string;
}

/** Runs in the page (serialised with toString): compiles the job, one line per failure. */
async function compileInPage(job: CompileJob): Promise<CompileReport | string> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return "navigator.gpu is missing";
  const adapter = await gpu.requestAdapter();
  if (!adapter) return "requestAdapter() returned null";
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
    },
  });
  const failures: string[] = [];
  device.addEventListener("uncapturederror", (e) => {
    failures.push(`uncaptured: ${(e as GPUUncapturedErrorEvent).error.message}`);
  });
  const firstLine = (text: string) => text.trim().split("\n")[0];
  let pipelines = 0;
  for (const [i, m] of job.modules.entries()) {
    const where = `${m.name}:${m.entry} {${m.consts}}`;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: m.name, code: m.code });
    const errors = (await module.getCompilationInfo()).messages.filter((e) => e.type === "error");
    const scoped = await device.popErrorScope();
    for (const e of errors) failures.push(`${where}: ${e.lineNum}:${e.linePos}: ${e.message}`);
    if (scoped && errors.length === 0) failures.push(`${where}: ${firstLine(scoped.message)}`);
    if (scoped || errors.length > 0) continue;
    if (!job.pipelines[i]) continue;
    pipelines++;
    try {
      await device.createComputePipelineAsync({
        layout: "auto",
        compute: { module, entryPoint: m.entry },
      });
    } catch (e) {
      failures.push(`${where}: ${firstLine(String(e))}`);
    }
  }
  await device.queue.onSubmittedWorkDone();
  const info = adapter.info;
  return {
    failures,
    modules: job.modules.length,
    pipelines,
    adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
  };
}

/**
 * Pipelines for the first module of each (kernel, entry point, boolean constants): the flags
 * decide which code is live for the backend compiler. With `all`, for every module.
 */
function compileJob(modules: KernelModule[], all: boolean): CompileJob {
  const seen = new Set<string>();
  const pipelines = modules.map((m) => {
    const flags = [...m.consts.matchAll(/const (\w+) = (true|false);/g)].map((f) => f[0]).join("");
    const key = `${m.name}:${m.entry}:${flags}`;
    if (!all && seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { modules, pipelines };
}

const skip = browserSkipReason();
if (skip) console.warn(`kernels_chromium_test: ${skip}`);

Deno.test({
  name: "kernels: every variant that sampling and training create compiles in Chromium",
  ignore: skip !== null,
  async fn() {
    const gpu = await requestGpu();
    try {
      for (const { config } of checkedConfigs()) await buildPrograms(gpu, config);
      await gpu.verify();
    } finally {
      gpu.destroy();
    }
    const modules = kernelModules(gpu.kernels.variants);
    const job = compileJob(modules, Deno.env.get("KERNEL_PIPELINES") === "all");
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response("<!doctype html><title>kernels</title>", {
          headers: { "content-type": "text/html" },
        }),
    );
    const browser = await Chromium.launch();
    try {
      await browser.goto(`http://127.0.0.1:${server.addr.port}/`);
      const report = await browser.evaluate<CompileReport | string>(
        `(${compileInPage.toString()})(${JSON.stringify(job)})`,
      );
      if (typeof report === "string") throw new Error(`no WebGPU in Chromium: ${report}`);
      console.log(
        `Chromium (${report.adapter}): ${report.modules} modules, ${report.pipelines} pipelines`,
      );
      ok(report.modules === modules.length && report.pipelines > 0, "nothing was compiled");
      deepStrictEqual(report.failures, [], `${report.failures.length} kernels fail in Chromium`);
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
