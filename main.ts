/**
 * pixel-diffusion: a class-conditional DDPM for 16×16 pixel-art sprites on WebGPU.
 *
 *   deno run -A main.ts sample     draw sprites with the default weights
 *   deno run -A main.ts serve      the web app: sprites fading in, in the browser
 *   deno run -A main.ts train      train on the default dataset or your own sprites
 *   deno run -A main.ts eval       measure sample quality (class accuracy, FID, memorisation)
 *   deno run -A main.ts info       the adapter and the default model
 *   deno run -A main.ts data …     build, inspect and preview datasets
 *   deno run -A main.ts show F.png  PNG files in the terminal (kitty, iTerm2, sixel, half-blocks)
 *
 * The code, bottom up (each folder imports only from those before it):
 *   lib/util      errors, seeded random numbers
 *   lib/gpu       device, kernel cache, tensors, recorded programs      kernels/  the WGSL
 *   lib/io        safetensors, npy, PNG/GIF, sheets, atomic writes
 *   lib/nn        layers: explicit forward and backward, the parameter store
 *   lib/model     ContextUNet, its config and weights
 *   lib/diffusion the noise schedule and the guided sampler
 *   lib/data      dataset loaders                lib/train  batches, trainer, the training loop
 *   lib/generate  the generation core: requests → finished sprites
 *   lib/eval      the sprite classifier and the quality measures
 *   lib/term      pictures in the terminal (which protocol, grids, live view), progress
 *   lib/serve     the web app's server (its page: web/app/)
 *   lib/cli       the commands (front end)
 */

import { NoAdapterError } from "./lib/gpu/device.ts";
import { UserError } from "./lib/cli/errors.ts";
import { InputError } from "./lib/util/errors.ts";
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
  await (await command.load()).run(rest);
  return 0;
}

try {
  Deno.exitCode = await main(Deno.args);
} catch (err) {
  if (err instanceof NoAdapterError) {
    console.error(`error: ${err.message}`);
    Deno.exitCode = 2;
  } else if (err instanceof InputError) {
    console.error(`error: ${err.message}`);
    Deno.exitCode = err instanceof UserError ? err.exitCode : 1;
  } else {
    throw err;
  }
}
