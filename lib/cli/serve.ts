/**
 * `serve`: the web app — the page with the live fade-in and the JSON API it
 * uses — on `Deno.serve`, bound to loopback unless told otherwise. Ctrl-C (or
 * SIGTERM) cancels the jobs, ends their event streams and stops cleanly.
 */

import { getGpu } from "../gpu/device.ts";
import { Generator } from "../generate/generator.ts";
import { type RunningServer, startServer } from "../serve/server.ts";
import { stopOnSignals } from "../train/loop.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import { helpText, numberOption, parseOptions } from "./options.ts";
import { openWeights } from "./weights.ts";

export const SERVE_DEFAULTS = {
  port: 8000,
  host: "127.0.0.1",
  maxQueue: 16,
  maxSprites: 64,
  maxSeconds: 600,
} as const;

const OPTIONS = {
  port: {
    value: "PORT",
    help: `port to listen on (default ${SERVE_DEFAULTS.port}; 0 = any free port)`,
  },
  host: {
    value: "HOST",
    help: `address to bind (default ${SERVE_DEFAULTS.host}: this machine only;\n` +
      "0.0.0.0 opens it to the network)",
  },
  weights: { value: "FILE", help: "weights (.safetensors); default: the shipped weights" },
  "max-queue": {
    value: "N",
    help: `jobs that may wait behind the running one (default ${SERVE_DEFAULTS.maxQueue});\n` +
      "more are refused with 429 and Retry-After",
  },
  "max-sprites": {
    value: "N",
    help:
      `sprites one request may draw (default ${SERVE_DEFAULTS.maxSprites}, or fewer if the\nadapter fits fewer)`,
  },
  "max-seconds": {
    value: "S",
    help: `a running job is stopped after S seconds (default ${SERVE_DEFAULTS.maxSeconds})`,
  },
} as const;

const HELP = helpText(
  "deno run -A main.ts serve [options]",
  "Serves the web app: pick a class and guidance, watch the sprites fade in, download\n" +
    "them. The page's JSON API is for scripts too (README, 'serve'). /local/ is the static\n" +
    "page, which draws on the visitor's GPU (and on this server's without WebGPU).",
  OPTIONS,
);

export const serveCommand: Command = {
  async run(args) {
    const { values } = parseOptions("serve", args, OPTIONS);
    if (values.help) return void console.log(HELP);
    const port = numberOption("port", values.port, SERVE_DEFAULTS.port, {
      min: 0,
      max: 65535,
      integer: true,
    });
    const host = values.host ?? SERVE_DEFAULTS.host;
    const maxQueue = numberOption("max-queue", values["max-queue"], SERVE_DEFAULTS.maxQueue, {
      min: 0,
      max: 10_000,
      integer: true,
    });
    const maxSprites = numberOption(
      "max-sprites",
      values["max-sprites"],
      SERVE_DEFAULTS.maxSprites,
      {
        min: 1,
        max: 4096,
        integer: true,
      },
    );
    const maxSeconds = numberOption(
      "max-seconds",
      values["max-seconds"],
      SERVE_DEFAULTS.maxSeconds,
      {
        min: 1,
        max: 86_400,
      },
    );
    const { weights, name, bytes } = await openWeights(values.weights);
    const gpu = await getGpu();
    const generator = Generator.fromWeights(gpu, weights);
    let server: RunningServer;
    try {
      server = startServer({
        generator,
        weightsName: name,
        weightsArg: values.weights,
        weightsFile: bytes,
        parameters: weights.layout.count,
        datasetPalette: weights.palette,
        adapter: gpu.adapter.description,
        host,
        port,
        maxQueue,
        maxSprites,
        maxSeconds,
      });
    } catch (err) {
      generator.destroy();
      if (err instanceof Deno.errors.AddrInUse) {
        throw new UserError(`port ${port} on ${host} is in use; choose another with --port`);
      }
      if (err instanceof Deno.errors.AddrNotAvailable || err instanceof TypeError) {
        throw new UserError(`cannot listen on --host ${host}: ${(err as Error).message}`);
      }
      throw err;
    }
    const stop = stopOnSignals();
    try {
      console.log(
        "preparing the page's default request (a machine's first run compiles the GPU kernels " +
          "first, once: up to minutes) …",
      );
      await server.warmUp();
      console.log(`serving ${name} on ${gpu.adapter.description}`);
      console.log(`open ${server.url} (Ctrl-C stops)`);
      console.log(`the static page, drawn on the visitor's GPU: ${server.url}local/`);
      if (!stop.signal.aborted) {
        await new Promise((resolve) =>
          stop.signal.addEventListener("abort", resolve, { once: true })
        );
      }
      console.log("stopping: cancelling jobs …");
    } finally {
      await server.shutdown();
      stop.dispose();
      generator.destroy();
    }
    console.log("stopped");
  },
};
