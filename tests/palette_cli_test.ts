/**
 * End to end: `sample` with palettes as a user runs it (tiny untrained weights, 2 steps):
 * indexed PNGs whose colours are the palette's, the palette beside them as .gpl and .hex, the
 * sheet and its json-array description; `auto:K` per sprite and per batch; the dataset palette
 * from the weights; and every bad palette option refused in one line before any work.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { decodePng } from "../lib/io/png.ts";
import { withMetadata } from "../lib/io/safetensors.ts";
import { upscaleNearest } from "../lib/io/sheet.ts";
import { BUILTIN_PALETTES } from "../lib/palette/builtin.ts";
import { readPaletteFile } from "../lib/palette/files.ts";
import { hexOf } from "../lib/palette/palette.ts";
import {
  failsWith,
  listDir,
  runMain,
  succeeded,
  TINY_CLASSES,
  withTempDir,
  writeTinyWeights,
} from "./cli_helpers.ts";

const sample = (...args: string[]) => runMain(["sample", ...args]);

/** A PNG's chunks by type (the first of each). */
function chunks(png: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(png.buffer, png.byteOffset);
  const found = new Map<string, Uint8Array>();
  for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) {
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    if (!found.has(type)) found.set(type, png.subarray(at + 8, at + 8 + view.getUint32(at)));
  }
  return found;
}

/** The distinct opaque colours of a decoded image (hex), checking alpha is 0 or 255. */
async function colorsOf(path: string): Promise<Set<string>> {
  const img = await decodePng(await Deno.readFile(path), path);
  const colors = new Set<string>();
  for (let p = 0; p < img.data.length; p += 4) {
    const a = img.data[p + 3];
    ok(a === 0 || a === 255, `${path}: alpha ${a}`);
    if (a === 255) colors.add(hexOf([img.data[p], img.data[p + 1], img.data[p + 2]]));
  }
  return colors;
}

const subset = (a: Set<string>, b: Set<string>, what: string) =>
  ok([...a].every((c) => b.has(c)), `${what}: ${[...a].filter((c) => !b.has(c))} not allowed`);

Deno.test("sample --palette: indexed PNGs in the palette, .gpl/.hex beside, sheet JSON", async () => {
  await withTempDir("palette-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const out = join(dir, "pico");
    const r = await sample(
      ..."--steps 2 --n 3 --seed 5 --json --palette pico8 --dither floyd --despeckle --outline auto"
        .split(" "),
      "--weights",
      weights,
      "--out",
      out,
    );
    succeeded(r);
    const stems = TINY_CLASSES.map((name, i) => `${name}-s5-${i}`);
    deepStrictEqual(
      listDir(out),
      [
        ...stems.flatMap((s) => [`${s}.png`, `${s}-x16.png`]),
        "palette-s5.gpl",
        "palette-s5.hex",
        "sheet-s5.json",
        "sheet-s5.png",
      ].sort(),
    );
    deepStrictEqual(JSON.parse(r.stdout).palette, "pico8");
    const pico8 = BUILTIN_PALETTES.get("pico8")!;
    const allowed = new Set(pico8.colors.map(hexOf));
    for (const name of [...stems.flatMap((s) => [`${s}.png`, `${s}-x16.png`]), "sheet-s5.png"]) {
      const png = await Deno.readFile(join(out, name));
      const c = chunks(png);
      deepStrictEqual(c.get("IHDR")![9], 3, `${name} is not indexed (colour type 3)`);
      deepStrictEqual([...c.get("PLTE")!], [0, 0, 0, ...pico8.colors.flat()], `${name}: PLTE`);
      deepStrictEqual([...c.get("tRNS")!], [0]);
      subset(await colorsOf(join(out, name)), allowed, name);
    }
    for (const ext of ["gpl", "hex"]) {
      const read = await readPaletteFile(join(out, `palette-s5.${ext}`));
      deepStrictEqual(read.colors, pico8.colors, `palette-s5.${ext}`);
    }

    // The sheet's description: Aseprite's json-array, one frame per sprite file, where the
    // sheet really has it.
    const sheet = await decodePng(await Deno.readFile(join(out, "sheet-s5.png")), "sheet");
    const doc = JSON.parse(await Deno.readTextFile(join(out, "sheet-s5.json")));
    deepStrictEqual(doc.meta.image, "sheet-s5.png");
    deepStrictEqual(doc.meta.format, "I8");
    deepStrictEqual(doc.meta.size, { w: sheet.width, h: sheet.height });
    deepStrictEqual(
      doc.frames.map((f: { filename: string }) => f.filename),
      stems.map((s) => `${s}.png`),
    );
    deepStrictEqual(doc.frames.map((f: { class: string }) => f.class), TINY_CLASSES);
    for (const [i, f] of doc.frames.entries()) {
      deepStrictEqual(f.seed, 5);
      deepStrictEqual(f.frame, { x: i * 66, y: 0, w: 64, h: 64 });
      const sprite = upscaleNearest(
        await decodePng(await Deno.readFile(join(out, f.filename)), f.filename),
        4,
      );
      for (let y = 0; y < 64; y++) {
        const row = (y + f.frame.y) * sheet.width + f.frame.x;
        deepStrictEqual(
          sheet.data.subarray(row * 4, (row + 64) * 4),
          sprite.data.subarray(y * 256, (y + 1) * 256),
          `${f.filename}, row ${y}`,
        );
      }
    }
  });
});

