/**
 * End to end: `main.ts sample` as a user runs it, on tiny untrained test weights
 * (RGBA, three classes) and on the shipped default weights. Each spawned run
 * compiles its pipelines, so the checks are grouped into few runs.
 */

import { deepStrictEqual, notDeepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { GIF } from "imagescript";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { decodePng } from "../lib/io/png.ts";
import { loadDefaultWeights } from "../lib/model/default_weights.ts";
import { maxSampleRows } from "../lib/model/memory.ts";
import { encodeWeights, readWeights } from "../lib/model/weights.ts";
import {
  cliEnv,
  failsWith,
  listDir,
  MAIN,
  runMain,
  succeeded,
  TINY_CLASSES,
  withTempDir,
  writeTinyWeights,
} from "./cli_helpers.ts";

const sample = (...args: string[]) => runMain(["sample", ...args]);

const pngSize = async (path: string) => {
  const img = await decodePng(await Deno.readFile(path), path);
  return [img.width, img.height];
};

Deno.test("sample: PNGs, sheet, GIF and --json; same seed ⇒ same bytes, never overwritten", async () => {
  await withTempDir("sample-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const out = join(dir, "out");
    const options = ["--weights", weights, "--steps", "4", "--preview-every", "2", "--scale", "3"];
    const args = [...options, "--seed", "7", "--n", "3", "--gif", "--json", "--out", out];

    const first = await sample(...args);
    succeeded(first);
    const summary = JSON.parse(first.stdout);
    const stems = TINY_CLASSES.map((name, i) => `${name}-s7-${i}`);
    const names = [
      ...stems.flatMap((s) => [`${s}.png`, `${s}-x3.png`]),
      "sheet-s7.png",
      "sheet-s7.json",
      "fadein-s7.gif",
    ];
    deepStrictEqual(listDir(out), [...names].sort());
    deepStrictEqual(summary.files, names.map((n) => join(out, n)));
    deepStrictEqual(summary.classes, TINY_CLASSES);
    deepStrictEqual([summary.steps, summary.seed, summary.guidance], [4, 7, 3]);
    deepStrictEqual(
      [summary.sampler, summary.weights],
      [GENERATE_DEFAULTS.sampler, "tiny.safetensors"],
    );

    for (const stem of stems) {
      const native = await decodePng(await Deno.readFile(join(out, `${stem}.png`)), stem);
      deepStrictEqual([native.width, native.height], [16, 16]);
      // An RGBA model's fourth channel lands in the PNG's alpha: not all opaque, and snapped to
      // fully opaque or fully transparent (with no colour hidden in transparent pixels).
      ok(native.data.some((v, i) => i % 4 === 3 && v < 255), `${stem}.png has no transparency`);
      for (let p = 0; p < native.data.length; p += 4) {
        const pixel = [...native.data.subarray(p, p + 4)];
        ok(pixel[3] === 255 || pixel.every((v) => v === 0), `${stem}.png: pixel ${pixel}`);
      }
      deepStrictEqual(await pngSize(join(out, `${stem}-x3.png`)), [48, 48]);
    }
    // Three 64-px tiles (scale 4) with 2-px gaps.
    deepStrictEqual(await pngSize(join(out, "sheet-s7.png")), [3 * 64 + 2 * 2, 64]);
    // Previews at steps 2 and 4, the last held once more; tiles of 64 px with 1-px gaps.
    const gif = await GIF.decode(await Deno.readFile(join(out, "fadein-s7.gif")));
    deepStrictEqual([gif.length, gif.width, gif.height], [3, 3 * 64 + 2, 64]);

    // The same model as a bare F16 state_dict: no metadata, so the config is inferred from the
    // shapes and the classes are numbered; the sprites are the same bytes.
    const bare = join(dir, "bare.safetensors");
    await writeTinyWeights(bare, { form: "bare F16" });
    const bareOut = join(dir, "bare");
    const fromBare = await sample(
      "--weights",
      bare,
      ...options.slice(2),
      ..."--seed 7 --n 3 --json --out".split(" "),
      bareOut,
    );
    succeeded(fromBare);
    deepStrictEqual(JSON.parse(fromBare.stdout).classes, ["class 0", "class 1", "class 2"]);
    for (const [i, stem] of stems.entries()) {
      for (const suffix of [".png", "-x3.png"]) {
        deepStrictEqual(
          await Deno.readFile(join(bareOut, `class-${i}-s7-${i}${suffix}`)),
          await Deno.readFile(join(out, `${stem}${suffix}`)),
          `${stem}${suffix} differs between the F32 weights and the bare F16 state_dict`,
        );
      }
    }

    // --soft-alpha keeps the model's alpha: values in between, the same colour where opaque.
    const soft = join(dir, "soft");
    succeeded(await sample(...options, "--seed", "7", "--n", "3", "--soft-alpha", "--out", soft));
    let between = 0;
    for (const stem of stems) {
      const hard = await decodePng(await Deno.readFile(join(out, `${stem}.png`)), stem);
      const kept = await decodePng(await Deno.readFile(join(soft, `${stem}.png`)), stem);
      for (let p = 0; p < kept.data.length; p += 4) {
        const alpha = kept.data[p + 3];
        if (alpha > 0 && alpha < 255) between++;
        deepStrictEqual(hard.data[p + 3], alpha >= 128 ? 255 : 0);
        if (alpha >= 128) {
          deepStrictEqual(kept.data.subarray(p, p + 3), hard.data.subarray(p, p + 3));
        }
      }
    }
    ok(between > 0, "--soft-alpha wrote only binary alpha");

    // The same run again: new names beside the old files, and the same bytes.
    const second = await sample(...args);
    succeeded(second);
    const renamed = (n: string) => n.replace(/(\.\w+)$/, "-2$1");
    deepStrictEqual(JSON.parse(second.stdout).files, names.map((n) => join(out, renamed(n))));
    deepStrictEqual(listDir(out), [...names, ...names.map(renamed)].sort());
    for (const name of names.filter((n) => n.endsWith(".png"))) {
      deepStrictEqual(
        await Deno.readFile(join(out, renamed(name))),
        await Deno.readFile(join(out, name)),
        `${name} differs between two runs with the same seed`,
      );
    }

    // --force writes over the first run's files (here a damaged one) and adds nothing.
    const original = await Deno.readFile(join(out, names[0]));
    await Deno.writeFile(join(out, names[0]), new Uint8Array([1, 2, 3]));
    succeeded(await sample(...args, "--force"));
    deepStrictEqual(await Deno.readFile(join(out, names[0])), original);
    deepStrictEqual(listDir(out).length, 2 * names.length);

    // Another seed draws other sprites; --class by index.
    const other = join(dir, "other");
    succeeded(await sample(...options, "--seed", "8", "--class", "2", "--n", "3", "--out", other));
    const potions = await Promise.all(
      [0, 1, 2].map((i) => Deno.readFile(join(other, `potion-s8-${i}.png`))),
    );
    notDeepStrictEqual(
      potions[2],
      await Deno.readFile(join(out, "potion-s7-2.png")),
      "seed 8 = seed 7",
    );
    notDeepStrictEqual(potions[0], potions[1], "two sprites of one batch are the same");
  });
});

