/**
 * Builds the default dataset from Adam Bolt's public-domain 16×16 Angband
 * tiles, as Debian ships them, labelled only by the game's own mapping files:
 *
 *   angband-data  /usr/share/angband/xtra/graf/16x16.png   the 32×60 tile sheet
 *   angband       /etc/angband/pref/graf-new.prf           monsters R:, objects K:, terrain F:
 *                 /etc/angband/pref/flvr-new.prf           flavoured objects L:
 *                 /etc/angband/pref/xtra-new.prf           the player, per class and race
 *                 /etc/angband/edit/monster.txt            monster → template (T:)
 *                 /etc/angband/edit/flavor.txt             flavour → object kind
 *
 * A tile's class is voted by every entry that points at it. About half the
 * sheet is art the 3.5 mappings never use; those tiles, and the few whose
 * votes disagree, are kept unlabelled (−1): they are the same artist's
 * sprites, so they still teach the unconditional (null-class) branch, which
 * guidance samples at every step. Blank tiles (one colour) are dropped, and
 * exact duplicates keep their first position (with the union of votes).
 * The packages are fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x`; nothing is installed.
 */

import { basename } from "node:path";
import { DatasetError } from "./errors.ts";
import { writeFileAtomic, writeTextAtomic } from "../io/atomic.ts";
import type { RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import { cutTile, readPng } from "./sheet.ts";

const ANGBAND_PACKAGES = ["angband-data", "angband"] as const;

/** Classes, in the order of the original's five first (its label indices mean the same). */
export const ANGBAND_CLASSES = [
  "people", // townsfolk, persons and humanoids (the original's "Characters")
  "monsters", // every other monster template ("Monsters / Creatures")
  "food", // rations, mushrooms ("Fruits / Food")
  "armour", // body armour, shields, helms, crowns, gloves, boots, cloaks ("Equipment / Armor")
  "heroes", // the player, per class and race ("Fighters / Player Classes")
  "weapons",
  "magic", // potions, scrolls, rings, amulets, wands, staffs, rods, spell books
  "terrain", // floors, walls, doors, stairs, shop entrances, traps, rubble
] as const;

const CLASS = Object.fromEntries(ANGBAND_CLASSES.map((name, i) => [name, i])) as Record<
  (typeof ANGBAND_CLASSES)[number],
  number
>;

const PEOPLE_TEMPLATES = new Set(["person", "townsfolk", "humanoid"]);
/** Monsters drawn as the objects they pose as (a scroll, a pile of coins): no class vote. */
const OBJECT_LOOKING_TEMPLATES = new Set(["mimic", "creeping coins"]);

/** Object kinds (tval names) per class; kinds not listed (gold, chests, lights, flasks) stay unlabelled. */
const KIND_CLASS = new Map<string, number>(Object.entries({
  food: CLASS.food,
  "soft armor": CLASS.armour,
  "hard armor": CLASS.armour,
  "dragon armor": CLASS.armour,
  shield: CLASS.armour,
  helm: CLASS.armour,
  crown: CLASS.armour,
  gloves: CLASS.armour,
  boots: CLASS.armour,
  cloak: CLASS.armour,
  sword: CLASS.weapons,
  hafted: CLASS.weapons,
  polearm: CLASS.weapons,
  bow: CLASS.weapons,
  digger: CLASS.weapons,
  shot: CLASS.weapons,
  arrow: CLASS.weapons,
  bolt: CLASS.weapons,
  potion: CLASS.magic,
  scroll: CLASS.magic,
  ring: CLASS.magic,
  amulet: CLASS.magic,
  wand: CLASS.magic,
  staff: CLASS.magic,
  rod: CLASS.magic,
  "magic book": CLASS.magic,
  "prayer book": CLASS.magic,
}));

/** The text files the labels come from. */
export interface AngbandMappings {
  grafPrf: string;
  flavorPrf: string;
  playerPrf: string;
  monsters: string;
  flavors: string;
}

const SHEET_COLUMNS = 32;

/** Entries of a game data file: comment-free lines split on ':'. */
const records = (text: string): string[][] =>
  text.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) =>
    l.split(":")
  );

