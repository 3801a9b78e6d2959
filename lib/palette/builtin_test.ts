import { deepStrictEqual } from "node:assert/strict";
import { BUILTIN_PALETTES } from "./builtin.ts";
import { hexOf } from "./palette.ts";

Deno.test("builtin palettes: sizes, no colour lost to a duplicate, and spot checks", () => {
  const sizes = Object.fromEntries(
    [...BUILTIN_PALETTES.values()].map((p) => [p.name, p.colors.length]),
  );
  deepStrictEqual(sizes, {
    pico8: 16,
    db16: 16,
    db32: 32,
    endesga32: 32,
    sweetie16: 16,
    nes: 55,
    gameboy: 4,
    c64: 16,
    cga: 4,
  });
  const at = (name: string, i: number) => hexOf(BUILTIN_PALETTES.get(name)!.colors[i]);
  // Values the published sources agree on and copies get wrong (see builtin.ts for sources).
  deepStrictEqual(
    [at("pico8", 10), at("pico8", 11), at("db16", 0), at("endesga32", 1), at("sweetie16", 15)],
    ["ffec27", "00e436", "140c1c", "d77643", "333c57"],
  );
  deepStrictEqual([at("gameboy", 0), at("c64", 6), at("cga", 2), at("nes", 54)], [
    "0f380f",
    "40318d",
    "ff55ff",
    "f8d8f8",
  ]);
});