Deno.test("sample: no arguments but --steps/--out draws one sprite per class of the default weights", async () => {
  await withTempDir("sample-cli-", async (dir) => {
    const r = await sample("--no-preview", "--steps", "2", "--out", dir);
    succeeded(r);
    const { classNames } = loadDefaultWeights();
    ok(classNames.length >= 2, "the default weights have classes");
    const stems = classNames.map((name, i) => `${name}-s0-${i}`);
    deepStrictEqual(
      listDir(dir),
      [...stems.flatMap((s) => [`${s}.png`, `${s}-x16.png`]), "sheet-s0.json", "sheet-s0.png"]
        .sort(),
    );
    deepStrictEqual(await pngSize(join(dir, `${stems[0]}-x16.png`)), [256, 256]);
    ok(
      r.stdout.startsWith(
        `${classNames.length} sprites (${GENERATE_DEFAULTS.sampler}, 2 steps, guidance 3, seed 0)`,
      ),
      r.stdout,
    );
    ok(r.stdout.includes(`wrote ${2 * classNames.length + 2} files to ${dir}/`), r.stdout);
    deepStrictEqual(r.stderr, "");
  });
});

/**
 * Runs `main.ts sample …` under a pseudo-terminal (util-linux `script`) of an xterm and returns
 * its output; `env` adds to the caller's environment less its colour settings.
 */