/** Tile index in the sheet from a pref file's attr/char pair (0x80 = row/column 0; hex or decimal). */
function tileOf(attr: string, char: string): number {
  const row = Number(attr) - 0x80;
  const column = Number(char) - 0x80;
  if (!(row >= 0 && column >= 0 && column < SHEET_COLUMNS)) {
    throw new DatasetError(
      `the Angband pref files point at a tile outside the sheet: ${attr}:${char}`,
    );
  }
  return row * SHEET_COLUMNS + column;
}

/** Maps `N:<index>` records to the value of the `field` record that follows each. */
function indexField(text: string, field: string): Map<number, string> {
  const out = new Map<number, string>();
  let index = -1;
  for (const r of records(text)) {
    if (r[0] === "N") index = Number(r[1]);
    else if (r[0] === field) out.set(index, r[1]);
  }
  return out;
}

/** Flavour index → object kind, from flavor.txt (`kind:` opens a group of `flavor:`/`fixed:` lines). */
function flavorKinds(text: string): Map<number, string> {
  const out = new Map<number, string>();
  let kind = "";
  for (const r of records(text)) {
    if (r[0] === "kind") kind = r[1];
    else if (r[0] === "flavor" || r[0] === "fixed") out.set(Number(r[1]), kind);
  }
  return out;
}

/**
 * Class votes per sheet tile. Entries naming a monster or flavour the data
 * files do not define (graf-new.prf still lists some removed monsters) vote
 * nothing, as do spell effects (GF:), unlisted object kinds and mimics.
 */
export function tileVotes(m: AngbandMappings): Map<number, Set<number>> {
  const votes = new Map<number, Set<number>>();
  const vote = (tile: number, cls: number | undefined) => {
    if (cls === undefined) return;
    if (!votes.has(tile)) votes.set(tile, new Set());
    votes.get(tile)!.add(cls);
  };
  const templates = indexField(m.monsters, "T");
  const monsterClass = (index: number) => {
    const template = templates.get(index);
    if (template === undefined || OBJECT_LOOKING_TEMPLATES.has(template)) return undefined;
    if (template === "player") return CLASS.heroes;
    return PEOPLE_TEMPLATES.has(template) ? CLASS.people : CLASS.monsters;
  };
  for (const r of records(m.grafPrf)) {
    const [attr, char] = r.slice(-2);
    if (r[0] === "R") vote(tileOf(attr, char), monsterClass(Number(r[1])));
    else if (r[0] === "K") vote(tileOf(attr, char), KIND_CLASS.get(r[1]));
    else if (r[0] === "F") vote(tileOf(attr, char), CLASS.terrain);
  }
  const kinds = flavorKinds(m.flavors);
  for (const r of records(m.flavorPrf)) {
    const kind = kinds.get(Number(r[1]));
    if (r[0] === "L" && kind !== undefined) vote(tileOf(r[2], r[3]), KIND_CLASS.get(kind));
  }
  for (const r of records(m.playerPrf)) {
    if (r[0] === "R" && r[1] === "0") vote(tileOf(r[2], r[3]), CLASS.heroes);
  }
  return votes;
}

export interface AtlasTile {
  /** Index in the source sheet (row · 32 + column). */
  origin: number;
  label: number;
  image: RgbaImage;
}

export interface SliceReport {
  tiles: AtlasTile[];
  blank: number;
  duplicates: number;
}

/** One colour all over (fully transparent, or a flat floor): nothing to learn from. */
function isBlank(img: RgbaImage): boolean {
  const pixels = new Uint32Array(img.data.buffer, img.data.byteOffset, img.data.length / 4);
  return pixels.every((p) => p === pixels[0]);
}

/**
 * Cuts the sheet, drops blank tiles (one colour: empty, or a flat floor) and exact duplicates,
 * and labels each tile from its votes (and its duplicates' votes). The result
 * is sorted by class, unlabelled last, then by position in the sheet.
 */
