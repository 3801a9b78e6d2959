import { deepStrictEqual, throws } from "node:assert/strict";
import { parseSafetensors, withMetadata } from "../io/safetensors.ts";
import { ParamLayout } from "../nn/params.ts";
import { makePalette } from "../palette/palette.ts";
import { type ModelConfig, paramSpecs } from "./config.ts";
import { encodeWeights, parseWeights } from "./weights.ts";

const CONFIG: ModelConfig = {
  in_ch: 4,
  base_ch: 8,
  channel_mults: [1, 2],
  num_res_blocks: 1,
  use_attention: [false, false],
  num_classes: 2,
};

function weights() {
  const layout = new ParamLayout(paramSpecs(CONFIG));
  const flat = Float32Array.from({ length: layout.size }, (_, i) => Math.sin(i));
  return { config: CONFIG, classNames: ["a", "b"], provenance: {}, layout, flat };
}

Deno.test("weights: the dataset palette is stored as a JSON list of rrggbb and read back", () => {
  const palette = makePalette("dataset", [[30, 60, 200], [220, 40, 40], [240, 240, 240]]);
  const bytes = encodeWeights({ ...weights(), palette });
  deepStrictEqual(
    parseSafetensors(bytes, "w").metadata.palette,
    '["1e3cc8","dc2828","f0f0f0"]',
  );
  deepStrictEqual(parseWeights(bytes, "w").palette, palette);
  deepStrictEqual("palette" in parseWeights(encodeWeights(weights()), "w"), false);
});

Deno.test("weights: a malformed palette entry is refused in one line", () => {
  const base = encodeWeights(weights());
  const message = 'w.safetensors: metadata palette must be a JSON array of 1–256 "rrggbb" colours';
  for (const bad of ['["ff004d","12345g"]', "[]", '"ff004d"', "[16711757]", '["#ff004d"]']) {
    throws(() => parseWeights(withMetadata(base, "w", { palette: bad }), "w.safetensors"), {
      message,
    });
  }
  throws(() => parseWeights(withMetadata(base, "w", { palette: "[ff" }), "w.safetensors"), {
    message: "w.safetensors: metadata palette is not valid JSON",
  });
});