Deno.test("sample --palette auto:K per sprite and per batch; dataset from the weights", async () => {
  await withTempDir("palette-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const base = ["--weights", weights, "--steps", "2", "--n", "2", "--seed", "3"];

    const perSprite = join(dir, "sprite");
    succeeded(await sample(...base, "--palette", "auto:3", "--out", perSprite));
    for (const stem of ["slime-s3-0", "sword-s3-1"]) {
      const palette = await readPaletteFile(join(perSprite, `${stem}.gpl`));
      ok(palette.colors.length <= 3 && palette.colors.length >= 1, `${stem}: ${palette.colors}`);
      deepStrictEqual(
        (await readPaletteFile(join(perSprite, `${stem}.hex`))).colors,
        palette.colors,
      );
      subset(
        await colorsOf(join(perSprite, `${stem}.png`)),
        new Set(palette.colors.map(hexOf)),
        stem,
      );
    }
    ok(!listDir(perSprite).some((name) => name.startsWith("palette-")));

    const batch = join(dir, "batch");
    succeeded(
      await sample(...base, "--palette", "auto:3", "--palette-scope", "batch", "--out", batch),
    );
    const shared = new Set(
      (await readPaletteFile(join(batch, "palette-s3.gpl"))).colors.map(hexOf),
    );
    ok(shared.size <= 3);
    for (const name of ["slime-s3-0.png", "sword-s3-1.png", "sheet-s3.png"]) {
      subset(await colorsOf(join(batch, name)), shared, name);
    }

    // Weights that carry a dataset palette (as `train` writes it): --palette dataset uses it.
    const withPalette = join(dir, "with-palette.safetensors");
    await Deno.writeFile(
      withPalette,
      withMetadata(await Deno.readFile(weights), weights, { palette: '["ff0000","00ff00"]' }),
    );
    const fromData = join(dir, "dataset");
    succeeded(
      await sample(
        ..."--steps 2 --n 2 --palette dataset --weights".split(" "),
        withPalette,
        "--out",
        fromData,
      ),
    );
    deepStrictEqual(await Deno.readTextFile(join(fromData, "palette-s0.hex")), "ff0000\n00ff00\n");
    subset(await colorsOf(join(fromData, "sheet-s0.png")), new Set(["ff0000", "00ff00"]), "sheet");
    const listed = await sample("--weights", withPalette, "--list-palettes");
    succeeded(listed);
    ok(listed.stdout.startsWith("pico8\t16\ndb16\t16\n"), listed.stdout);
    ok(listed.stdout.includes("\nnes\t55\n") && listed.stdout.includes("\ndataset\t2\n"));
  });
});

