/**
 * End to end: `main.ts sample` with the creative controls (--init, --strength, --mask,
 * --resample, --class mixes, --tile) on tiny untrained test weights (RGBA, three classes).
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import type { RgbaImage } from "../lib/io/image.ts";
import { decodePng, encodePng } from "../lib/io/png.ts";
import { repeat3x3, upscaleNearest } from "../lib/io/sheet.ts";
import {
  failsWith,
  listDir,
  runMain,
  succeeded,
  withTempDir,
  writeTinyWeights,
} from "./cli_helpers.ts";

const sample = (...args: string[]) => runMain(["sample", ...args]);

/** A size × size sprite with a pattern of colours and binary alpha. */
function sprite(size = 16): RgbaImage {
  const data = new Uint8Array(size * size * 4).map((_, i) =>
    i % 4 === 3 ? (i % 12 === 3 ? 0 : 255) : (i * 53) % 256
  );
  // Transparent pixels carry no colour, as the written sprites have them (snapped alpha).
  for (let p = 0; p < size * size; p++) if (data[4 * p + 3] === 0) data.fill(0, 4 * p, 4 * p + 3);
  return { width: size, height: size, data };
}

/** Opaque black (keep) everywhere but the top-left 8 × 8 quarter, white (generate). */
function quarterMask(): RgbaImage {
  const data = new Uint8Array(16 * 16 * 4);
  for (let p = 0; p < 256; p++) {
    const white = p % 16 < 8 && p < 128 ? 255 : 0;
    data.set([white, white, white, 255], 4 * p);
  }
  return { width: 16, height: 16, data };
}

const read = async (path: string) => await decodePng(await Deno.readFile(path), path);

Deno.test("sample: inpainting keeps the unmasked pixels; class mix names; 3×3 tile previews", async () => {
  await withTempDir("creative-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const init = join(dir, "init.png");
    const mask = join(dir, "mask.png");
    await Deno.writeFile(init, await encodePng(sprite()));
    await Deno.writeFile(mask, await encodePng(quarterMask()));
    const out = join(dir, "out");
    const r = await sample(
      ...["--weights", weights, "--steps", "3", "--n", "2", "--scale", "2", "--json"],
      ...["--init", init, "--mask", mask, "--resample", "1", "--class", "slime:3,potion:1"],
      ...["--tile", "xy", "--out", out],
    );
    succeeded(r);
    const summary = JSON.parse(r.stdout);
    deepStrictEqual(summary.classes, ["slime:0.75+potion:0.25", "slime:0.75+potion:0.25"]);
    deepStrictEqual([summary.strength, summary.tile], [1, "xy"]);
    const want = sprite().data;
    for (const i of [0, 1]) {
      const stem = `slime-0-75-potion-0-25-s0-${i}`;
      const got = await read(join(out, `${stem}.png`));
      let generated = 0;
      for (let p = 0; p < 256; p++) {
        const px = [...got.data.subarray(4 * p, 4 * p + 4)];
        const expected = [...want.subarray(4 * p, 4 * p + 4)];
        if (p % 16 < 8 && p < 128) generated += Number(px.join() !== expected.join());
        else deepStrictEqual(px, expected, `sprite ${i} pixel ${p}`);
      }
      ok(generated > 0, "the masked quarter must be generated");
      const tile = await read(join(out, `${stem}-tile3x3-x2.png`));
      deepStrictEqual(tile, upscaleNearest(repeat3x3(got), 2));
    }
  });
});

Deno.test("sample: bad creative input ⇒ one error line, exit code ≠ 0, nothing written", async () => {
  await withTempDir("creative-cli-bad-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const init = join(dir, "init.png");
    const big = join(dir, "big.png");
    const notPng = join(dir, "not.png");
    await Deno.writeFile(init, await encodePng(sprite()));
    await Deno.writeFile(big, await encodePng(sprite(20)));
    await Deno.writeTextFile(notPng, "hello");
    const out = join(dir, "out");
    const cases: [string[], RegExp][] = [
      [["--init", big], /big\.png is 20×20, not 16×16; add --resize/],
      [["--init", notPng], /--init .*not\.png: not a PNG file/],
      [["--init", join(dir, "missing.png")], /--init .*missing\.png: cannot read it/],
      [["--init", init, "--strength", "0"], /--strength must be in \(0, 1\], not 0/],
      [["--init", init, "--strength", "1.5"], /--strength must be in \(0, 1\], not 1\.5/],
      [["--mask", init], /--mask needs --init PNG/],
      [["--init", init, "--mask", big], /--mask .*big\.png is 20×20/],
      [["--class", "slime:0.5,dragon:0.5"], /unknown class 'dragon'/],
      [["--class", "slime:0,potion:0"], /weights sum to 0/],
      [["--tile", "z"], /--tile/],
    ];
    for (const [args, pattern] of cases) {
      failsWith(await sample("--weights", weights, "--out", out, ...args), pattern);
      deepStrictEqual(listDir(out), [], `${args.join(" ")} wrote files`);
    }
    // --resize accepts the 20×20 sprite.
    succeeded(
      await sample(
        "--weights",
        weights,
        "--out",
        out,
        "--steps",
        "1",
        "--n",
        "1",
        "--init",
        big,
        "--resize",
      ),
    );
  });
});
