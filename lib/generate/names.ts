/**
 * What front ends call a request's sprites: the class label of each (the null class
 * is "unconditional") and the file stem `<class>-s<seed>-<i>` the CLI writes and the
 * page offers for download.
 */

/** The label of class `c` (num_classes, one past the last, is the unconditional null class). */
export const classLabel = (classNames: readonly string[], c: number): string =>
  c === classNames.length ? "unconditional" : classNames[c];

const slug = (name: string) =>
  name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "class";

/** The file stem of sprite `index` of a request with `seed`: `<class slug>-s<seed>-<index>`. */
export const spriteStem = (label: string, seed: number, index: number): string =>
  `${slug(label)}-s${seed}-${index}`;
