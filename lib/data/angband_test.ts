import { deepStrictEqual, ok } from "node:assert/strict";
import {
  ANGBAND_CLASSES,
  type AngbandMappings,
  packAtlas,
  sliceAngbandSheet,
  tileVotes,
} from "./angband.ts";
import { classCounts, datasetHash, DEFAULT_DATASET, loadDataset } from "./dataset.ts";
import manifest from "../../data/angband/labels.json" with { type: "json" };
import { loadManifestFolder } from "./sheet.ts";
import { rgba } from "./testing.ts";

const C = Object.fromEntries(ANGBAND_CLASSES.map((n, i) => [n, i]));

// Small stand-ins for the game's files, in their real syntax.
const MAPPINGS: AngbandMappings = {
  monsters: `# comment
N:1:Filthy street urchin
T:townsfolk
N:2:Scrawny cat
T:feline
N:3:Scroll mimic
T:mimic
N:4:Soldier
T:person
N:5:<player>
T:player`,
  flavors: `kind:food:,
flavor:10:Blue:Blue mushroom
kind:potion:!
fixed:20:Clear:Clear
flavor:21:Red:Red`,
  grafPrf: `# File: graf-new.prf
GF:ACID:0:0x8F:0x88
F:1:lit:0x80:0x81
F:1:dark:0x80:0x81
K:sword:Dagger:0x80:0x82
K:soft armor:Robe:0x80:0x83
K:gold:copper:0x80:0x84
K:0:0:128:133
R:1:0x81:0x80
R:2:0x81:0x81
R:3:0x81:0x82
R:4:0x81:0x83
R:5:0x81:0x84
R:99:0x81:0x85
R:2:0x81:0x86
K:light:Lantern:0x81:0x86`,
  flavorPrf: `# Blue mushroom
L:10:0x82:0x80
L:20:0x82:0x81
L:21:0x82:0x81
L:77:0x82:0x82`,
  playerPrf: `?:[AND [EQU $CLASS Warrior] [EQU $RACE Human] ]
R:0:0x82:0x83
R:0:0x81:0x84`,
};

Deno.test("tile votes: each mapping kind votes its class; the rest vote nothing", () => {
  const votes = tileVotes(MAPPINGS);
  const at = (row: number, col: number) => [...(votes.get(row * 32 + col) ?? [])].sort();
  deepStrictEqual(at(0, 1), [C.terrain]);
  deepStrictEqual(at(0, 2), [C.weapons]);
  deepStrictEqual(at(0, 3), [C.armour]);
  deepStrictEqual(at(0, 4), []); // gold
  deepStrictEqual(at(0, 5), []); // the object pile, attr/char in decimal (128:133)
  deepStrictEqual(at(1, 0), [C.people]); // townsfolk
  deepStrictEqual(at(1, 1), [C.monsters]);
  deepStrictEqual(at(1, 2), []); // a mimic looks like its object
  deepStrictEqual(at(1, 3), [C.people]); // person
  deepStrictEqual(at(1, 4), [C.heroes]); // <player>, and the player tile of xtra-new.prf
  deepStrictEqual(at(1, 5), []); // monster 99 is not in monster.txt
  deepStrictEqual(at(1, 6), [C.monsters]); // the lantern votes nothing
  deepStrictEqual(at(2, 0), [C.food]);
  deepStrictEqual(at(2, 1), [C.magic]);
  deepStrictEqual(at(2, 2), []); // flavour 77 is not in flavor.txt
  deepStrictEqual(at(2, 3), [C.heroes]);
  deepStrictEqual(at(15, 8), []); // spell effects
});

Deno.test("slicing: blank tiles dropped, duplicates merged, votes decide, sorted by class", () => {
  // A 4×1 sheet of 2×2 tiles: a monster, a blank, a copy of tile 0 voted people, a weapon.
  const A = [1, 2, 3, 255];
  const B = [9, 9, 9, 255];
  const sheet = rgba(
    8,
    2,
    [
      [A, A, B, B, A, A, [5, 5, 5, 255], [0, 0, 0, 0]],
      [A, [0, 0, 0, 0], B, B, A, [0, 0, 0, 0], [0, 0, 0, 0], [6, 6, 6, 255]],
    ].flatMap((row) => row),
  );
  const votes = new Map([[0, new Set([C.monsters])], [2, new Set([C.people])], [
    3,
    new Set([C.weapons]),
  ]]);
  const { tiles, blank, duplicates } = sliceAngbandSheet(sheet, votes, 2);
  deepStrictEqual([blank, duplicates], [1, 1]);
  // Tile 0 and its copy disagree: unlabelled, sorted last.
  deepStrictEqual(tiles.map((t) => [t.origin, t.label]), [[3, C.weapons], [0, -1]]);
  const atlas = packAtlas(tiles.map((t) => t.image), 3, 2);
  deepStrictEqual([atlas.width, atlas.height], [6, 2]);
  deepStrictEqual(Array.from(atlas.data.subarray(0, 8)), [5, 5, 5, 255, 0, 0, 0, 0]);
  deepStrictEqual(Array.from(atlas.data.subarray(16, 24)), [0, 0, 0, 0, 0, 0, 0, 0]); // padding
});

Deno.test("the committed default dataset: classes, counts, alpha, no duplicates", async () => {
  const ds = await loadDataset(DEFAULT_DATASET);
  deepStrictEqual(ds.classNames, [...ANGBAND_CLASSES]);
  deepStrictEqual([ds.size, ds.channels], [16, 4]);
  deepStrictEqual(ds.count, manifest.labels.length);
  ok(ds.count > 1700, `only ${ds.count} sprites`);
  const { perClass, unlabelled } = classCounts(ds);
  perClass.forEach((n, k) => ok(n >= 15, `class ${ANGBAND_CLASSES[k]} has only ${n} sprites`));
  deepStrictEqual(perClass.reduce((a, b) => a + b, 0) + unlabelled, ds.count);
  ok(perClass.reduce((a, b) => a + b, 0) > 900, "fewer than 900 labelled sprites");
  deepStrictEqual(new Set(manifest.origin).size, ds.count);

  const plane = 4 * 16 * 16;
  const seen = new Set<string>();
  let transparent = 0;
  for (let i = 0; i < ds.count; i++) {
    const sprite = ds.images.subarray(i * plane, (i + 1) * plane);
    const alpha = sprite.subarray(3 * 256);
    ok(alpha.some((a) => a > 0), `sprite ${i} is empty`);
    if (alpha.some((a) => a < 0)) transparent++;
    const key = sprite.join(",");
    ok(!seen.has(key), `sprite ${i} is a duplicate`);
    seen.add(key);
  }
  ok(transparent > ds.count / 2, `only ${transparent} sprites have transparent pixels`);

  // The copy built into the program matches the files on disk.
  const onDisk = await loadManifestFolder(DEFAULT_DATASET, {});
  deepStrictEqual(await datasetHash(onDisk), await datasetHash(ds));
});
