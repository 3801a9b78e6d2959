import { deepStrictEqual, notDeepStrictEqual, ok, rejects } from "node:assert/strict";
import { DatasetError } from "./errors.ts";
import type { RgbaImage } from "../io/image.ts";
import { classCounts, datasetHash, loadDataset, type LoadOptions } from "./dataset.ts";
import { ORIGINAL_CLASS_NAMES } from "./npy_source.ts";
import { npyBytes, rgba, writePng } from "./testing.ts";

/** A fresh temporary folder for one test, removed afterwards. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "data-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The expected NCHW [−1, 1] values of channel-last 8-bit pixels (reference: plain loops). */
function nchw(pixels: number[][][], channels: number): number[] {
  // pixels[i][y * w + x] = [r, g, b(, a)]
  const out: number[] = [];
  for (const sprite of pixels) {
    for (let c = 0; c < channels; c++) {
      for (const p of sprite) out.push((c < p.length ? p[c] : 255) / 127.5 - 1);
    }
  }
  return out;
}

const close = (actual: ArrayLike<number>, expected: number[]) => {
  deepStrictEqual(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    ok(Math.abs(actual[i] - expected[i]) < 1e-6, `element ${i}: ${actual[i]} vs ${expected[i]}`);
  }
};

/** Asserts a DatasetError whose message names `file` and matches `pattern`. */
async function refuses(
  path: string,
  opts: LoadOptions,
  file: string,
  pattern: RegExp,
): Promise<void> {
  await rejects(loadDataset(path, opts), (err: Error) => {
    ok(err instanceof DatasetError, `not a DatasetError: ${err.stack}`);
    ok(!err.message.includes("\n"), `more than one line: ${err.message}`);
    ok(err.message.includes(file), `'${err.message}' does not name ${file}`);
    ok(pattern.test(err.message), `'${err.message}' does not match ${pattern}`);
    return true;
  });
}

// Three 2×2 RGB sprites with distinct values.
const SPRITES = [0, 1, 2].map((i) =>
  [0, 1, 2, 3].map((p) => [10 * i + p, 100 + 10 * i + p, 200 + 10 * i + p])
);

Deno.test("npy: uint8 images with one-hot labels beside them", async () => {
  await inTempDir(async (dir) => {
    await Deno.writeFile(
      `${dir}/sprites.npy`,
      npyBytes("|u1", [3, 2, 2, 3], Uint8Array.from(SPRITES.flat(2))),
    );
    const oneHot = Float64Array.from([[0, 0, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 1]].flat());
    // Every class must hold a sprite, so the five columns get two more rows.
    await Deno.writeFile(`${dir}/sprites_labels.npy`, npyBytes("<f8", [3, 5], oneHot));
    await refuses(
      `${dir}/sprites.npy`,
      { size: 2 },
      `${dir}/sprites.npy`,
      /class 1 .* has no sprites/,
    );

    const labels = Float64Array.from([[0, 1, 0], [1, 0, 0], [0, 0, 1]].flat());
    await Deno.writeFile(`${dir}/sprites_labels.npy`, npyBytes("<f8", [3, 3], labels));
    const ds = await loadDataset(`${dir}/sprites.npy`, { size: 2 });
    deepStrictEqual([ds.count, ds.channels, ds.size], [3, 3, 2]);
    deepStrictEqual(Array.from(ds.labels), [1, 0, 2]);
    deepStrictEqual(ds.classNames, ["class 0", "class 1", "class 2"]);
    deepStrictEqual(ds.source, `${dir}/sprites.npy`);
    close(ds.images, nchw(SPRITES, 3));
  });
});

