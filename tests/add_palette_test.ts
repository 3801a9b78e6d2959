/** scripts/add_palette.ts: adds the dataset palette to weights without touching a tensor byte. */

import { deepStrictEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseSafetensors, withMetadata } from "../lib/io/safetensors.ts";
import { readWeights } from "../lib/cli/weights.ts";
import { hexOf } from "../lib/palette/palette.ts";
import { withTempDir, writeTinyDataset, writeTinyWeights } from "./cli_helpers.ts";

const SCRIPT = fileURLToPath(new URL("../scripts/add_palette.ts", import.meta.url));

async function addPalette(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("add_palette: stores the data's colours; tensors byte for byte; wrong data refused", async () => {
  await withTempDir("add-palette-", async (dir) => {
    const data = await writeTinyDataset(dir);
    const weights = join(dir, "w.safetensors");
    await writeTinyWeights(weights);
    const original = await Deno.readFile(weights);

    const r = await addPalette([weights, "--data", data, "--out", join(dir, "p.safetensors")]);
    deepStrictEqual(r.code, 0, r.stderr);
    ok(r.stdout.includes("added the 3-colour dataset palette"), r.stdout);
    deepStrictEqual(await Deno.readFile(weights), original, "--out leaves the input alone");
    const updated = await Deno.readFile(join(dir, "p.safetensors"));
    const before = parseSafetensors(original, "before");
    const after = parseSafetensors(updated, "after");
    for (const [name, t] of before.tensors) {
      deepStrictEqual(after.tensors.get(name)!.bytes, t.bytes);
    }
    deepStrictEqual(after.metadata, {
      ...before.metadata,
      palette: '["1e3cc8","dc2828","f0f0f0"]',
    });
    const loaded = await readWeights(join(dir, "p.safetensors"));
    deepStrictEqual(loaded.palette?.colors.map(hexOf), ["1e3cc8", "dc2828", "f0f0f0"]);

    // Weights whose provenance names another dataset's hash are refused, and nothing is written.
    const other = join(dir, "other.safetensors");
    await Deno.writeFile(
      other,
      withMetadata(original, "w", { provenance: JSON.stringify({ dataset_hash: "ab12" }) }),
    );
    const refused = await addPalette([other, "--data", data]);
    deepStrictEqual(refused.code, 1);
    deepStrictEqual(
      refused.stderr,
      `error: ${data} is not the dataset ${other} was trained on (its hash differs from the provenance's dataset_hash); pass the right --data, or --force\n`,
    );
    deepStrictEqual(parseSafetensors(await Deno.readFile(other), "o").metadata.palette, undefined);
  });
});
