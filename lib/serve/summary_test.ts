/** The command line the server shows: quoting checked by bash itself, options as `sample` reads them. */

import { deepStrictEqual } from "node:assert/strict";
import type { JobSpec } from "./request.ts";
import { sampleCommandLine, shellWord } from "./summary.ts";

/** The words bash makes of `line` (an independent reading of the quoting). */
async function bashWords(line: string): Promise<string[]> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `printf '%s\\0' ${line}`],
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).split("\0").slice(0, -1);
}

const spec = (over: Partial<JobSpec>): JobSpec => ({
  fixedClass: null,
  classes: [0, 1],
  labels: ["x", "y"],
  guidance: 3,
  steps: 100,
  sampler: "ddpm",
  eta: 0,
  threshold: null,
  guidanceInterval: null,
  tile: null,
  seed: 0,
  scale: 16,
  softAlpha: false,
  previewEvery: 5, // the default for 100 steps: about 20 frames
  palette: null,
  paletteScope: null,
  dither: "none",
  outline: null,
  despeckle: false,
  post: {},
  init: null,
  mask: null,
  resample: 0,
  resize: false,
  ...over,
});

Deno.test("shellWord: plain words stay, the rest is quoted so bash reads it back", async () => {
  const words = [
    "plain-word_1.0/x.safetensors",
    "my weights.safetensors",
    "it's",
    "$HOME",
    'a"b',
    "",
  ];
  deepStrictEqual(shellWord(words[0]), words[0]);
  deepStrictEqual(await bashWords(words.map(shellWord).join(" ")), words);
});

Deno.test("sampleCommandLine: every option that changes the files, words bash reads back", async () => {
  const classNames = ["2", "big slime", "sword"];
  const defaults = sampleCommandLine(spec({}), classNames, undefined);
  deepStrictEqual(
    defaults,
    "deno run -A main.ts sample --n 2 --seed 0 --guidance 3 --steps 100 --sampler ddpm --gif",
  );
  const line = sampleCommandLine(
    spec({
      fixedClass: 1,
      sampler: "ddim",
      eta: 0.5,
      scale: 4,
      previewEvery: 7,
      softAlpha: true,
      seed: 4294967295,
      guidance: 7.5,
    }),
    classNames,
    "my weights/tiny.safetensors",
  );
  deepStrictEqual(await bashWords(line), [
    ..."deno run -A main.ts sample".split(" "),
    ..."--weights|my weights/tiny.safetensors|--class|big slime|--n|2|--seed|4294967295".split("|"),
    ..."--guidance 7.5 --steps 100 --sampler ddim --eta 0.5 --scale 4 --preview-every 7".split(" "),
    "--soft-alpha",
    "--gif",
  ]);
  const paletted = sampleCommandLine(
    spec({
      palette: "auto:5",
      paletteScope: "batch",
      dither: "floyd",
      outline: "102030",
      despeckle: true,
    }),
    classNames,
    undefined,
  );
  deepStrictEqual(
    (await bashWords(paletted)).slice(-10).join(" "),
    "--palette auto:5 --palette-scope batch --dither floyd --outline 102030 --despeckle --gif",
  );
  const variation = sampleCommandLine(
    spec({ fixedClass: 2, init: { job: "j", sprite: 1, file: "sword-s3-1.png", strength: 0.45 } }),
    classNames,
    undefined,
  );
  deepStrictEqual(
    (await bashWords(variation)).slice(5, 11).join(" "),
    "--class sword --init sword-s3-1.png --strength 0.45",
  );
  // Class "2" named by its name would mean index 2 ("sword") to `sample`: its index is used.
  const numeric = sampleCommandLine(spec({ fixedClass: 0 }), classNames, undefined);
  deepStrictEqual((await bashWords(numeric)).slice(5, 7), ["--class", "0"]);
});

Deno.test("sampleCommandLine: class mixes, tiles, uploads, inpainting and the new sampler options", async () => {
  const classNames = ["2", "big slime", "sword", "a:b"];
  const line = sampleCommandLine(
    spec({
      fixedClass: { mix: [[1, 0.7], [0, 0.3], [3, 2]] },
      init: { upload: true, file: "init.png", strength: 1 },
      mask: "mask.png",
      resample: 3,
      resize: true,
      tile: "xy",
      threshold: 99.5,
      guidanceInterval: [0.2, 0.9],
    }),
    classNames,
    undefined,
  );
  deepStrictEqual((await bashWords(line)).slice(5), [
    // "2" and "a:b" by index: the name would mean another class, or break the mix's syntax.
    ..."--class|big slime:0.7,0:0.3,3:2|--init|init.png|--strength|1|--mask|mask.png".split("|"),
    ..."--resample 3 --resize --tile xy --n 2 --seed 0 --guidance 3 --steps 100".split(" "),
    ..."--sampler ddpm --threshold 99.5 --guidance-interval 0.2,0.9 --gif".split(" "),
  ]);
});
