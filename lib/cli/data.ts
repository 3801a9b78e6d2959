/** `data`: build the default dataset, and inspect or preview any dataset. */

import { basename, dirname } from "node:path";
import { buildAngbandDataset } from "../data/angband.ts";
import {
  classCounts,
  datasetHash,
  DEFAULT_DATASET,
  loadDataset,
  type LoadOptions,
  type SpriteDataset,
} from "../data/dataset.ts";
import { writeFileAtomic } from "../io/atomic.ts";
import { imageFromTensor, type RgbaImage } from "../io/image.ts";
import { encodePng } from "../io/png.ts";
import { composeSheet } from "../io/sheet.ts";
import { detectDisplay } from "../term/detect.ts";
import { renderedText, renderGrid } from "../term/render.ts";
import type { Command } from "./commands.ts";
import { UserError } from "./errors.ts";
import {
  choiceOption,
  numberOption,
  optionLines,
  type OptionValues,
  parseOptions,
  PICTURE_OPTIONS,
  pictureOptions,
  writableOutDir,
} from "./options.ts";

const BUILD_OPTIONS = {
  out: {
    value: "DIR",
    help: `where atlas.png, labels.json and LICENSE.md go (default ${DEFAULT_DATASET})`,
  },
  debs: {
    value: "DIR",
    help: "use angband-data_*.deb and angband_*.deb already in DIR instead of downloading",
  },
} as const;

const LOAD_OPTIONS = {
  size: { value: "N", help: "sprite side after NEAREST resizing (default 16)" },
  channels: {
    value: "3|4",
    help: "RGB (transparency over black) or RGBA (default: 4 when any pixel is transparent)",
  },
  tile: {
    value: "N",
    help: `tile side of a sprite sheet (default: the labels' "tile", else --size)`,
  },
  labels: {
    value: "FILE",
    help: "labels for a .npy (.npy) or a sheet (.json), instead of the sibling file",
  },
} as const;

const PREVIEW_OPTIONS = {
  ...LOAD_OPTIONS,
  out: { value: "FILE.png", help: "the contact sheet (default out/<name>-preview.png)" },
  "per-class": { value: "N", help: "sprites per class row (default 16)" },
  scale: { value: "N", help: "NEAREST upscale of the sheet (default 4)" },
  ...PICTURE_OPTIONS,
} as const;

const HELP = `usage: deno run -A main.ts data <command> [options]

  build [options]
      Rebuild the default dataset from Adam Bolt's 16×16 Angband tiles: fetches Debian's
      angband-data and angband packages with 'apt-get download' (nothing is installed),
      labels the tiles from the game's own mapping files and writes atlas.png, labels.json
      and LICENSE.md.
${optionLines(BUILD_OPTIONS, "      ")}

  info [PATH] [loading options]
      Count, sprite size, channels, classes with counts, and the content hash.

  preview [PATH] [options] [loading options]
      Writes a contact sheet (one row per class, unlabelled last, alpha over a
      checkerboard) and shows a row of sprites per class in the terminal: real pixels
      where it can show them (kitty, iTerm2, sixel), else ANSI half-blocks.
${
  optionLines({
    out: PREVIEW_OPTIONS.out,
    "per-class": PREVIEW_OPTIONS["per-class"],
    scale: PREVIEW_OPTIONS.scale,
    ...PICTURE_OPTIONS,
  }, "      ")
}

PATH (default: the default dataset) is one of
  a folder with labels.json     the default dataset's form: an atlas PNG and its labels
  FILE.npy                      N×H×W×3 or ×4 images, uint8 or floats in [0, 1]; labels from
                                FILE_labels.npy beside it (one-hot N×K or integers N)
  FILE.png                      a sprite sheet cut into tiles; labels from FILE_labels.json
                                beside it: {"classNames": [...], "labels": [one per tile]}
  a folder of class folders     one subfolder of PNGs per class (class names = folder names)

loading options
${optionLines(LOAD_OPTIONS)}`;

function loadOptions(values: OptionValues<typeof LOAD_OPTIONS>): LoadOptions {
  const side = (name: string, text: string | undefined, max: number) =>
    text === undefined ? undefined : numberOption(name, text, 0, { min: 1, max, integer: true });
  const channels = values.channels === undefined
    ? undefined
    : Number(choiceOption("channels", values.channels, ["3", "4"], "4")) as 3 | 4;
  return {
    size: side("size", values.size, 1024),
    channels,
    tile: side("tile", values.tile, 4096),
    labels: values.labels,
  };
}

function onePath(command: string, positionals: string[]): string {
  if (positionals.length > 1) {
    throw new UserError(`data ${command}: one dataset path at most, got ${positionals.length}`);
  }
  return positionals[0] ?? DEFAULT_DATASET;
}

