import { deepStrictEqual } from "node:assert/strict";
import { sheetLayout } from "./sheet.ts";
import { sheetJson } from "./sheet_json.ts";

Deno.test("sheet json: Aseprite's json-array shape, frames where sheetLayout puts the tiles", () => {
  // Two 16×16 sprites in one row at scale 4 with a 2-pixel gap: 64×64 tiles at x = 0 and 66.
  const layout = sheetLayout([2], { width: 16, height: 16 }, { scale: 4, gap: 2 });
  deepStrictEqual([layout.width, layout.height], [130, 64]);
  const names = ["slime-s3-0.png", "sword-s3-1.png"];
  const text = sheetJson(
    layout.tiles.map((t, i) => ({
      filename: names[i],
      ...t,
      class: names[i].split("-")[0],
      seed: 3,
    })),
    { image: "sheet-s3.png", width: layout.width, height: layout.height, format: "I8" },
  );
  deepStrictEqual(JSON.parse(text), {
    frames: [
      {
        filename: "slime-s3-0.png",
        frame: { x: 0, y: 0, w: 64, h: 64 },
        rotated: false,
        trimmed: false,
        spriteSourceSize: { x: 0, y: 0, w: 64, h: 64 },
        sourceSize: { w: 64, h: 64 },
        duration: 100,
        class: "slime",
        seed: 3,
      },
      {
        filename: "sword-s3-1.png",
        frame: { x: 66, y: 0, w: 64, h: 64 },
        rotated: false,
        trimmed: false,
        spriteSourceSize: { x: 0, y: 0, w: 64, h: 64 },
        sourceSize: { w: 64, h: 64 },
        duration: 100,
        class: "sword",
        seed: 3,
      },
    ],
    meta: {
      app: "pixel-diffusion",
      version: "1",
      image: "sheet-s3.png",
      format: "I8",
      size: { w: 130, h: 64 },
      scale: "1",
    },
  });
});