async function sampleOnTty(args: string[], env: Record<string, string>): Promise<string> {
  const quoted = [Deno.execPath(), "run", "-A", MAIN, "sample", ...args].map((a) => `'${a}'`);
  const out = await new Deno.Command("script", {
    args: ["-qec", quoted.join(" "), "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: cliEnv({ TERM: "xterm-256color", ...env }),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  deepStrictEqual(out.code, 0, text);
  return text;
}

const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test("sample: --list-classes, --class NAME, and no escape codes off a TTY", async (t) => {
  await withTempDir("sample-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const listed = await sample("--weights", weights, "--list-classes");
    succeeded(listed);
    deepStrictEqual(listed.stdout, "0\tslime\n1\tsword\n2\tpotion\n");

    // A pipe, colour announced, preview on: plain summary lines only.
    const small = ["--weights", weights, "--steps", "2", "--preview-every", "1"];
    const byName = await runMain(
      ["sample", ...small, "--class", "SWORD", "--n", "2", "--out", join(dir, "name")],
      { NO_COLOR: "", COLORTERM: "truecolor" },
    );
    succeeded(byName);
    ok(!byName.stdout.includes("\x1b") && !byName.stdout.includes("▀"), byName.stdout);
    deepStrictEqual(
      byName.stdout.split("\n")[1],
      `wrote 6 files to ${join(dir, "name")}/ (sheet: sheet-s0.png)`,
    );
    deepStrictEqual(
      listDir(join(dir, "name")),
      [
        "sheet-s0.json",
        "sheet-s0.png",
        "sword-s0-0-x16.png",
        "sword-s0-0.png",
        "sword-s0-1-x16.png",
        "sword-s0-1.png",
      ],
    );

    // On a terminal: NO_COLOR still means no escape codes; without it the preview is drawn.
    const tty = [...small, "--n", "1", "--force", "--out", join(dir, "tty")];
    await t.step({
      name: "on a pseudo-terminal",
      ignore: !hasScript,
      fn: async () => {
        const plain = await sampleOnTty(tty, { NO_COLOR: "1" });
        const line = `1 sprite (${GENERATE_DEFAULTS.sampler}, 2 steps`;
        ok(!plain.includes("\x1b") && plain.includes(line), plain);
        const drawn = await sampleOnTty(tty, { COLORTERM: "truecolor" });
        ok(
          drawn.includes("\x1b[38;2;") && drawn.includes("▀"),
          "no truecolor half-blocks on a TTY",
        );
      },
    });
  });
});

Deno.test("sample: bad input ⇒ one error line, exit code ≠ 0, nothing written", async () => {
  await withTempDir("sample-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const out = join(dir, "out");
    const tiny = (...args: string[]) => sample("--weights", weights, "--out", out, ...args);

    failsWith(
      await tiny("--class", "dragon"),
      /unknown class 'dragon'.*0 "slime", 1 "sword", 2 "potion"/,
    );
    failsWith(await tiny("--class", "3"), /unknown class '3'/);
    failsWith(await tiny("--guidance", "strong"), /--guidance must be a number, not 'strong'/);
    failsWith(await tiny("--guidance", "-1"), /--guidance must be between 0 and 100, not -1/);
    failsWith(await tiny("--steps", "0"), /--steps must be between 1 and 1000, not 0/);
    failsWith(await tiny("--steps", "1001"), /--steps must be between 1 and 1000, not 1001/);
    failsWith(await tiny("--steps", "2.5"), /--steps must be an integer, not '2.5'/);
    failsWith(await tiny("--n", "0"), /--n must be between 1 and 4096, not 0/);
    failsWith(await tiny("--n", "5000"), /--n must be between 1 and 4096, not 5000/);
    failsWith(await tiny("--guidance", "101"), /--guidance must be between 0 and 100, not 101/);
    failsWith(await tiny("--n", "ten"), /--n must be an integer, not 'ten'/);
    failsWith(await tiny("--seed", "-3"), /--seed must be between 0 and 4294967295, not -3/);
    failsWith(
      await tiny("--sampler", "euler"),
      /--sampler must be one of ddpm, ddim, dpm\+\+, dpm\+\+sde, not 'euler'/,
    );
    failsWith(
      await tiny("--threshold", "0"),
      /--threshold must be a percentile in \(0, 100\], not 0/,
    );
    failsWith(
      await tiny("--threshold", "100.5"),
      /--threshold must be a percentile in .*not 100.5/,
    );
    failsWith(await tiny("--threshold", "high"), /--threshold must be a number, not 'high'/);
    const interval = /--guidance-interval must satisfy 0 ≤ LO < HI ≤ 1 \(fractions of t\/T\)/;
    failsWith(await tiny("--guidance-interval", "0.5,0.5"), interval); // empty
    failsWith(await tiny("--guidance-interval", "0.8,0.2"), interval); // reversed
    failsWith(await tiny("--guidance-interval", "0.2,1.5"), interval);
    failsWith(
      await tiny("--guidance-interval", "0.2"),
      /--guidance-interval must be LO,HI \(two numbers\), not '0.2'/,
    );
    failsWith(await tiny("--eta", "0.5"), /--eta sets DDIM's noise; add --sampler ddim to use it/);
    failsWith(await tiny("--frames", "3"), /Unknown option '--frames'/);

    const missing = join(dir, "missing.safetensors");
    failsWith(
      await sample("--weights", missing, "--out", out),
      /missing\.safetensors: cannot read weights/,
    );
    const truncated = join(dir, "truncated.safetensors");
    await Deno.writeFile(truncated, (await Deno.readFile(weights)).subarray(0, 5000));
    failsWith(
      await sample("--weights", truncated, "--out", out),
      /truncated\.safetensors: truncated/,
    );
    const png = join(dir, "sprite.png"); // a PNG's signature and first chunk length
    await Deno.writeFile(
      png,
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0, 0, 13]),
    );
    failsWith(await sample("--weights", png, "--out", out), /sprite\.png: not a safetensors file/);
    const shapes = join(dir, "shapes.safetensors");
    const w = await readWeights(weights);
    await Deno.writeFile(
      shapes,
      encodeWeights({ ...w, config: { ...w.config, num_classes: 4 }, classNames: [..."abcd"] }),
    );
    failsWith(
      await sample("--weights", shapes, "--out", out),
      /shapes\.safetensors: label_emb\.weight has shape/,
    );

    deepStrictEqual(listDir(out), [], "a refused run wrote into --out");
    const file = join(dir, "a-file");
    await Deno.writeFile(file, new Uint8Array());
    failsWith(
      await sample("--weights", weights, "--out", join(file, "sprites")),
      /cannot write to --out .*a-file\/sprites/,
    );
    deepStrictEqual(listDir(dir), [
      "a-file",
      "shapes.safetensors",
      "sprite.png",
      "tiny.safetensors",
      "truncated.safetensors",
    ]);
  });
});

