/**
 * Atomic file writes: data goes to a temporary file beside the target and is
 * renamed over it, so a crash or Ctrl-C never leaves a half-written file.
 */

import { dirname } from "node:path";

export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

export const writeTextAtomic = (path: string, text: string): Promise<void> =>
  writeFileAtomic(path, new TextEncoder().encode(text));

/** Creates `dir` (and parents) and checks that files can be written in it. */
export async function ensureWritableDir(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const probe = `${dir}/.write-probe-${Deno.pid}`;
  await Deno.writeFile(probe, new Uint8Array());
  await Deno.remove(probe);
}

export { dirname };