Deno.test("sample/eval: bad palette options ⇒ one error line before any work, nothing written", async () => {
  await withTempDir("palette-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const out = join(dir, "out");
    const tiny = (...args: string[]) => sample("--weights", weights, "--out", out, ...args);
    await Deno.writeTextFile(join(dir, "bad.gpl"), "GIMP Palette\n255 0 0\n12 3x 4\n");

    failsWith(await tiny("--palette", "pico-9"), /unknown palette 'pico-9': give a built-in name/);
    failsWith(await tiny("--palette", "auto:1"), /palette 'auto:1': auto:K needs .* from 2 to 256/);
    failsWith(
      await tiny("--palette", join(dir, "bad.gpl")),
      /bad\.gpl:3: '3x' is not a green value/,
    );
    failsWith(
      await tiny("--palette", join(dir, "none.hex")),
      /none\.hex: cannot read \(No such file/,
    );
    failsWith(
      await tiny("--palette", "dataset"),
      /tiny\.safetensors carries no dataset palette .*scripts\/add_palette\.ts/,
    );
    failsWith(await tiny("--outline", "red"), /--outline takes a colour RRGGBB or auto, not 'red'/);
    failsWith(await tiny("--dither", "floyd"), /--dither needs --palette/);
    failsWith(await tiny("--despeckle"), /--despeckle needs --palette/);
    failsWith(
      await tiny("--palette", "pico8", "--dither", "atkinson"),
      /--dither must be one of none, bayer4, bayer8, floyd, not 'atkinson'/,
    );
    failsWith(
      await tiny("--palette", "pico8", "--palette-scope", "batch"),
      /--palette-scope applies to --palette auto:K/,
    );
    failsWith(
      await tiny("--palette", "auto:4", "--palette-scope", "all"),
      /--palette-scope must be one of sprite, batch, not 'all'/,
    );
    failsWith(
      await tiny("--palette", "pico8", "--soft-alpha"),
      /--soft-alpha and --palette exclude/,
    );
    deepStrictEqual(listDir(out), [], "a refused run wrote into --out");

    const evalOut = join(dir, "eval");
    failsWith(
      await runMain(["eval", "--out", evalOut, "--variants", "palette=pico8; palette=nope"]),
      /--variants 'palette=nope': unknown palette 'nope'/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--variants", "dither=floyd"]),
      /--variants 'dither=floyd': --dither needs --palette/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--variants", "despeckle"]),
      /--variants 'despeckle': --despeckle needs --palette/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--variants", "palette=pico8 palette-scope=batch"]),
      /--variants 'palette=pico8 palette-scope=batch': --palette-scope applies to --palette auto:K/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--variants", "palette-scope=batch"]),
      /--variants 'palette-scope=batch': --palette-scope applies to --palette auto:K/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--variants", "dither"]),
      /--variants 'dither': eval: Option '--dither <value>' argument missing/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--outline", "auto", "--variants", "outline=00"]),
      /--variants 'outline=00': --outline takes a colour RRGGBB or auto, not '00'/,
    );
    failsWith(
      await runMain(["eval", "--out", evalOut, "--weights", weights, "--palette", "dataset"]),
      /tiny\.safetensors carries no dataset palette/,
    );
    deepStrictEqual(listDir(evalOut), []);
  });
});

Deno.test("eval: palette variants scored beside the raw output, from the same samples", async () => {
  await withTempDir("palette-eval-", async (dir) => {
    const r = await runMain([
      ..."eval --n 1 --guidance 3 --steps 2 --batch 8 --palette pico8 --variants"
        .split(" "),
      "palette=db16 despeckle",
      "--out",
      dir,
    ]);
    succeeded(r);
    const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    const [g] = report.guidance;
    deepStrictEqual(g.variants.map((v: { label: string }) => v.label), [
      "palette=pico8",
      "palette=db16 despeckle",
    ]);
    for (const v of g.variants) deepStrictEqual(v.perClass.length, 8);
    const md = await Deno.readTextFile(join(dir, "report.md"));
    ok(md.includes("| `palette=pico8` |") && md.includes("| `palette=db16 despeckle` |"), md);
    // The pico8 variant's sheet: sprites in pico8 colours over the checkerboard's greys.
    const allowed = new Set([
      ...BUILTIN_PALETTES.get("pico8")!.colors.map(hexOf),
      "999999",
      "666666",
    ]);
    subset(await colorsOf(join(dir, "samples-g3-post1.png")), allowed, "pico8 variant sheet");
    ok(listDir(dir).includes("samples-g3-post2.png"));
  });
});
