// deno-lint-ignore-file no-control-regex -- kitty escapes begin with ESC
/**
 * End to end on a pseudo-terminal (`script`): `sample`'s live preview and `train`'s sample grids
 * drawn as kitty pictures. Each picture's PNG, decoded, holds the sprites the command wrote.
 */

import { deepStrictEqual, ok } from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { GENERATE_DEFAULTS } from "../lib/generate/defaults.ts";
import type { RgbaImage } from "../lib/io/image.ts";
import { decodePng } from "../lib/io/png.ts";
import { CHECKER, compositeOverChecker } from "../lib/io/sheet.ts";
import { formatStarting } from "../lib/term/progress.ts";
import { MAIN, withTempDir, writeTinyDataset, writeTinyWeights } from "./cli_helpers.ts";

/** Runs main.ts on a pseudo-terminal (nothing answers its queries); its output, as bytes. */
async function onTty(args: string[]): Promise<string> {
  const quoted = [Deno.execPath(), "run", "-A", MAIN, ...args].map((a) => `'${a}'`);
  const out = await new Deno.Command("script", {
    args: ["-qec", quoted.join(" "), "/dev/null"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { TERM: "xterm-256color", NO_COLOR: "" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  deepStrictEqual(out.code, 0, text);
  return text.replaceAll("\r\n", "\n"); // the terminal's own newline translation undone
}

interface Transmission {
  id: string;
  /** Where in the output the picture's first escape starts. */
  at: number;
  png: RgbaImage;
}

/** Every kitty picture in `text`, its chunks joined and its PNG decoded. */
async function kittyPictures(text: string): Promise<Transmission[]> {
  const found: Transmission[] = [];
  const escape = /\x1b_G([^;]*);([^\x1b]*)\x1b\\/g;
  let current: { id: string; at: number; payload: string } | null = null;
  for (const m of text.matchAll(escape)) {
    const keys = Object.fromEntries(m[1].split(",").map((kv) => kv.split("=")));
    if (keys.a === "T") current = { id: keys.i, at: m.index, payload: "" };
    if (!current) continue;
    current.payload += m[2];
    if (keys.m === "0") {
      const bytes = new Uint8Array(Buffer.from(current.payload, "base64"));
      found.push({ id: current.id, at: current.at, png: await decodePng(bytes, "picture") });
      current = null;
    }
  }
  return found;
}

/** The 16×16 tile at (row, column) of a grid drawn at `scale` with `gap` pixels between tiles. */
function tile(grid: RgbaImage, row: number, column: number, scale: number, gap: number) {
  const data = new Uint8Array(16 * 16 * 4);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 16; x++) {
      const gx = column * (16 * scale + gap) + x * scale;
      const gy = row * (16 * scale + gap) + y * scale;
      const from = (gy * grid.width + gx) * 4;
      data.set(grid.data.subarray(from, from + 4), (y * 16 + x) * 4);
    }
  }
  return { width: 16, height: 16, data };
}

const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "sample --preview kitty: frames replace each other; the last one is the written sprites",
  ignore: !hasScript,
  async fn() {
    await withTempDir("preview-cli-", async (dir) => {
      const weights = join(dir, "tiny.safetensors");
      await writeTinyWeights(weights);
      const out = join(dir, "out");
      const text = await onTty([
        "sample",
        ...`--weights ${weights} --n 3 --steps 3 --preview-every 1 --soft-alpha --out ${out}`
          .split(" "),
        ...["--preview", "kitty", "--preview-scale", "2"],
      ]);
      const pictures = await kittyPictures(text);
      // Until the first frame (on a new machine, while the kernels compile) a status line.
      ok(text.slice(0, pictures[0].at).includes(formatStarting(20)), "no starting line");
      // Steps 1, 2 and 3 (the last doubles as the end): one picture each, all under one id.
      deepStrictEqual(pictures.length, 3);
      deepStrictEqual(new Set(pictures.map((p) => p.id)).size, 1);
      // Every frame after the first goes back up over the block first: the picture's lines
      // (32 px at 20 px per assumed cell = 2) and the status line.
      for (const p of pictures.slice(1)) {
        ok(text.slice(0, p.at).endsWith("\x1b[?2026h\x1b[3A\n\n\x1b[2A\x1b7"), "not in place");
      }
      // All drawn before the summary, which would otherwise be drawn over.
      ok(
        pictures[2].at < text.indexOf(`3 sprites (${GENERATE_DEFAULTS.sampler}`),
        "a frame after the summary",
      );
      // The final frame: each sprite as written (soft alpha: the raw prediction itself) over
      // the checkerboard, NEAREST ×2, 2 pixels apart, in one row.
      const last = pictures.at(-1)!.png;
      deepStrictEqual([last.width, last.height], [3 * 32 + 2 * 2, 32]);
      for (let i = 0; i < 3; i++) {
        const written = await decodePng(
          await Deno.readFile(join(out, `${["slime", "sword", "potion"][i]}-s0-${i}.png`)),
          "sprite",
        );
        deepStrictEqual(tile(last, 0, i, 2, 2), compositeOverChecker(written, CHECKER.square));
      }
    });
  },
});

Deno.test({
  name: "train --preview kitty: the EMA grid above the progress line, one row per class",
  ignore: !hasScript,
  async fn() {
    await withTempDir("preview-cli-", async (dir) => {
      const data = await writeTinyDataset(dir, 16);
      const out = join(dir, "run");
      const text = await onTty([
        "train",
        ...`--data ${data} --config tiny --batch 8 --steps 2 --sample-every 2 --out ${out}`
          .split(" "),
        ...["--preview", "kitty", "--preview-scale", "1"],
      ]);
      const pictures = await kittyPictures(text);
      deepStrictEqual(pictures.length, 1);
      ok(text.slice(0, text.indexOf("2/2")).includes(formatStarting(20)), "no starting line");
      // 2 classes × 4 sprites at scale 1, 1 pixel apart; the written grid is ×4, 2 apart.
      const shown = pictures[0].png;
      deepStrictEqual([shown.width, shown.height], [4 * 16 + 3, 2 * 16 + 1]);
      const written = await decodePng(
        await Deno.readFile(join(out, "samples-0000002.png")),
        "grid",
      );
      // The sheet's checkerboard runs across its gaps, the terminal's starts at each sprite,
      // so where it shows through the two may differ; every other pixel is the same.
      const isChecker = (d: Uint8Array, i: number) =>
        (d[i] === CHECKER.light || d[i] === CHECKER.dark) && d[i + 1] === d[i] &&
        d[i + 2] === d[i];
      let sprite = 0;
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 4; c++) {
          const a = tile(shown, r, c, 1, 1).data;
          const b = tile(written, r, c, 4, 2).data;
          for (let i = 0; i < a.length; i += 4) {
            const same = a.subarray(i, i + 4).every((v, k) => v === b[i + k]);
            ok(same || (isChecker(a, i) && isChecker(b, i)), `sprite ${r},${c} pixel ${i / 4}`);
            if (!isChecker(b, i)) sprite++;
          }
        }
      }
      ok(sprite > 100, `only ${sprite} sprite pixels: nothing was compared`);
      // Above the progress line, which is drawn again below it.
      ok(text.slice(pictures[0].at).includes("2/2"), "no progress line below the grid");
    });
  },
});