export function sliceAngbandSheet(
  sheet: RgbaImage,
  votes: Map<number, Set<number>>,
  tile = 16,
): SliceReport {
  const columns = sheet.width / tile;
  const rows = sheet.height / tile;
  const first = new Map<string, { origin: number; image: RgbaImage; votes: Set<number> }>();
  let blank = 0;
  let duplicates = 0;
  for (let i = 0; i < columns * rows; i++) {
    const image = cutTile(sheet, (i % columns) * tile, Math.floor(i / columns) * tile, tile);
    if (isBlank(image)) {
      blank++;
      continue;
    }
    const key = image.data.join(",");
    const seen = first.get(key);
    const own = votes.get(i) ?? new Set<number>();
    if (seen) {
      duplicates++;
      own.forEach((v) => seen.votes.add(v));
    } else {
      first.set(key, { origin: i, image, votes: new Set(own) });
    }
  }
  const tiles = [...first.values()].map(({ origin, image, votes }) => ({
    origin,
    image,
    label: votes.size === 1 ? [...votes][0] : -1,
  }));
  const rank = (t: AtlasTile) => (t.label < 0 ? ANGBAND_CLASSES.length : t.label);
  tiles.sort((a, b) => rank(a) - rank(b) || a.origin - b.origin);
  return { tiles, blank, duplicates };
}

/** Packs tiles row-major into a sheet `columns` wide; the last row is padded with empty tiles. */
export function packAtlas(tiles: RgbaImage[], columns: number, tile = 16): RgbaImage {
  const rows = Math.ceil(tiles.length / columns);
  const width = columns * tile;
  const data = new Uint8Array(width * rows * tile * 4);
  tiles.forEach((img, i) => {
    const left = (i % columns) * tile;
    const top = Math.floor(i / columns) * tile;
    for (let y = 0; y < tile; y++) {
      data.set(img.data.subarray(y * tile * 4, (y + 1) * tile * 4), ((top + y) * width + left) * 4);
    }
  });
  return { width, height: rows * tile, data };
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new DatasetError(
        `${cmd} not found: building the Angband dataset needs Debian's apt-get and dpkg-deb (or --debs DIR with the two .deb files, and dpkg-deb)`,
      );
    }
    throw err;
  }
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!result.success) {
    const why = text(result.stderr).split("\n").filter((l) => !l.startsWith("W:")).pop() ?? "";
    throw new DatasetError(`${cmd} ${args.join(" ")} failed: ${why}`);
  }
  return text(result.stdout);
}

/** The two .deb files: from `debsDir` when given, else downloaded into `work`. */
async function findDebs(work: string, debsDir: string | undefined): Promise<string[]> {
  const dir = debsDir ?? work;
  if (debsDir === undefined) await run("apt-get", ["download", ...ANGBAND_PACKAGES], work);
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  } catch (err) {
    throw new DatasetError(
      `${dir}: cannot list folder (${err instanceof Error ? err.message : err})`,
    );
  }
  return ANGBAND_PACKAGES.map((pkg) => {
    const found = names.filter((n) => n.startsWith(`${pkg}_`) && n.endsWith(".deb")).sort();
    if (found.length !== 1) {
      throw new DatasetError(
        `${dir}: expected one ${pkg}_*.deb, found ${found.length}; fetch it with 'apt-get download ${pkg}'`,
      );
    }
    return `${dir}/${found[0]}`;
  });
}

/** The paragraph of Debian's copyright file that licenses the 16×16 tiles. */
function tileLicense(copyright: string): string {
  const paragraph = copyright.split(/\n\s*\n/).find((p) =>
    p.startsWith("Files: lib/xtra/graf/16x16.png")
  );
  if (!paragraph || !paragraph.includes("public-domain")) {
    throw new DatasetError(
      "angband-data's copyright file no longer states that the 16x16 tiles are public domain; not building",
    );
  }
  return paragraph.split("\n").map((l) => l.trimEnd()).join("\n");
}

