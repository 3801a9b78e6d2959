import { deepStrictEqual, rejects } from "node:assert/strict";
import { join } from "node:path";
import { rgba, writePng } from "../data/testing.ts";
import { formatGplPalette, formatHexPalette, readPaletteFile } from "./files.ts";
import { makePalette } from "./palette.ts";

async function withFiles(
  files: Record<string, string | Uint8Array>,
  body: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "palette-files-" });
  try {
    for (const [name, content] of Object.entries(files)) {
      await (typeof content === "string"
        ? Deno.writeTextFile(join(dir, name), content)
        : Deno.writeFile(join(dir, name), content));
    }
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The palette read from `dir/name`, as [name, [r,g,b]…]. */
async function read(dir: string, name: string) {
  const p = await readPaletteFile(join(dir, name));
  return [p.name, p.colors.map((c) => [...c])];
}

/** Reading `dir/name` fails with exactly `message` (the path prefixed). */
async function refused(dir: string, name: string, message: string) {
  await rejects(readPaletteFile(join(dir, name)), { message: `${join(dir, name)}${message}` });
}

Deno.test("palette files: each format parses to the same colours", async () => {
  const want = [[255, 0, 77], [0, 135, 81], [29, 43, 83]];
  await withFiles({
    "lospec.hex": "ff004d\r\n008751\n\n#1D2B53\n",
    "gimp.gpl":
      "GIMP Palette\nName: Three\nColumns: 3\n# a comment\n255   0  77\tRed\n  0 135  81 Green\n 29  43  83\n",
    "aseprite.gpl":
      "GIMP Palette\nChannels: RGBA\n#\n  0   0   0   0\tTransparent\n255   0  77 255\tRed\n  0 135  81 200\n 29  43  83 255 Navy\n",
    "jasc.pal": "JASC-PAL\r\n0100\r\n3\r\n255 0 77\r\n0 135 81\r\n29 43 83\r\n",
    "dupes.hex": "ff004d\n008751\nff004d\n1d2b53\n",
  }, async (dir) => {
    deepStrictEqual(await read(dir, "lospec.hex"), ["lospec", want]);
    deepStrictEqual(await read(dir, "gimp.gpl"), ["Three", want]);
    // Aseprite's transparent slot (alpha 0) is not a colour; alpha 200 rounds to opaque.
    deepStrictEqual(await read(dir, "aseprite.gpl"), ["aseprite", want]);
    deepStrictEqual(await read(dir, "jasc.pal"), ["jasc", want]);
    deepStrictEqual(await read(dir, "dupes.hex"), ["dupes", want]);
  });
});

Deno.test("palette files: a PNG's distinct opaque pixels in reading order, at any scale", async () => {
  const [red, green, clear] = [[255, 0, 77, 255], [0, 135, 81, 255], [9, 9, 9, 0]];
  await withFiles({}, async (dir) => {
    // 2× swatches with a transparent gap: red red clear green / red red clear green.
    await writePng(
      join(dir, "swatches.png"),
      rgba(4, 2, [red, red, clear, green, red, red, clear, green]),
    );
    deepStrictEqual(await read(dir, "swatches.png"), ["swatches", [[255, 0, 77], [0, 135, 81]]]);
    const many = Array.from({ length: 300 }, (_, i) => [i & 255, i >> 8, 7, 255]);
    await writePng(join(dir, "photo.png"), rgba(300, 1, many));
    await refused(
      dir,
      "photo.png",
      ": more than 256 distinct colours: not a palette image (one pixel or square per colour)",
    );
    await Deno.writeTextFile(join(dir, "fake.png"), "GIMP Palette\n");
    await refused(dir, "fake.png", ": not a PNG file");
  });
});

Deno.test("palette files: malformed files are refused naming the file and the line", async () => {
  await withFiles({
    "digit.hex": "ff004d\n00875g\n",
    "short.hex": "ff004d\nfff\n",
    "empty.hex": "\n\n",
    "noheader.gpl": "Palette\n255 0 0\n",
    "channel.gpl": "GIMP Palette\nName: x\n255 0 0\n12 300 4\n",
    "missing.gpl": "GIMP Palette\n255 0\n",
    "alpha.gpl": "GIMP Palette\nChannels: RGBA\n255 0 0\n",
    "count.pal": "JASC-PAL\n0100\n4\n255 0 0\n0 255 0\n0 0 255\n",
    "version.pal": "JASC-PAL\n0200\n1\n255 0 0\n",
    "badcount.pal": "JASC-PAL\n0100\nsixteen\n",
    "row.pal": "JASC-PAL\n0100\n2\n255 0 0\n0 -1 0\n",
    "notpal.pal": "GIMP Palette\n255 0 0\n",
    "palette.txt": "ff0000\n",
  }, async (dir) => {
    await refused(
      dir,
      "digit.hex",
      ":2: '00875g' is not a colour; a .hex palette has one RRGGBB per line",
    );
    await refused(
      dir,
      "short.hex",
      ":2: 'fff' is not a colour; a .hex palette has one RRGGBB per line",
    );
    await refused(dir, "empty.hex", ": no colours in this palette file");
    await refused(
      dir,
      "noheader.gpl",
      ":1: not a GIMP palette (the first line must be 'GIMP Palette')",
    );
    await refused(dir, "channel.gpl", ":4: '300' is not a green value (0–255)");
    await refused(dir, "missing.gpl", ":2: blue missing; expected R G B (0–255 each)");
    await refused(dir, "alpha.gpl", ":3: alpha missing; expected R G B A (0–255 each)");
    await refused(dir, "count.pal", ":3: the header says 4 colours, the file has 3");
    await refused(dir, "version.pal", ":2: version '0200' unknown; expected 0100");
    await refused(dir, "badcount.pal", ":3: 'sixteen' is not a colour count (1–256)");
    await refused(dir, "row.pal", ":5: '-1' is not a green value (0–255)");
    await refused(dir, "notpal.pal", ":1: not a JASC palette (the first line must be 'JASC-PAL')");
    await refused(dir, "palette.txt", ": unknown palette file type; use .hex, .gpl, .pal, .png");
    await refused(
      dir,
      "absent.gpl",
      ": cannot read (No such file or directory (os error 2): readfile '" +
        join(dir, "absent.gpl") + "')",
    );
  });
});

Deno.test("palette files: .gpl and .hex written here read back to the same palette", async () => {
  const palette = makePalette("mine", [[0, 0, 0], [255, 241, 232], [18, 78, 137]]);
  deepStrictEqual(
    formatGplPalette(palette),
    "GIMP Palette\nName: mine\nColumns: 8\n#\n  0   0   0\t#000000\n255 241 232\t#fff1e8\n 18  78 137\t#124e89\n",
  );
  deepStrictEqual(formatHexPalette(palette), "000000\nfff1e8\n124e89\n");
  await withFiles({
    "out.gpl": formatGplPalette(palette),
    "mine.hex": formatHexPalette(palette),
  }, async (dir) => {
    deepStrictEqual(await read(dir, "out.gpl"), ["mine", palette.colors]);
    deepStrictEqual(await read(dir, "mine.hex"), ["mine", palette.colors]);
  });
});
