/**
 * The original's sampler must not change: `sample --steps 1000 --sampler ddpm` writes the bytes
 * it wrote before DPM-Solver++ and the guidance interval shared its update kernel, and the
 * sampler's raw f32 output (which PNG's 8 bits would hide small changes of) is the same. The
 * digests were recorded on Mesa lavapipe (llvmpipe, LLVM 15) with main at 7ac53e8; other
 * adapters round differently, so there the tests are ignored.
 */

import { deepStrictEqual } from "node:assert/strict";
import { join } from "node:path";
import { Generator } from "../lib/generate/generator.ts";
import { getGpu } from "../lib/gpu/device.ts";
import { readWeights } from "../lib/model/weights.ts";
import { runMain, succeeded, withTempDir, writeTinyWeights } from "./cli_helpers.ts";

/** SHA-256 of each file of `sample --weights tiny --steps 1000 --sampler ddpm --seed 5 --n 3`. */
const RECORDED: Record<string, string> = {
  "slime-s5-0.png": "538e32769ea21603d62efec7b6c84193421875b5beb005ae32946f2bbb7a0ee5",
  "slime-s5-0-x16.png": "d45eb8799ca0d838704197c428369060ae4bda7ac3747f23ee02ee1cb9fec1ec",
  "sword-s5-1.png": "d2ed1b09aeaabfb99710bea0b3be80ce44002fa62e382ee980a2015747523d1d",
  "sword-s5-1-x16.png": "a843fd27dcc1641300245eef094969b9032a30cbd8153eb30cde73a0cd98d373",
  "potion-s5-2.png": "fa23e42dab96a17a12af6e1de956cd3af4375ac2002ec909e46b0add3368be08",
  "potion-s5-2-x16.png": "f4d9db798996f71182e07677bcd499f456a1614a658075a50ca609eaec284934",
  "sheet-s5.png": "9e64772bfcb5b755cfb5804dd074bf0f0074ee962303438825e11d4eda348fd4",
};

/** SHA-256 of the raw [3, 4, 16, 16] f32 output of the same run (classes 0, 1, 2, guidance 3). */
const RECORDED_RAW = "2b23debda64e6ea02d3956e29f304c229124d9ba07de2ef53320ce11805a53f6";

const sha256 = async (bytes: Uint8Array<ArrayBuffer>) =>
  Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");

const lavapipe = (await getGpu()).adapter.description.startsWith("llvmpipe (LLVM 15");

Deno.test({
  name: "sample: --steps 1000 --sampler ddpm is byte for byte what it was (lavapipe)",
  ignore: !lavapipe,
  fn: () =>
    withTempDir("ddpm-regression-", async (dir) => {
      const weights = join(dir, "tiny.safetensors");
      await writeTinyWeights(weights);
      const out = join(dir, "out");
      succeeded(
        await runMain([
          "sample",
          ...["--weights", weights, "--steps", "1000", "--sampler", "ddpm"],
          ...["--seed", "5", "--n", "3", "--no-preview", "--out", out],
        ]),
      );
      const got: Record<string, string> = {};
      for (const name of Object.keys(RECORDED)) {
        got[name] = await sha256(await Deno.readFile(join(out, name)));
      }
      deepStrictEqual(got, RECORDED);
    }),
});

Deno.test({
  name: "generate: 1000 ancestral DDPM steps give the raw output they gave (lavapipe)",
  ignore: !lavapipe,
  fn: () =>
    withTempDir("ddpm-regression-", async (dir) => {
      const path = join(dir, "tiny.safetensors");
      await writeTinyWeights(path);
      const generator = Generator.fromWeights(await getGpu(), await readWeights(path));
      try {
        const { raw } = await generator.generate({
          classes: [0, 1, 2],
          guidance: 3,
          steps: 1000,
          sampler: "ddpm",
          seed: 5,
        });
        deepStrictEqual(await sha256(new Uint8Array(raw.buffer as ArrayBuffer)), RECORDED_RAW);
      } finally {
        generator.destroy();
      }
    }),
});
