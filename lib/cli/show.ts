/** `show`: PNG files in the terminal, drawn like every preview (kitty, iTerm2, sixel, half-blocks). */

import { decodePng } from "../io/png.ts";
import type { RgbaImage } from "../io/image.ts";
import { detectDisplay } from "../term/detect.ts";
import { renderedText, renderGrid } from "../term/render.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import { helpText, parseOptions, PICTURE_OPTIONS, pictureOptions } from "./options.ts";

const HELP = helpText(
  "deno run -A main.ts show FILE.png… [options]",
  "Draws PNG files (a sprite, a sheet, a training grid) in the terminal, each under its\n" +
    "name, with real pixels where the terminal can show them, else as ANSI half-blocks. A\n" +
    "picture wider or taller than the terminal is shown at 1/2, 1/3 … of its size.",
  PICTURE_OPTIONS,
  "In a pipe, or with NO_COLOR, only the names and sizes are printed (unless --preview\n" +
    "names a protocol).",
);

async function readPng(path: string): Promise<RgbaImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new UserError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return await decodePng(bytes, path);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

export const showCommand: Command = {
  async run(args) {
    const { values, positionals } = parseOptions("show", args, PICTURE_OPTIONS, true);
    if (values.help) return void console.log(HELP);
    if (positionals.length === 0) throw new UserError("show: name one or more PNG files");
    const { preview, scale } = pictureOptions(values);
    // Every file is read before anything is drawn, so a bad one stops the command cleanly.
    const images: RgbaImage[] = [];
    for (const path of positionals) images.push(await readPng(path));
    const display = await detectDisplay(preview);
    for (const [i, image] of images.entries()) {
      const title = `${positionals[i]}  ${image.width}×${image.height}`;
      const rendered = await renderGrid([image], display, { scale, scrolls: true });
      const body = renderedText(rendered);
      const shrunk = rendered.layout.subsample > 1
        ? `  (shown at 1/${rendered.layout.subsample})`
        : "";
      console.log(body === "" ? title : `${title}${shrunk}\n${body}`);
    }
  },
};
