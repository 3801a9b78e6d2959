/**
 * The subcommands of main.ts, each in a module of its own, imported only when it runs: `sample`
 * does not load the training, dataset and evaluation code (nor the embedded dataset).
 */

export interface Command {
  run(args: string[]): Promise<void>;
}

interface Entry {
  summary: string;
  load: () => Promise<Command>;
}

export const commands: Record<string, Entry> = {
  sample: {
    summary: "draw sprites, with a live preview in the terminal",
    load: async () => (await import("./sample.ts")).sampleCommand,
  },
  serve: {
    summary: "the web app: generate in the browser with a live preview, and a JSON API",
    load: async () => (await import("./serve.ts")).serveCommand,
  },
  train: {
    summary: "train a model on sprites (the original's recipe)",
    load: async () => (await import("./train.ts")).trainCommand,
  },
  data: {
    summary: "build the default dataset; show a dataset's contents (info, preview)",
    load: async () => (await import("./data.ts")).dataCommand,
  },
  eval: {
    summary: "measure sample quality: class accuracy, sprite FID and KID, memorisation, diversity",
    load: async () => (await import("./eval.ts")).evalCommand,
  },
  info: {
    summary: "show the WebGPU adapter and the default model",
    load: async () => (await import("./info.ts")).infoCommand,
  },
  show: {
    summary: "draw PNG files in the terminal (kitty, iTerm2, sixel or half-blocks)",
    load: async () => (await import("./show.ts")).showCommand,
  },
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
