import { deepStrictEqual } from "node:assert/strict";
import { paramSpecs, PRESETS } from "./config.ts";

// The reference names and shapes, as PyTorch lists them for the original's ContextUNet.
const SEED_STATE_DICT = new URL("../../tests/fixtures/seed-state-dict.txt", import.meta.url);

Deno.test("config: reference preset matches the PyTorch state_dict names, shapes and order", async () => {
  const lines = (await Deno.readTextFile(SEED_STATE_DICT)).split("\n").filter((l) =>
    l && !l.startsWith("#")
  );
  const expected = lines.map((l) => {
    const [name, shape] = l.split(" ");
    return `${name} ${shape}`;
  });
  const specs = paramSpecs(PRESETS.reference);
  deepStrictEqual(specs.map((s) => `${s.name} ${s.shape.join("x")}`), expected);
  deepStrictEqual(specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0), 4_322_243);
});

Deno.test("config: small preset has the documented parameter count", () => {
  const count = paramSpecs(PRESETS.small).reduce(
    (a, s) => a + s.shape.reduce((x, y) => x * y, 1),
    0,
  );
  deepStrictEqual(count, 1_085_923);
});