Deno.test("npy: float images and integer labels (with −1); the original's five class names", async () => {
  await inTempDir(async (dir) => {
    const five = [0, 1, 2, 3, 4].map((i) => [[i / 4, 1, 0, 0.5]]); // 1×1 RGBA sprites
    await Deno.writeFile(
      `${dir}/s.npy`,
      npyBytes("<f4", [5, 1, 1, 4], Float32Array.from(five.flat(2))),
    );
    await Deno.writeFile(
      `${dir}/ints.npy`,
      npyBytes("<i8", [5], BigInt64Array.of(4n, 3n, 2n, 1n, 0n)),
    );
    const ds = await loadDataset(`${dir}/s.npy`, { size: 1, labels: `${dir}/ints.npy` });
    deepStrictEqual(ds.classNames, ORIGINAL_CLASS_NAMES);
    deepStrictEqual([ds.channels, Array.from(ds.labels)], [4, [4, 3, 2, 1, 0]]);
    close(ds.images, five.flatMap(([[r, g, b, a]]) => [r, g, b, a].map((v) => v * 2 - 1)));

    // The only *labels*.npy beside it is found; −1 marks unlabelled sprites.
    await Deno.remove(`${dir}/ints.npy`);
    await Deno.writeFile(
      `${dir}/my_labels.npy`,
      npyBytes("<i4", [5, 1], Int32Array.of(0, -1, 1, 1, -1)),
    );
    const found = await loadDataset(`${dir}/s.npy`, { size: 1, channels: 3 });
    deepStrictEqual(Array.from(found.labels), [0, -1, 1, 1, -1]);
    deepStrictEqual(classCounts(found), { perClass: [1, 2], unlabelled: 2 });
    // Dropping alpha composites over black: rgb · a.
    close(found.images.subarray(0, 3), [0, 0.5, 0].map((v) => v * 2 - 1));

    // No labels at all: every sprite unlabelled, no classes.
    await Deno.remove(`${dir}/my_labels.npy`);
    const bare = await loadDataset(`${dir}/s.npy`, { size: 1 });
    deepStrictEqual([bare.classNames, Array.from(bare.labels)], [[], [-1, -1, -1, -1, -1]]);
  });
});

Deno.test("resizing is NEAREST with PyTorch's index rule, down and up", async () => {
  await inTempDir(async (dir) => {
    // One 4×4 single-sprite array whose red channel is the pixel index.
    const pixels = Array.from({ length: 16 }, (_, p) => [p, 0, 0]);
    await Deno.writeFile(
      `${dir}/one.npy`,
      npyBytes("|u1", [1, 4, 4, 3], Uint8Array.from(pixels.flat())),
    );
    const red = (size: number) =>
      loadDataset(`${dir}/one.npy`, { size }).then((ds) =>
        Array.from(ds.images.subarray(0, size * size), (v) => Math.round((v + 1) * 127.5))
      );
    deepStrictEqual(await red(2), [0, 2, 8, 10]);
    deepStrictEqual(await red(3), [0, 1, 2, 4, 5, 6, 8, 9, 10]);
    const up = await red(8);
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) deepStrictEqual(up[y * 8 + x], (y >> 1) * 4 + (x >> 1));
    }
  });
});

