/** The subcommands of main.ts, each in a module of its own. */

import { dataCommand } from "./data.ts";
import { evalCommand } from "./eval.ts";
import { infoCommand } from "./info.ts";
import { sampleCommand } from "./sample.ts";
import { serveCommand } from "./serve.ts";
import { showCommand } from "./show.ts";
import { trainCommand } from "./train.ts";

export interface Command {
  summary: string;
  run(args: string[]): Promise<void>;
}

export const commands: Record<string, Command> = {
  sample: sampleCommand,
  serve: serveCommand,
  train: trainCommand,
  data: dataCommand,
  eval: evalCommand,
  info: infoCommand,
  show: showCommand,
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return [
    "pixel-diffusion: a class-conditional DDPM for 16×16 pixel-art sprites on WebGPU",
    "",
    "usage: deno run -A main.ts <command> [options]   (each command takes --help)",
    "",
    ...lines,
  ].join("\n");
}
