/**
 * The built-in palettes, by the names `--palette` takes. Colours and their order were checked
 * against published sources (named beside each); where sources disagree, the note says which
 * one is used.
 */

import { makePalette, type Palette, parseHex } from "./palette.ts";

const fromHex = (name: string, list: string): Palette =>
  makePalette(name, list.trim().split(/\s+/).map((h) => parseHex(h)!));

export const BUILTIN_PALETTES: ReadonlyMap<string, Palette> = new Map(
  [
    // PICO-8 (Lexaloffle): the manual's 16 colours, as in Aseprite's pico-8.gpl and the PICO-8 wiki.
    fromHex(
      "pico8",
      `000000 1d2b53 7e2553 008751 ab5236 5f574f c2c3c7 fff1e8
       ff004d ffa300 ffec27 00e436 29adff 83769c ff77a8 ffccaa`,
    ),
    // DawnBringer 16 (Richard Fhager): Aseprite's db16.gpl.
    fromHex(
      "db16",
      `140c1c 442434 30346d 4e4a4e 854c30 346524 d04648 757161
       597dce d27d2c 8595a1 6daa2c d2aa99 6dc2ca dad45e deeed6`,
    ),
    // DawnBringer 32: Aseprite's db32.gpl (= Lospec "dawnbringer-32").
    fromHex(
      "db32",
      `000000 222034 45283c 663931 8f563b df7126 d9a066 eec39a
       fbf236 99e550 6abe30 37946e 4b692f 524b24 323c39 3f3f74
       306082 5b6ee1 639bff 5fcde4 cbdbfc ffffff 9badb7 847e87
       696a6a 595652 76428a ac3232 d95763 d77bba 8f974a 8a6f30`,
    ),
    // ENDESGA 32: Lospec "endesga-32" (the version in common use; Aseprite's older edg32.gpl
    // differs in five colours, e.g. d87644 for d77643).
    fromHex(
      "endesga32",
      `be4a2f d77643 ead4aa e4a672 b86f50 733e39 3e2731 a22633
       e43b44 f77622 feae34 fee761 63c74d 3e8948 265c42 193c3e
       124e89 0099db 2ce8f5 ffffff c0cbdc 8b9bb4 5a6988 3a4466
       262b44 181425 ff0044 68386c b55088 f6757a e8b796 c28569`,
    ),
    // Sweetie 16 (GrafxKid), TIC-80's default: Lospec "sweetie-16".
    fromHex(
      "sweetie16",
      `1a1c2c 5d275d b13e53 ef7d57 ffcd75 a7f070 38b764 257179
       29366f 3b5dc9 41a6f6 73eff7 f4f4f4 94b0c2 566c86 333c57`,
    ),
    // NES: the widely used 2C02 table (64 entries $00–$3F, the 2C02's repeated blacks
    // dropped), the same 55 colours as Lospec's "nintendo-entertainment-system"; hardware order.
    fromHex(
      "nes",
      `7c7c7c 0000fc 0000bc 4428bc 940084 a80020 a81000 881400
       503000 007800 006800 005800 004058 000000 bcbcbc 0078f8
       0058f8 6844fc d800cc e40058 f83800 e45c10 ac7c00 00b800
       00a800 00a844 008888 f8f8f8 3cbcfc 6888fc 9878f8 f878f8
       f85898 f87858 fca044 f8b800 b8f818 58d854 58f898 00e8d8
       787878 fcfcfc a4e4fc b8b8f8 d8b8f8 f8b8f8 f8a4c0 f0d0b0
       fce0a8 f8d878 d8f878 b8f8b8 b8f8d8 00fcfc f8d8f8`,
    ),
    // Game Boy (DMG) greens, dark to light: Aseprite's gameboy.gpl.
    fromHex("gameboy", "0f380f 306230 8bac0f 9bbc0f"),
    // Commodore 64 in hardware order ($0 black … $F light grey): Aseprite's commodore64.gpl
    // (Pepto's measured palette).
    fromHex(
      "c64",
      `000000 ffffff 883932 67b6bd 8b3f96 55a049 40318d bfce72
       8b5429 574200 b86962 505050 787878 94e089 7869c4 9f9f9f`,
    ),
    // CGA mode 4, palette 1 high intensity (black, light cyan, light magenta, white): Aseprite's
    // cga1hi.gpl.
    fromHex("cga", "000000 55ffff ff55ff ffffff"),
  ].map((p) => [p.name, p]),
);