Deno.test("class folders: sorted classes and files, PNGs resized, dotfiles skipped", async () => {
  await inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/b_monsters`);
    await Deno.mkdir(`${dir}/a_people`);
    const red = rgba(1, 1, [[255, 0, 0, 255]]);
    const clear = rgba(2, 2, [[0, 0, 255, 0], [0, 255, 0, 255], [255, 255, 255, 255], [
      0,
      0,
      0,
      128,
    ]]);
    await writePng(`${dir}/b_monsters/2.png`, red);
    await writePng(`${dir}/b_monsters/1.PNG`, clear);
    await writePng(`${dir}/a_people/x.png`, red);
    await Deno.writeFile(`${dir}/a_people/.DS_Store`, new Uint8Array(3));
    const ds = await loadDataset(dir, { size: 2 });
    deepStrictEqual(ds.classNames, ["a_people", "b_monsters"]);
    deepStrictEqual(Array.from(ds.labels), [0, 1, 1]);
    deepStrictEqual(ds.channels, 4); // a pixel is transparent
    const upRed = [[255, 0, 0, 255], [255, 0, 0, 255], [255, 0, 0, 255], [255, 0, 0, 255]];
    const clearPixels = [[0, 0, 255, 0], [0, 255, 0, 255], [255, 255, 255, 255], [0, 0, 0, 128]];
    close(ds.images, nchw([upRed, clearPixels, upRed], 4));
  });
});

/** A 3×2-tile sheet of 2×2 tiles: tile i is filled with grey 40·i; tile 4 is fully transparent. */
function testSheet(): RgbaImage {
  const px: number[][] = [];
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 6; x++) {
      const i = (y >> 1) * 3 + (x >> 1);
      px.push(i === 4 ? [9, 9, 9, 0] : [40 * i, 40 * i, 40 * i, 255]);
    }
  }
  return rgba(6, 4, px);
}

Deno.test("sprite sheet: tiles row-major, empty tiles skipped, labels JSON beside it or given", async () => {
  await inTempDir(async (dir) => {
    await writePng(`${dir}/sheet.png`, testSheet());
    const plain = await loadDataset(`${dir}/sheet.png`, { tile: 2, size: 2 });
    deepStrictEqual([plain.count, plain.channels, Array.from(plain.labels)], [5, 3, [
      -1,
      -1,
      -1,
      -1,
      -1,
    ]]);
    const grey = (i: number) => Array(4).fill([40 * i, 40 * i, 40 * i]);
    close(plain.images, nchw([0, 1, 2, 3, 5].map(grey), 3));

    const labels = { tile: 2, classNames: ["dark", "light"], labels: [0, 0, -1, 1, 0, 1] };
    await Deno.writeFile(
      `${dir}/sheet_labels.json`,
      new TextEncoder().encode(JSON.stringify(labels)),
    );
    const labelled = await loadDataset(`${dir}/sheet.png`, { size: 1 });
    deepStrictEqual([labelled.size, labelled.classNames], [1, ["dark", "light"]]);
    deepStrictEqual(Array.from(labelled.labels), [0, 0, -1, 1, 1]);

    // Labels may stop early when the rest of the sheet is empty.
    const short = { classNames: ["one"], labels: [0, 0, 0, 0, 0, 0] };
    await Deno.writeFile(`${dir}/other.json`, new TextEncoder().encode(JSON.stringify(short)));
    const given = await loadDataset(`${dir}/sheet.png`, { tile: 2, labels: `${dir}/other.json` });
    deepStrictEqual([given.size, Array.from(given.labels)], [16, [0, 0, 0, 0, 0]]);
  });
});

Deno.test("manifest folder: labels.json naming its sheet", async () => {
  await inTempDir(async (dir) => {
    await writePng(`${dir}/atlas.png`, testSheet());
    const manifest = {
      image: "atlas.png",
      tile: 2,
      classNames: ["a", "b"],
      labels: [1, 0, 1, 0, 0, 1],
    };
    await Deno.writeFile(`${dir}/labels.json`, new TextEncoder().encode(JSON.stringify(manifest)));
    const ds = await loadDataset(dir);
    deepStrictEqual([ds.count, ds.size, Array.from(ds.labels)], [5, 16, [1, 0, 1, 0, 1]]);
    // Tile 5 is not empty but has no label.
    await Deno.writeFile(
      `${dir}/labels.json`,
      new TextEncoder().encode(JSON.stringify({ ...manifest, labels: [1, 0, 1, 0, -1] })),
    );
    await refuses(dir, {}, dir, /tile 5 \(row 1, column 2\) is not empty but has no label/);
  });
});

Deno.test("datasetHash: stable, and changes with pixels, labels and class names", async () => {
  await inTempDir(async (dir) => {
    await writePng(`${dir}/sheet.png`, testSheet());
    const labels = { classNames: ["x", "y"], labels: [0, 1, 0, 1, 0, 1] };
    await Deno.writeFile(
      `${dir}/sheet_labels.json`,
      new TextEncoder().encode(JSON.stringify(labels)),
    );
    const ds = await loadDataset(`${dir}/sheet.png`, { tile: 2 });
    const hash = await datasetHash(ds);
    ok(/^[0-9a-f]{64}$/.test(hash));
    deepStrictEqual(await datasetHash(await loadDataset(`${dir}/sheet.png`, { tile: 2 })), hash);
    const images = ds.images.slice();
    images[7] += 0.5;
    notDeepStrictEqual(await datasetHash({ ...ds, images }), hash);
    notDeepStrictEqual(await datasetHash({ ...ds, labels: Int32Array.of(1, 1, 0, 1, 0) }), hash);
    notDeepStrictEqual(await datasetHash({ ...ds, classNames: ["x", "z"] }), hash);
  });
});

Deno.test("bad input: one-line errors naming the file", async () => {
  await inTempDir(async (dir) => {
    const u8 = (n: number) => new Uint8Array(n);
    const write = (name: string, bytes: Uint8Array) => Deno.writeFile(`${dir}/${name}`, bytes);

    await refuses(`${dir}/missing.npy`, {}, `${dir}/missing.npy`, /cannot read/);
    await refuses(`${dir}`, { labels: "x.npy" }, dir, /--labels applies to a \.npy or sheet \.png/);
    await write("notes.txt", u8(1));
    await refuses(`${dir}/notes.txt`, {}, `${dir}/notes.txt`, /not a dataset/);

    // .npy images: dimensions, dtype, value range, truncation.
    await write("flat.npy", npyBytes("|u1", [2, 4, 4], u8(32)));
    await refuses(`${dir}/flat.npy`, {}, `${dir}/flat.npy`, /shape \(2, 4, 4\); expected N×H×W×3/);
    await write("gray.npy", npyBytes("|u1", [2, 4, 4, 1], u8(32)));
    await refuses(`${dir}/gray.npy`, {}, `${dir}/gray.npy`, /expected N×H×W×3 \(RGB\) or N×H×W×4/);
    await write("ints.npy", npyBytes("<i4", [1, 1, 1, 3], Int32Array.of(1, 2, 3)));
    await refuses(
      `${dir}/ints.npy`,
      {},
      `${dir}/ints.npy`,
      /dtype '<i4'; expected uint8, or float32/,
    );
    await write("big.npy", npyBytes("<f4", [1, 1, 1, 3], Float32Array.of(0, 255, 0)));
    await refuses(`${dir}/big.npy`, {}, `${dir}/big.npy`, /255 at element 1 is outside \[0, 1\]/);
    await write("cut.npy", npyBytes("|u1", [4, 2, 2, 3], u8(47)));
    await refuses(
      `${dir}/cut.npy`,
      {},
      `${dir}/cut.npy`,
      /truncated: .* needs 48 data bytes, found 47/,
    );

    // .npy labels: count, shape, one-hot rows, several candidates.
    await Deno.mkdir(`${dir}/n`);
    await Deno.writeFile(`${dir}/n/sprites.npy`, npyBytes("|u1", [3, 1, 1, 3], u8(9)));
    await Deno.writeFile(`${dir}/n/a_labels.npy`, npyBytes("<i8", [2], BigInt64Array.of(0n, 0n)));
    await Deno.writeFile(`${dir}/n/b_labels.npy`, npyBytes("<i8", [2], BigInt64Array.of(0n, 0n)));
    await refuses(
      `${dir}/n/sprites.npy`,
      {},
      `${dir}/n/sprites.npy`,
      /several label files .* --labels/,
    );
    await refuses(
      `${dir}/n/sprites.npy`,
      { labels: `${dir}/n/a_labels.npy` },
      "a_labels.npy",
      /do not match 3 images/,
    );
    await Deno.writeFile(
      `${dir}/n/sprites_labels.npy`,
      npyBytes("|u1", [3, 2], Uint8Array.of(1, 0, 1, 1, 0, 1)),
    );
    await refuses(`${dir}/n/sprites.npy`, {}, "sprites_labels.npy", /row 1 is not one-hot/);
    await Deno.writeFile(
      `${dir}/n/sprites_labels.npy`,
      npyBytes("<f4", [3], Float32Array.of(0, 0.5, 1)),
    );
    await refuses(
      `${dir}/n/sprites.npy`,
      {},
      "sprites_labels.npy",
      /label 0.5 of sprite 1 is not a class index/,
    );
    await Deno.writeFile(
      `${dir}/n/sprites_labels.npy`,
      npyBytes("<i4", [3], Int32Array.of(0, 2, 0)),
    );
    await refuses(`${dir}/n/sprites.npy`, {}, "sprites.npy", /class 1 'class 1' has no sprites/);

    // Class folders: stray files, non-PNG files, empty classes, PNGs that are not.
    await Deno.mkdir(`${dir}/f/cats`, { recursive: true });
    await writePng(`${dir}/f/cats/a.png`, rgba(1, 1, [[1, 2, 3, 255]]));
    await Deno.writeFile(`${dir}/f/readme.txt`, u8(1));
    await refuses(`${dir}/f`, {}, `${dir}/f/readme.txt`, /holds only subfolders/);
    await Deno.remove(`${dir}/f/readme.txt`);
    await Deno.writeFile(`${dir}/f/cats/b.jpg`, u8(1));
    await refuses(
      `${dir}/f`,
      {},
      `${dir}/f/cats/b.jpg`,
      /not a PNG file; class folders hold only \.png/,
    );
    await Deno.remove(`${dir}/f/cats/b.jpg`);
    await Deno.mkdir(`${dir}/f/dogs`);
    await refuses(`${dir}/f`, {}, `${dir}/f/dogs`, /class 'dogs' has no PNG files/);
    await Deno.writeFile(`${dir}/f/dogs/fake.png`, new TextEncoder().encode("GIF89a"));
    await refuses(`${dir}/f`, {}, `${dir}/f/dogs/fake.png`, /not a PNG file/);

    // Sheets: tile size, labels JSON shape and length, label range, empty class.
    await writePng(`${dir}/sheet.png`, testSheet());
    await refuses(
      `${dir}/sheet.png`,
      { tile: 4 },
      `${dir}/sheet.png`,
      /6×4 is not divisible by the tile size 4; .*--tile/,
    );
    const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
    await write("sheet_labels.json", new TextEncoder().encode("{oops"));
    await refuses(`${dir}/sheet.png`, { tile: 2 }, "sheet_labels.json", /not valid JSON/);
    await write("sheet_labels.json", json({ classNames: "a", labels: [] }));
    await refuses(
      `${dir}/sheet.png`,
      { tile: 2 },
      "sheet_labels.json",
      /"classNames" must be an array/,
    );
    await write("sheet_labels.json", json({ classNames: ["a"], labels: [0, 0.5] }));
    await refuses(
      `${dir}/sheet.png`,
      { tile: 2 },
      "sheet_labels.json",
      /"labels" must be an array of integers/,
    );
    await write("sheet_labels.json", json({ classNames: ["a"], labels: Array(7).fill(0) }));
    await refuses(
      `${dir}/sheet.png`,
      { tile: 2 },
      "sheet.png",
      /7 labels but the sheet has only 6 tiles/,
    );
    await write("sheet_labels.json", json({ classNames: ["a"], labels: [0, 0, 0, 3, 0, 0] }));
    await refuses(
      `${dir}/sheet.png`,
      { tile: 2 },
      "sheet.png",
      /label 3 of sprite 3 is outside the 1 classes/,
    );
    await write("sheet_labels.json", json({ classNames: ["a", "b"], labels: [0, 0, 0, 0, 0, 0] }));
    await refuses(`${dir}/sheet.png`, { tile: 2 }, "sheet.png", /class 1 'b' has no sprites/);
  });
});
