/** End to end: `main.ts data info|preview|build` as a user runs them. */

import { deepStrictEqual, ok } from "node:assert/strict";
import { decodePng } from "../lib/io/png.ts";
import { npyBytes } from "../lib/data/testing.ts";
import { runMain } from "./cli_helpers.ts";

const data = (...args: string[]) => runMain(["data", ...args]);

/** Exit code ≠ 0 and exactly one line on stderr: `error: …` naming `file`, matching `pattern`. */
function failsWith(r: { code: number; stderr: string }, file: string, pattern: RegExp): void {
  ok(r.code !== 0, "exit code 0");
  const lines = r.stderr.trim().split("\n");
  deepStrictEqual(lines.length, 1, r.stderr);
  ok(lines[0].startsWith("error: ") && lines[0].includes(file), lines[0]);
  ok(pattern.test(lines[0]), `'${lines[0]}' does not match ${pattern}`);
}

Deno.test("data info: the default dataset, and a .npy pair", async () => {
  const r = await data("info");
  deepStrictEqual(r.code, 0, r.stderr);
  ok(/sprites\s+\d{4} of 16×16, 4 channels \(RGBA\)/.test(r.stdout), r.stdout);
  for (
    const name of ["people", "monsters", "food", "armour", "heroes", "weapons", "magic", "terrain"]
  ) {
    ok(new RegExp(`\\d ${name}\\s+\\d+`).test(r.stdout), `no count for ${name}:\n${r.stdout}`);
  }
  ok(/-1 unlabelled\s+\d+/.test(r.stdout), r.stdout);

  const dir = await Deno.makeTempDir({ prefix: "data-cli-" });
  try {
    await Deno.writeFile(
      `${dir}/sprites.npy`,
      npyBytes("|u1", [3, 16, 16, 3], new Uint8Array(3 * 768).fill(200)),
    );
    await Deno.writeFile(
      `${dir}/sprites_labels.npy`,
      npyBytes("<i8", [3], BigInt64Array.of(1n, 0n, 1n)),
    );
    const npy = await data("info", `${dir}/sprites.npy`);
    deepStrictEqual(npy.code, 0, npy.stderr);
    ok(npy.stdout.includes("sprites   3 of 16×16, 3 channels (RGB)"), npy.stdout);
    ok(/0 class 0\s+1\n.*1 class 1\s+2/.test(npy.stdout), npy.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data preview: a contact sheet with one row per class, unlabelled last", async () => {
  const dir = await Deno.makeTempDir({ prefix: "data-cli-" });
  try {
    const r = await data(
      "preview",
      "--out",
      `${dir}/sheet.png`,
      "--per-class",
      "5",
      "--scale",
      "2",
    );
    deepStrictEqual(r.code, 0, r.stderr);
    ok(
      r.stdout.includes(
        "9 rows (people, monsters, food, armour, heroes, weapons, magic, terrain, unlabelled)",
      ),
      r.stdout,
    );
    ok(!r.stdout.includes("\x1b["), "colour codes with NO_COLOR set");
    const sheet = await decodePng(await Deno.readFile(`${dir}/sheet.png`), "sheet.png");
    // 5 tiles of 32 px with 2 px gaps across, 9 rows down; opaque (alpha over a checkerboard).
    deepStrictEqual([sheet.width, sheet.height], [5 * 32 + 4 * 2, 9 * 32 + 8 * 2]);
    ok(sheet.data.every((v, i) => i % 4 !== 3 || v === 255));
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["sheet.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data: bad input gives one line naming the file, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "data-cli-" });
  try {
    failsWith(await data("info", `${dir}/nope.npy`), `${dir}/nope.npy`, /cannot read/);
    await Deno.writeFile(`${dir}/cut.npy`, npyBytes("|u1", [2, 16, 16, 3], new Uint8Array(1000)));
    failsWith(
      await data("preview", `${dir}/cut.npy`, "--out", `${dir}/p.png`),
      `${dir}/cut.npy`,
      /truncated/,
    );
    failsWith(await data("preview", "--scale", "0"), "--scale", /between 1 and 64/);
    failsWith(await data("info", "--channels", "2"), "--channels", /one of 3, 4/);
    failsWith(await data("frobnicate"), "frobnicate", /use build, info or preview/);
    failsWith(
      await data("build", "--debs", dir, "--out", `${dir}/built`),
      dir,
      /expected one angband-data_\*\.deb/,
    );
    deepStrictEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["built", "cut.npy"]);
    deepStrictEqual([...Deno.readDirSync(`${dir}/built`)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
