/**
 * pixel-diffusion: a class-conditional DDPM for 16×16 pixel-art sprites on WebGPU.
 *
 *   deno run -A main.ts sample     draw sprites with the default weights
 *   deno run -A main.ts train      train on the default dataset or your own sprites
 *   deno run -A main.ts info       the adapter and the default model
 *   deno run -A main.ts data …     build, inspect and preview datasets
 */

import { NoAdapterError } from "./lib/gpu/device.ts";
import { UserError } from "./lib/cli/errors.ts";
import { commands, usage } from "./lib/cli/commands.ts";

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    throw new UserError(`unknown command '${name}'; commands: ${Object.keys(commands).join(", ")}`);
  }
  await command.run(rest);
  return 0;
}

try {
  Deno.exitCode = await main(Deno.args);
} catch (err) {
  if (err instanceof NoAdapterError) {
    console.error(`error: ${err.message}`);
    Deno.exitCode = 2;
  } else if (err instanceof UserError) {
    console.error(`error: ${err.message}`);
    Deno.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
