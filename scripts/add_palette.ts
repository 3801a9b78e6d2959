/**
 * Adds the `dataset` palette (the training data's distinct opaque colours) to a weights file
 * written before `train` stored it, changing nothing else: the new header is followed by the
 * original tensor bytes. The data must be the one the weights were trained on (checked against
 * the dataset hash in their provenance, when they carry one).
 *
 *   deno run -A scripts/add_palette.ts WEIGHTS [--data PATH] [--out FILE] [--force]
 *
 * Without --out the file is rewritten in place (atomically).
 */

import { parseArgs } from "node:util";
import { UserError } from "../lib/cli/errors.ts";
import { datasetHash, DEFAULT_DATASET, loadDataset } from "../lib/data/dataset.ts";
import { writeFileAtomic } from "../lib/io/atomic.ts";
import { parseSafetensors, withMetadata } from "../lib/io/safetensors.ts";
import { paletteMetadata, parseWeights } from "../lib/model/weights.ts";
import { datasetPalette } from "../lib/data/palette.ts";
import { InputError } from "../lib/util/errors.ts";

const USAGE = "usage: add_palette.ts WEIGHTS [--data PATH] [--out FILE] [--force]";

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      data: { type: "string", default: DEFAULT_DATASET },
      out: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) throw new UserError(USAGE, 2);
  const [path] = positionals;
  const out = values.out ?? path;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as Error).message})`);
  }
  const weights = parseWeights(bytes, path);
  const data = await loadDataset(values.data);
  const trainedOn = weights.provenance.dataset_hash;
  if (typeof trainedOn === "string" && trainedOn !== await datasetHash(data) && !values.force) {
    throw new UserError(
      `${values.data} is not the dataset ${path} was trained on (its hash differs from the provenance's dataset_hash); pass the right --data, or --force`,
    );
  }
  const palette = datasetPalette(data);
  if (!palette) {
    throw new UserError(`${values.data} has more than 256 colours; no dataset palette to store`);
  }
  const updated = withMetadata(bytes, path, { palette: paletteMetadata(palette) });
  // What is written must load, with the palette, and carry every tensor byte for byte.
  const check = parseWeights(updated, out);
  const before = parseSafetensors(bytes, path).tensors;
  const after = parseSafetensors(updated, out).tensors;
  const same = [...before].every(([name, t]) => {
    const u = after.get(name)!.bytes;
    return u.length === t.bytes.length && u.every((b, i) => b === t.bytes[i]);
  });
  if (check.palette?.colors.length !== palette.colors.length || !same) {
    throw new Error("internal error: the rewritten file does not match; nothing written");
  }
  await writeFileAtomic(out, updated);
  console.log(
    `${out}: added the ${palette.colors.length}-colour dataset palette of ${values.data}; ${before.size} tensors unchanged`,
  );
}

try {
  await main();
} catch (err) {
  if (!(err instanceof InputError)) throw err;
  console.error(`error: ${err.message}`);
  Deno.exit(err instanceof UserError ? err.exitCode : 1);
}
