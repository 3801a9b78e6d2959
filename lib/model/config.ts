/**
 * ContextUNet configuration, presets, and the parameter list in PyTorch
 * `state_dict` order with the reference tensor names, so weights move between
 * this project and the original.
 *
 * Field names follow the reference constructor's arguments (snake_case), so a
 * config is the same JSON in a safetensors `__metadata__` on either side.
 */

import type { ParamSpec } from "../nn/params.ts";

export interface ModelConfig {
  in_ch: number;
  base_ch: number;
  channel_mults: number[];
  num_res_blocks: number;
  use_attention: boolean[];
  num_classes: number;
}

/** GroupNorm groups everywhere in the model. */
export const GROUPS = 8;
/** Sprite side in pixels. */
export const IMAGE_SIZE = 16;

const preset = (base_ch: number, in_ch = 3, num_classes = 5): ModelConfig => ({
  in_ch,
  base_ch,
  channel_mults: [1, 2, 2],
  num_res_blocks: 2,
  use_attention: [false, true, true],
  num_classes,
});

/** Named configurations: the original's, and smaller ones the CPU fallback trains in hours. */
export const PRESETS: Readonly<Record<string, ModelConfig>> = {
  reference: preset(64),
  small: preset(32),
  tiny: preset(16),
};

/** Channel counts [base, base·m1, …]: chs[i+1] is level i's width. */
export const levelChannels = (
  c: ModelConfig,
): number[] => [c.base_ch, ...c.channel_mults.map((m) => m * c.base_ch)];

export const embedWidth = (c: ModelConfig): number => 4 * c.base_ch;

/** Throws a one-line reason when `c` cannot be built. */
export function validateConfig(c: ModelConfig): void {
  const levels = c.channel_mults.length;
  const problems: string[] = [];
  if (c.in_ch !== 3 && c.in_ch !== 4) {
    problems.push(`in_ch must be 3 (RGB) or 4 (RGBA), not ${c.in_ch}`);
  }
  if (!Number.isInteger(c.base_ch) || c.base_ch < GROUPS) {
    problems.push(`base_ch must be an integer ≥ ${GROUPS}`);
  }
  if (levels < 1 || IMAGE_SIZE >> (levels - 1) < 4) {
    problems.push(`channel_mults needs 1–3 levels for 16×16 sprites`);
  }
  if (c.use_attention.length !== levels) {
    problems.push(`use_attention needs one flag per level (${levels})`);
  }
  if (levelChannels(c).some((ch) => !Number.isInteger(ch) || ch % GROUPS !== 0)) {
    problems.push(`every level's channel count must be a multiple of ${GROUPS}`);
  }
  if (!Number.isInteger(c.num_res_blocks) || c.num_res_blocks < 1) {
    problems.push("num_res_blocks must be ≥ 1");
  }
  if (!Number.isInteger(c.num_classes) || c.num_classes < 1) {
    problems.push("num_classes must be ≥ 1");
  }
  if (problems.length) throw new Error(`invalid model config: ${problems.join("; ")}`);
}

/** One residual block's shape and name prefix. */
export interface ResBlockSpec {
  prefix: string;
  inCh: number;
  outCh: number;
}

/** The blocks of the network in forward order, the single source of the architecture. */
export interface UNetPlan {
  downs: { blocks: ResBlockSpec[]; attn: string | null; ch: number }[];
  mid: { block1: ResBlockSpec; attn: string; block2: ResBlockSpec };
  ups: { blocks: ResBlockSpec[]; attn: string | null; skipCh: number; ch: number }[];
}

export function unetPlan(c: ModelConfig): UNetPlan {
  const chs = levelChannels(c);
  const levels = c.channel_mults.length;
  const downs: UNetPlan["downs"] = [];
  let ch = chs[0];
  for (let i = 0; i < levels; i++) {
    const blocks: ResBlockSpec[] = [];
    for (let j = 0; j < c.num_res_blocks; j++) {
      blocks.push({ prefix: `downs.${i}.blocks.${j}`, inCh: ch, outCh: chs[i + 1] });
      ch = chs[i + 1];
    }
    downs.push({ blocks, attn: c.use_attention[i] ? `downs.${i}.attn` : null, ch });
  }
  const mid = {
    block1: { prefix: "mid.block1", inCh: ch, outCh: ch },
    attn: "mid.attn",
    block2: { prefix: "mid.block2", inCh: ch, outCh: ch },
  };
  const ups: UNetPlan["ups"] = [];
  for (let i = levels - 1, u = 0; i >= 0; i--, u++) {
    const skipCh = chs[i + 1];
    const blocks: ResBlockSpec[] = [];
    for (let j = 0; j <= c.num_res_blocks; j++) {
      blocks.push({
        prefix: `ups.${u}.blocks.${j}`,
        inCh: j === 0 ? ch + skipCh : chs[i],
        outCh: chs[i],
      });
      ch = chs[i];
    }
    ups.push({ blocks, attn: c.use_attention[i] ? `ups.${u}.attn` : null, skipCh, ch });
  }
  return { downs, mid, ups };
}

/** All parameters with their reference names and shapes, in `state_dict` order. */
export function paramSpecs(c: ModelConfig): ParamSpec[] {
  validateConfig(c);
  const e = embedWidth(c);
  const specs: ParamSpec[] = [];
  const add = (name: string, ...shape: number[]) => specs.push({ name, shape });
  const linear = (p: string, inF: number, outF: number) => {
    add(`${p}.weight`, outF, inF);
    add(`${p}.bias`, outF);
  };
  const conv = (p: string, inC: number, outC: number, k: number) => {
    add(`${p}.weight`, outC, inC, k, k);
    add(`${p}.bias`, outC);
  };
  const norm = (p: string, ch: number) => {
    add(`${p}.weight`, ch);
    add(`${p}.bias`, ch);
  };
  const resBlock = ({ prefix: p, inCh, outCh }: ResBlockSpec) => {
    conv(`${p}.conv1`, inCh, outCh, 3);
    conv(`${p}.conv2`, outCh, outCh, 3);
    norm(`${p}.norm1`, outCh);
    norm(`${p}.norm2`, outCh);
    if (inCh !== outCh) conv(`${p}.skip`, inCh, outCh, 1);
    linear(`${p}.time_mlp.0`, e, outCh);
  };
  const attention = (p: string, ch: number) => {
    norm(`${p}.norm`, ch);
    for (const m of ["q", "k", "v", "proj_out"]) {
      add(`${p}.${m}.weight`, ch, ch, 1);
      add(`${p}.${m}.bias`, ch);
    }
  };
  const plan = unetPlan(c);
  const chs = levelChannels(c);
  linear("time_mlp.0", 1, e);
  linear("time_mlp.2", e, e);
  add("label_emb.weight", c.num_classes + 1, e);
  conv("init_conv", c.in_ch, chs[0], 3);
  for (const d of plan.downs) {
    d.blocks.forEach(resBlock);
    if (d.attn) attention(d.attn, d.ch);
  }
  resBlock(plan.mid.block1);
  attention(plan.mid.attn, plan.mid.block1.outCh);
  resBlock(plan.mid.block2);
  for (const u of plan.ups) {
    u.blocks.forEach(resBlock);
    if (u.attn) attention(u.attn, u.ch);
  }
  norm("out_conv.0", chs[0]);
  conv("out_conv.2", chs[0], c.in_ch, 3);
  return specs;
}
