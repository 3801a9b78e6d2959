import { deepStrictEqual, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import { BUILTIN_PALETTES } from "./builtin.ts";
import { makePalette } from "./palette.ts";
import { parsePaletteSpec, resolvePaletteSpec } from "./spec.ts";

Deno.test("palette spec: names, dataset, auto:K and files", async () => {
  deepStrictEqual(parsePaletteSpec("PICO8"), {
    kind: "builtin",
    palette: BUILTIN_PALETTES.get("pico8"),
  });
  deepStrictEqual(parsePaletteSpec("dataset"), { kind: "dataset" });
  deepStrictEqual(parsePaletteSpec("auto:8"), { kind: "auto", colors: 8 });
  deepStrictEqual(parsePaletteSpec("auto:256"), { kind: "auto", colors: 256 });
  deepStrictEqual(parsePaletteSpec("my/pal.GPL"), { kind: "file", path: "my/pal.GPL" });
  const stored = makePalette("dataset", [[1, 2, 3]]);
  const weights = { palette: stored, source: "w.safetensors" };
  deepStrictEqual(await resolvePaletteSpec({ kind: "dataset" }, weights), { fixed: stored });
  deepStrictEqual(await resolvePaletteSpec({ kind: "auto", colors: 4 }, weights), { auto: 4 });
  const dir = await Deno.makeTempDir({ prefix: "palette-spec-" });
  try {
    await Deno.writeTextFile(join(dir, "two.hex"), "010203\nfffefd\n");
    deepStrictEqual(
      await resolvePaletteSpec(parsePaletteSpec(join(dir, "two.hex")), weights),
      { fixed: makePalette("two", [[1, 2, 3], [255, 254, 253]]) },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("palette spec: bad specs are refused in one line", async () => {
  const auto = "auto:K needs a whole number of colours K from 2 to 256";
  for (const bad of ["auto:1", "auto:x", "auto:300", "auto:", "auto:4.5"]) {
    throws(() => parsePaletteSpec(bad), { message: `palette '${bad}': ${auto}` });
  }
  throws(() => parsePaletteSpec("pico-9"), {
    message:
      "unknown palette 'pico-9': give a built-in name (pico8, db16, db32, endesga32, sweetie16, nes, gameboy, c64, cga), dataset, auto:K, or a .hex/.gpl/.pal/.png file",
  });
  await rejects(resolvePaletteSpec({ kind: "dataset" }, { source: "old.safetensors" }), {
    message:
      "old.safetensors carries no dataset palette (weights trained before palettes were stored, or data with more than 256 colours); add one with scripts/add_palette.ts, or choose another palette",
  });
});
