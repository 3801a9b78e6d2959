/**
 * The file stem of a sprite, `<class>-s<seed>-<i>`: what `sample` writes, `serve` and
 * the page offer for download (lib/generate/files.ts names every file of a generation).
 */

/** A file-name-safe form of a class name. */
const slug = (name: string) =>
  name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "class";

/** The stem of sprite `index` (labelled `label`) of a generation with `seed`. */
export const spriteStem = (label: string, seed: number, index: number): string =>
  `${slug(label)}-s${seed}-${index}`;