Deno.test("sample: a batch over the adapter's binding limit is refused before any work", async (t) => {
  const gpu = await getGpu();
  const { config } = loadDefaultWeights();
  // Guided sampling runs 2 rows per sprite; one more sprite than fits.
  const n = Math.floor(maxSampleRows(config, gpu.maxBinding) / 2) + 1;
  await t.step({
    name: `--n ${n} with the default weights`,
    // --n is capped at 4096; adapters with larger bindings cannot be overfilled from the CLI.
    ignore: n > 4096,
    fn: () =>
      withTempDir("sample-cli-", async (dir) => {
        const out = join(dir, "out");
        const r = await sample("--n", String(n), "--no-preview", "--out", out);
        failsWith(
          r,
          new RegExp(
            `--n ${n} is more sprites than one sampling step fits.*use --n ${n - 1} or less`,
          ),
        );
        deepStrictEqual(listDir(dir), [], "the refused run created --out");
      }),
  });
});

Deno.test("sample: dpm++ with --threshold and --guidance-interval; the default preview gives about 20 GIF frames at any --steps", async () => {
  await withTempDir("sample-cli-", async (dir) => {
    const weights = join(dir, "tiny.safetensors");
    await writeTinyWeights(weights);
    const frames = async (out: string) =>
      (await GIF.decode(await Deno.readFile(join(out, "fadein-s0.gif")))).length;
    const base = ["--weights", weights, "--n", "1", "--gif"];

    const few = join(dir, "few");
    const fewRun = await sample(
      ...base,
      ...["--sampler", "dpm++", "--steps", "10", "--threshold", "99.5"],
      ...["--guidance-interval", "0.2,0.8", "--json", "--out", few],
    );
    succeeded(fewRun);
    const summary = JSON.parse(fewRun.stdout);
    deepStrictEqual(
      [summary.sampler, summary.steps, summary.threshold, summary.guidanceInterval],
      ["dpm++", 10, 99.5, [0.2, 0.8]],
    );
    // A preview after each of steps 1…9, then the finished sprite twice.
    deepStrictEqual(await frames(few), 9 + 2);

    const many = join(dir, "many");
    succeeded(await sample(...base, "--steps", "40", "--out", many));
    deepStrictEqual(await frames(many), 19 + 2); // every 2nd step
    const explicit = join(dir, "explicit");
    succeeded(await sample(...base, "--steps", "40", "--preview-every", "10", "--out", explicit));
    deepStrictEqual(await frames(explicit), 3 + 2);
  });
});
