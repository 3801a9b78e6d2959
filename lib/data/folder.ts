/**
 * The ImageFolder convention: one subfolder of PNGs per class, class names
 * from the folder names, classes and files in code-point order (as
 * torchvision sorts them). Dotfiles (.DS_Store and the like) are skipped.
 */

import { DatasetError } from "./errors.ts";
import type { RgbaImage } from "../io/image.ts";
import type { LoadOptions, SpriteDataset } from "./dataset.ts";
import { buildDataset } from "./pixels.ts";
import { readPng } from "./sheet.ts";

async function listDir(path: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(path)) {
      if (!entry.name.startsWith(".")) entries.push(entry);
    }
  } catch (err) {
    throw new DatasetError(
      `${path}: cannot list folder (${err instanceof Error ? err.message : err})`,
    );
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function loadClassFolders(path: string, opts: LoadOptions): Promise<SpriteDataset> {
  const entries = await listDir(path);
  const stray = entries.find((e) => !e.isDirectory);
  if (stray) {
    throw new DatasetError(
      `${path}/${stray.name}: a class folder dataset holds only subfolders (one per class); move the file into one`,
    );
  }
  if (entries.length === 0) {
    throw new DatasetError(`${path}: empty folder; expected one subfolder of PNGs per class`);
  }
  const images: RgbaImage[] = [];
  const labels: number[] = [];
  const classNames = entries.map((e) => e.name);
  for (const [label, name] of classNames.entries()) {
    const dir = `${path}/${name}`;
    const files = await listDir(dir);
    const notPng = files.find((f) => !f.isFile || !f.name.toLowerCase().endsWith(".png"));
    if (notPng) {
      throw new DatasetError(
        `${dir}/${notPng.name}: not a PNG file; class folders hold only .png sprites (convert or remove it)`,
      );
    }
    if (files.length === 0) {
      throw new DatasetError(
        `${dir}: class '${name}' has no PNG files; add sprites or remove the folder`,
      );
    }
    for (const file of files) {
      images.push(await readPng(`${dir}/${file.name}`));
      labels.push(label);
    }
  }
  return buildDataset(images, Int32Array.from(labels), classNames, path, opts);
}