async function build(args: string[]): Promise<void> {
  const { values } = parseOptions("data build", args, BUILD_OPTIONS);
  if (values.help) return void console.log(HELP);
  const out = values.out ?? DEFAULT_DATASET;
  await writableOutDir(out);
  const s = await buildAngbandDataset(out, { debs: values.debs, log: (l) => console.log(l) });
  const total = s.perClass.reduce((a, b) => a + b, 0) + s.unlabelled;
  console.log(`from ${s.versions.join(", ")}`);
  console.log(
    `${total} sprites: dropped ${s.blank} blank tiles (one colour) and ${s.duplicates} exact duplicates`,
  );
  s.classNames.forEach((name, k) =>
    console.log(`  ${String(k).padStart(2)} ${name.padEnd(12)} ${s.perClass[k]}`)
  );
  console.log(
    `  -1 ${"unlabelled".padEnd(12)} ${s.unlabelled}  (no mapping, or mappings that disagree)`,
  );
  console.log(`wrote ${out}/atlas.png, labels.json, LICENSE.md`);
}

/** Creates an output folder, or says in one line why it cannot be written. */
const CHANNEL_NAMES = { 3: "RGB", 4: "RGBA" } as const;

async function info(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions("data info", args, LOAD_OPTIONS, true);
  if (values.help) return void console.log(HELP);
  const ds = await loadDataset(onePath("info", positionals), loadOptions(values));
  const { perClass, unlabelled } = classCounts(ds);
  const width = Math.max(10, ...ds.classNames.map((n) => n.length));
  console.log(`dataset   ${ds.source}`);
  console.log(
    `sprites   ${ds.count} of ${ds.size}×${ds.size}, ${ds.channels} channels (${
      CHANNEL_NAMES[ds.channels]
    })`,
  );
  console.log(`sha-256   ${await datasetHash(ds)}`);
  console.log(
    `classes   ${ds.classNames.length}${
      unlabelled ? `, and ${unlabelled} unlabelled sprites` : ""
    }`,
  );
  ds.classNames.forEach((name, k) =>
    console.log(`  ${String(k).padStart(3)} ${name.padEnd(width)} ${perClass[k]}`)
  );
  if (unlabelled) console.log(`  ${"-1".padStart(3)} ${"unlabelled".padEnd(width)} ${unlabelled}`);
}

/** Up to `n` sprites of one label, spread evenly over all of them. */
function spread(ds: SpriteDataset, label: number, n: number): RgbaImage[] {
  const members: number[] = [];
  ds.labels.forEach((l, i) => l === label && members.push(i));
  const picks = Math.min(n, members.length);
  const plane = ds.channels * ds.size * ds.size;
  return Array.from({ length: picks }, (_, j) => {
    const i = members[Math.floor((j * members.length) / picks)];
    return imageFromTensor(ds.images, ds.channels, ds.size, ds.size, i * plane);
  });
}

async function preview(args: string[]): Promise<void> {
  const { values, positionals } = parseOptions("data preview", args, PREVIEW_OPTIONS, true);
  if (values.help) return void console.log(HELP);
  const path = onePath("preview", positionals);
  const perClass = numberOption("per-class", values["per-class"], 16, {
    min: 1,
    max: 1000,
    integer: true,
  });
  const scale = numberOption("scale", values.scale, 4, { min: 1, max: 64, integer: true });
  const pictures = pictureOptions(values);
  const out = values.out ?? `out/${basename(path).replace(/\.[^.]*$/, "")}-preview.png`;
  const ds = await loadDataset(path, loadOptions(values));

  const groups = ds.classNames.map((name, k) => ({ name, label: k }));
  if (ds.labels.includes(-1)) groups.push({ name: "unlabelled", label: -1 });
  const rows = groups.map((g) => spread(ds, g.label, perClass));
  await writableOutDir(dirname(out));
  const sheet = composeSheet(rows, { scale, gap: scale, checker: true });
  await writeFileAtomic(out, await encodePng(sheet));
  console.log(`wrote ${out}: ${groups.length} rows (${groups.map((g) => g.name).join(", ")})`);

  const display = await detectDisplay(pictures.preview);
  if (display.protocol === "none") return;
  for (const [r, g] of groups.entries()) {
    // One row per class, as many sprites as fit the terminal's width.
    const rendered = await renderGrid(rows[r], display, {
      scale: pictures.scale,
      maxRows: 1,
      note: false,
      scrolls: true,
    });
    console.log(`${String(g.label).padStart(2)} ${g.name}\n${renderedText(rendered)}`);
  }
}

export const dataCommand: Command = {
  run(args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case "build":
        return build(rest);
      case "info":
        return info(rest);
      case "preview":
        return preview(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        console.log(HELP);
        return Promise.resolve();
      default:
        throw new UserError(
          `data: unknown command '${sub}'; use build, info or preview (see 'data --help')`,
        );
    }
  },
};
