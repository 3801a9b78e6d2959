/** End to end: `main.ts show` as a user runs it, in a pipe and with each protocol named. */

import { deepStrictEqual } from "node:assert/strict";
import { join } from "node:path";
import { encodePng } from "../lib/io/png.ts";
import { encodeSixel } from "../lib/term/sixel.ts";
import { failsWith, runMain, succeeded, withTempDir } from "./cli_helpers.ts";

/** 2×2: red green / blue transparent. */
const sprite = {
  width: 2,
  height: 2,
  data: Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0]),
};

Deno.test("show: names and sizes in a pipe; the picture when a protocol is named", async () => {
  await withTempDir("show-cli-", async (dir) => {
    const png = join(dir, "sprite.png");
    await Deno.writeFile(png, await encodePng(sprite));
    const plain = await runMain(["show", png, png]);
    succeeded(plain);
    deepStrictEqual(plain.stdout, `${png}  2×2\n${png}  2×2\n`);

    // Sixel at scale 3 (6×6 px, one 20-px line with the assumed cell): the picture placed
    // from its saved corner. The transparent pixel shows the checkerboard's light grey.
    const sixel = await runMain(["show", png, "--preview", "sixel", "--preview-scale", "3"]);
    succeeded(sixel);
    const over = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 153, 153, 153, 255];
    const six = encodeSixel(upscale3({ width: 2, height: 2, data: Uint8Array.from(over) }));
    deepStrictEqual(sixel.stdout, `${png}  2×2\n\n\x1b[1A\x1b7${six}\x1b8\n`);

    const blocks = await runMain(["show", png, "--preview", "blocks", "--preview-scale", "1"], {
      COLORTERM: "24bit",
    });
    succeeded(blocks);
    // One line of two cells: each ▀ the upper pixel on the lower one.
    deepStrictEqual(
      blocks.stdout,
      `${png}  2×2\n\x1b[38;2;255;0;0;48;2;0;0;255m▀\x1b[38;2;0;255;0;48;2;153;153;153m▀\x1b[0m\n`,
    );
  });
});

function upscale3(img: typeof sprite) {
  const data = new Uint8Array(6 * 6 * 4);
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 6; x++) {
      const from = (Math.floor(y / 3) * 2 + Math.floor(x / 3)) * 4;
      data.set(img.data.subarray(from, from + 4), (y * 6 + x) * 4);
    }
  }
  return { width: 6, height: 6, data };
}

Deno.test("show: bad input ⇒ one error line, nothing drawn", async () => {
  await withTempDir("show-cli-", async (dir) => {
    const png = join(dir, "sprite.png");
    await Deno.writeFile(png, await encodePng(sprite));
    const text = join(dir, "notes.png");
    await Deno.writeTextFile(text, "not a picture");
    failsWith(await runMain(["show"]), /show: name one or more PNG files/);
    failsWith(await runMain(["show", png, join(dir, "missing.png")]), /cannot read .*missing\.png/);
    failsWith(await runMain(["show", png, text]), /notes\.png: not a PNG file/);
    failsWith(await runMain(["show", png, "--preview", "ascii"]), /--preview must be one of/);
    failsWith(
      await runMain(["show", png, "--preview-scale", "0"]),
      /--preview-scale must be between 1 and 64, not 0/,
    );
  });
});