function licenseText(license: string, versions: string[]): string {
  return `# The default dataset: Adam Bolt's 16×16 Angband tiles

\`atlas.png\` holds the distinct tiles (neither blank nor repeated), sorted by class, of
\`/usr/share/angband/xtra/graf/16x16.png\` from Debian's ${versions.join(" and ")}
packages, drawn by Adam Bolt. Debian's copyright file (/usr/share/doc/angband-data/copyright)
licenses them so:

\`\`\`
${license}
\`\`\`

\`labels.json\` gives each tile a class (−1: unlabelled) and its position in the original
sheet (\`origin\`: row · 32 + column). The classes were derived mechanically, not by hand,
from the game's own tile mappings (graf-new.prf, flvr-new.prf, xtra-new.prf) and data files
(monster.txt, flavor.txt) in Debian's angband package; Angband is © 1989–2014 Angband
contributors (GPL-2 or the Angband licence). Rebuild with \`deno run -A main.ts data build\`.
`;
}

/** One line per key, arrays on one line: small diffs, same bytes every build. */
function manifestJson(fields: Record<string, unknown>): string {
  const lines = Object.entries(fields).map(([k, v]) =>
    `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`
  );
  return `{\n${lines.join(",\n")}\n}\n`;
}

export interface BuildSummary {
  classNames: string[];
  perClass: number[];
  unlabelled: number;
  blank: number;
  duplicates: number;
  versions: string[];
}

/**
 * Fetches and unpacks the packages in a temporary folder, then writes
 * `atlas.png`, `labels.json` and `LICENSE.md` into the existing folder `out`
 * (each atomically).
 */
export async function buildAngbandDataset(
  out: string,
  opts: { debs?: string; log?: (line: string) => void } = {},
): Promise<BuildSummary> {
  const log = opts.log ?? (() => {});
  const work = await Deno.makeTempDir({ prefix: "angband-" });
  try {
    log(opts.debs ? `using the packages in ${opts.debs}` : "apt-get download angband-data angband");
    const debs = await findDebs(work, opts.debs);
    const versions: string[] = [];
    for (const deb of debs) {
      await run("dpkg-deb", ["-x", deb, `${work}/root`], work);
      versions.push(
        `${basename(deb).split("_")[0]} ${await run("dpkg-deb", ["-f", deb, "Version"], work)}`,
      );
    }
    const root = `${work}/root`;
    const text = (path: string) => Deno.readTextFile(`${root}${path}`);
    const mappings: AngbandMappings = {
      grafPrf: await text("/etc/angband/pref/graf-new.prf"),
      flavorPrf: await text("/etc/angband/pref/flvr-new.prf"),
      playerPrf: await text("/etc/angband/pref/xtra-new.prf"),
      monsters: await text("/etc/angband/edit/monster.txt"),
      flavors: await text("/etc/angband/edit/flavor.txt"),
    };
    const license = tileLicense(await text("/usr/share/doc/angband-data/copyright"));
    const sheet = await readPng(`${root}/usr/share/angband/xtra/graf/16x16.png`);
    const { tiles, blank, duplicates } = sliceAngbandSheet(sheet, tileVotes(mappings));

    const atlas = packAtlas(tiles.map((t) => t.image), SHEET_COLUMNS);
    const manifest = manifestJson({
      image: "atlas.png",
      tile: 16,
      classNames: ANGBAND_CLASSES,
      labels: tiles.map((t) => t.label),
      origin: tiles.map((t) => t.origin),
      source: `Adam Bolt's 16x16.png from Debian ${versions.join(", ")}; see LICENSE.md`,
    });
    // Everything is encoded before the first write, so the three files are
    // replaced (each atomically) within moments of each other.
    const png = await encodePng(atlas);
    await writeFileAtomic(`${out}/atlas.png`, png);
    await writeTextAtomic(`${out}/labels.json`, manifest);
    await writeTextAtomic(`${out}/LICENSE.md`, licenseText(license, versions));

    const perClass = ANGBAND_CLASSES.map((_, k) => tiles.filter((t) => t.label === k).length);
    return {
      classNames: [...ANGBAND_CLASSES],
      perClass,
      unlabelled: tiles.filter((t) => t.label < 0).length,
      blank,
      duplicates,
      versions,
    };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}
