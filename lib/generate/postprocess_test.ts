import { deepStrictEqual } from "node:assert/strict";
import type { RgbaImage } from "../io/image.ts";
import { makePalette } from "../palette/palette.ts";
import { hasPaletteStage, postProcess, postProcessWithPalettes } from "./postprocess.ts";

// Three pixels: dark red (alpha 200), light grey (alpha 100), near-white (alpha 255).
const sprite: RgbaImage = {
  width: 3,
  height: 1,
  data: Uint8Array.of(90, 10, 10, 200, 200, 200, 200, 100, 250, 250, 240, 255),
};
const palette = makePalette("p", [[0, 0, 0], [255, 255, 255], [128, 0, 0]]);

Deno.test("postProcess: alpha snapped first, then the palette stage; palettes reported", () => {
  deepStrictEqual(postProcessWithPalettes([sprite]), {
    images: [{ ...sprite, data: Uint8Array.of(90, 10, 10, 255, 0, 0, 0, 0, 250, 250, 240, 255) }],
    palettes: [undefined],
  });
  deepStrictEqual(postProcess([sprite], { softAlpha: true }), [sprite]);
  // The half-transparent grey is cleared before the outline looks for opaque pixels, so it
  // takes the outline (the darkest palette colour) rather than a palette colour of its own.
  const { images, palettes } = postProcessWithPalettes([sprite], {
    palette: { fixed: palette },
    outline: "auto",
  });
  deepStrictEqual([...images[0].data], [128, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 255]);
  deepStrictEqual(palettes, [palette]);
  deepStrictEqual(sprite.data[7], 100, "the input is not modified");
});

Deno.test("postProcess: what counts as a palette stage", () => {
  deepStrictEqual(
    [{}, { softAlpha: true }, { despeckle: true }, { outline: "auto" as const }, {
      palette: { auto: 4 },
    }].map(hasPaletteStage),
    [false, false, true, true, true],
  );
});
