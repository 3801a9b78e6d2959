/**
 * ContextUNet on the GPU: activations for one batch size, and the recorded
 * forward and backward programs over them (llm.c style: every layer an explicit
 * forward and backward over named buffers).
 *
 * Inputs: `x` [N,C,16,16] (the noisy image), `tfrac` [N,1] (t / T), `labels` [N]
 * (u32 class indices; num_classes is the null class). Output: `eps` [N,C,16,16].
 * Built with `classMix`, it reads `mix` [N, num_classes + 1] (each row's weights
 * over the label table) instead of `labels`; built with `wrap`, every convolution
 * pads circularly along those axes (seamless tiles). Both are for sampling only.
 * Backward input: `deps` (∂loss/∂eps); it fills the gradient buffer of the store.
 */

import type { Gpu } from "../gpu/gpu.ts";
import { Program } from "../gpu/program.ts";
import { reshape, type Tensor, TensorPool } from "../gpu/tensor.ts";
import { attentionBackward, attentionForward } from "../nn/attention.ts";
import { conv2dBackward, conv2dForward, type Wrap } from "../nn/conv2d.ts";
import { embedAddForward, embedBackward, embedMixForward } from "../nn/embedding.ts";
import { groupNormBackward, groupNormForward } from "../nn/groupnorm.ts";
import { linearBackward, linearForward } from "../nn/linear.ts";
import type { ParamStore } from "../nn/params.ts";
import {
  addInto,
  avgPool2Backward,
  avgPool2Forward,
  concatBackward,
  concatForward,
  upsample2Backward,
  upsample2Forward,
} from "../nn/resample.ts";
import {
  embedWidth,
  GROUPS,
  IMAGE_SIZE,
  type ModelConfig,
  type ResBlockSpec,
  unetPlan,
} from "./config.ts";

/**
 * Gradients of activations, allocated on first use. The first writer of a
 * gradient overwrites it and later writers accumulate, so a tensor read by two
 * layers (a skip connection, the embedding) gets the sum without zeroing passes.
 */
class ActivationGrads {
  readonly #grads = new Map<Tensor, Tensor>();
  readonly #written = new Set<Tensor>();

  constructor(readonly alloc: (shape: readonly number[], label: string) => Tensor) {}

  /** The gradient of `t`, and whether a writer must accumulate into it. */
  take(t: Tensor): [Tensor, boolean] {
    let g = this.#grads.get(t);
    if (!g) {
      g = this.alloc(t.shape, `d${t.label}`);
      this.#grads.set(t, g);
    }
    const accumulate = this.#written.has(t);
    this.#written.add(t);
    return [g, accumulate];
  }

  /** The gradient of `t`, which some layer must already have written. */
  get(t: Tensor): Tensor {
    const g = this.#grads.get(t);
    if (!g || !this.#written.has(t)) {
      throw new Error(`gradient of ${t.label} read before it was written`);
    }
    return g;
  }
}

interface ResBlockActs {
  spec: ResBlockSpec;
  x: Tensor;
  tembPre: Tensor;
  temb: Tensor;
  y1: Tensor;
  stats1: Tensor;
  h: Tensor;
  y2: Tensor;
  stats2: Tensor;
  skip: Tensor | null;
  out: Tensor;
}

interface AttnActs {
  prefix: string;
  x: Tensor;
  stats: Tensor;
  normed: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  p: Tensor;
  o: Tensor;
  out: Tensor;
}

/** One recorded step of the network, replayed backward in reverse order. */
type Layer =
  | { kind: "res"; acts: ResBlockActs }
  | { kind: "attn"; acts: AttnActs }
  | { kind: "pool"; x: Tensor; y: Tensor }
  | { kind: "up"; x: Tensor; y: Tensor }
  | { kind: "concat"; a: Tensor; b: Tensor; y: Tensor };

export class ContextUNet {
  readonly x: Tensor;
  readonly tfrac: Tensor;
  readonly labels: Tensor;
  /** [N, num_classes + 1] label weights; only with `classMix`. */
  readonly mix: Tensor | null;
  readonly eps: Tensor;
  readonly forward: Program;
  readonly #layers: Layer[] = [];
  readonly #emb: { t0Pre: Tensor; t0: Tensor; t1: Tensor; emb: Tensor };
  readonly #init: Tensor;
  readonly #outNorm: { x: Tensor; stats: Tensor; y: Tensor };
  #backward: { program: Program; deps: Tensor } | null = null;
  readonly #pool: TensorPool;
  readonly #repack: Program;
  readonly #wrap: Wrap | undefined;

  /**
   * Work that depends only on the weights (the convolutions' weight repacks).
   * Empty unless built with `staticWeights`; then it must run once after the
   * weights are loaded, and `forward` skips it. Training leaves it in `forward`.
   */
  readonly prepare: Program;

  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    readonly store: ParamStore,
    readonly batch: number,
    { staticWeights = false, classMix = false, wrap }: {
      staticWeights?: boolean;
      classMix?: boolean;
      wrap?: Wrap;
    } = {},
  ) {
    const n = batch;
    const s = IMAGE_SIZE;
    const e = embedWidth(config);
    this.#pool = new TensorPool(gpu);
    const t = (shape: number[], label: string) => this.#pool.create(shape, label);
    const fwd = new Program(gpu, "unet.forward");
    this.forward = fwd;
    this.prepare = new Program(gpu, "unet.prepare");
    this.#repack = staticWeights ? this.prepare : fwd;
    this.#wrap = wrap;
    this.x = t([n, config.in_ch, s, s], "x");
    this.tfrac = t([n, 1], "tfrac");
    this.labels = t([n], "labels");
    this.mix = classMix ? t([n, config.num_classes + 1], "mix") : null;

    this.#emb = {
      t0Pre: t([n, e], "t0pre"),
      t0: t([n, e], "t0"),
      t1: t([n, e], "t1"),
      emb: t([n, e], "emb"),
    };
    const em = this.#emb;
    linearForward(fwd, {
      ...this.#lin("time_mlp.0"),
      x: this.tfrac,
      y: em.t0,
      silu: true,
      preact: em.t0Pre,
    });
    linearForward(fwd, { ...this.#lin("time_mlp.2"), x: em.t0, y: em.t1, silu: false });
    const table = this.#p("label_emb.weight");
    if (this.mix) embedMixForward(fwd, { base: em.t1, table, mix: this.mix, y: em.emb });
    else embedAddForward(fwd, { base: em.t1, table, labels: this.labels, y: em.emb });

    const plan = unetPlan(config);
    this.#init = t([n, plan.downs[0].blocks[0].inCh, s, s], "init");
    conv2dForward(fwd, { ...this.#convIn("init_conv"), x: this.x, y: this.#init });

    let h = this.#init;
    let size = s;
    const skips: Tensor[] = [];
    plan.downs.forEach((level, i) => {
      for (const b of level.blocks) h = this.#resBlock(fwd, b, h, size);
      if (level.attn) h = this.#attention(fwd, level.attn, h);
      skips.push(h);
      if (i < plan.downs.length - 1) {
        size /= 2;
        const y = t([n, level.ch, size, size], `pool${i}`);
        avgPool2Forward(fwd, { x: h, y });
        this.#layers.push({ kind: "pool", x: h, y });
        h = y;
      }
    });
    h = this.#resBlock(fwd, plan.mid.block1, h, size);
    h = this.#attention(fwd, plan.mid.attn, h);
    h = this.#resBlock(fwd, plan.mid.block2, h, size);
    plan.ups.forEach((level, u) => {
      if (u > 0) {
        size *= 2;
        const y = t([n, h.shape[1], size, size], `up${u}`);
        upsample2Forward(fwd, { x: h, y });
        this.#layers.push({ kind: "up", x: h, y });
        h = y;
      }
      const skip = skips.pop()!;
      const y = t([n, h.shape[1] + level.skipCh, size, size], `cat${u}`);
      concatForward(fwd, { a: h, b: skip, y });
      this.#layers.push({ kind: "concat", a: h, b: skip, y });
      h = y;
      for (const b of level.blocks) h = this.#resBlock(fwd, b, h, size);
      if (level.attn) h = this.#attention(fwd, level.attn, h);
    });
    this.#outNorm = {
      x: h,
      stats: t([n, GROUPS, 2], "out.stats"),
      y: t(h.shape.slice(), "out.norm"),
    };
    groupNormForward(fwd, {
      ...this.#norm("out_conv.0"),
      x: h,
      stats: this.#outNorm.stats,
      y: this.#outNorm.y,
      groups: GROUPS,
      silu: true,
    });
    this.eps = t([n, config.in_ch, s, s], "eps");
    conv2dForward(fwd, { ...this.#convIn("out_conv.2"), x: this.#outNorm.y, y: this.eps });
  }

  /** The recorded backward program and its input ∂loss/∂eps; built on first use (training only). */
  get backward(): { program: Program; deps: Tensor } {
    if (this.mix || this.#wrap) throw new Error("a class-mixing or wrapping UNet has no backward");
    this.#backward ??= this.#recordBackward();
    return this.#backward;
  }

  /** Frees every activation, gradient and scratch buffer of this model (not the parameters). */
  destroy(): void {
    this.forward.destroy();
    this.prepare.destroy();
    this.#backward?.program.destroy();
    this.#pool.destroy();
  }

  #p(name: string): Tensor {
    return this.store.view(name);
  }

  #g(name: string): Tensor {
    return this.store.view(name, "grad");
  }

  #lin(prefix: string) {
    return { w: this.#p(`${prefix}.weight`), b: this.#p(`${prefix}.bias`) };
  }

  #conv(prefix: string) {
    const w = this.#p(`${prefix}.weight`);
    // Conv1d weights [C,C,1] are 1×1 Conv2d weights with one more unit axis.
    return {
      w: w.shape.length === 3 ? reshape(w, [...w.shape, 1]) : w,
      b: this.#p(`${prefix}.bias`),
    };
  }

  /** {@link #conv} for a forward call: its weight repack goes where `staticWeights` says. */
  #convIn(prefix: string) {
    return { ...this.#conv(prefix), prepare: this.#repack, wrap: this.#wrap };
  }

  #convGrads(prefix: string) {
    const w = this.#g(`${prefix}.weight`);
    return {
      dw: w.shape.length === 3 ? reshape(w, [...w.shape, 1]) : w,
      db: this.#g(`${prefix}.bias`),
    };
  }

  #norm(prefix: string) {
    return { gamma: this.#p(`${prefix}.weight`), beta: this.#p(`${prefix}.bias`) };
  }

  #normGrads(prefix: string) {
    return { dgamma: this.#g(`${prefix}.weight`), dbeta: this.#g(`${prefix}.bias`) };
  }

  #resBlock(fwd: Program, spec: ResBlockSpec, x: Tensor, size: number): Tensor {
    const n = this.batch;
    const { prefix: p, outCh } = spec;
    const t = (shape: number[], name: string) => this.#pool.create(shape, `${p}.${name}`);
    const a: ResBlockActs = {
      spec,
      x,
      tembPre: t([n, outCh], "tembPre"),
      temb: t([n, outCh], "temb"),
      y1: t([n, outCh, size, size], "y1"),
      stats1: t([n, GROUPS, 2], "stats1"),
      h: t([n, outCh, size, size], "h"),
      y2: t([n, outCh, size, size], "y2"),
      stats2: t([n, GROUPS, 2], "stats2"),
      skip: spec.inCh !== outCh ? t([n, outCh, size, size], "skip") : null,
      out: t([n, outCh, size, size], "out"),
    };
    linearForward(fwd, {
      ...this.#lin(`${p}.time_mlp.0`),
      x: this.#emb.emb,
      y: a.temb,
      silu: true,
      preact: a.tembPre,
    });
    conv2dForward(fwd, { ...this.#convIn(`${p}.conv1`), x, y: a.y1 });
    groupNormForward(fwd, {
      ...this.#norm(`${p}.norm1`),
      x: a.y1,
      stats: a.stats1,
      y: a.h,
      groups: GROUPS,
      silu: true,
      emb: a.temb,
    });
    conv2dForward(fwd, { ...this.#convIn(`${p}.conv2`), x: a.h, y: a.y2 });
    if (a.skip) conv2dForward(fwd, { ...this.#convIn(`${p}.skip`), x, y: a.skip });
    groupNormForward(fwd, {
      ...this.#norm(`${p}.norm2`),
      x: a.y2,
      stats: a.stats2,
      y: a.out,
      groups: GROUPS,
      silu: true,
      residual: a.skip ?? x,
    });
    this.#layers.push({ kind: "res", acts: a });
    return a.out;
  }

  #attention(fwd: Program, p: string, x: Tensor): Tensor {
    const [n, c, hh, ww] = x.shape;
    const t = (shape: number[], name: string) => this.#pool.create(shape, `${p}.${name}`);
    const l = hh * ww;
    const a: AttnActs = {
      prefix: p,
      x,
      stats: t([n, GROUPS, 2], "stats"),
      normed: t([n, c, hh, ww], "normed"),
      q: t([n, c, hh, ww], "q"),
      k: t([n, c, hh, ww], "k"),
      v: t([n, c, hh, ww], "v"),
      p: t([n, l, l], "p"),
      o: t([n, c, hh, ww], "o"),
      out: t([n, c, hh, ww], "out"),
    };
    groupNormForward(fwd, {
      ...this.#norm(`${p}.norm`),
      x,
      stats: a.stats,
      y: a.normed,
      groups: GROUPS,
      silu: false,
    });
    conv2dForward(fwd, { ...this.#convIn(`${p}.q`), x: a.normed, y: a.q });
    conv2dForward(fwd, { ...this.#convIn(`${p}.k`), x: a.normed, y: a.k });
    conv2dForward(fwd, { ...this.#convIn(`${p}.v`), x: a.normed, y: a.v });
    const seq = (u: Tensor) => reshape(u, [n, c, l]);
    attentionForward(fwd, { q: seq(a.q), k: seq(a.k), v: seq(a.v), o: seq(a.o), p: a.p });
    conv2dForward(fwd, { ...this.#convIn(`${p}.proj_out`), x: a.o, y: a.out, residual: x });
    this.#layers.push({ kind: "attn", acts: a });
    return a.out;
  }

  #recordBackward(): { program: Program; deps: Tensor } {
    const bwd = new Program(this.gpu, "unet.backward");
    const grads = new ActivationGrads((shape, label) => this.#pool.create(shape, label));
    const deps = this.#pool.create(this.eps.shape, "deps");

    const [dOutNorm] = grads.take(this.#outNorm.y);
    conv2dBackward(bwd, {
      ...this.#conv("out_conv.2"),
      ...this.#convGrads("out_conv.2"),
      x: this.#outNorm.y,
      dy: deps,
      dx: dOutNorm,
    });
    const top = this.#outNorm.x;
    const [dTop, accTop] = grads.take(top);
    groupNormBackward(bwd, {
      ...this.#norm("out_conv.0"),
      ...this.#normGrads("out_conv.0"),
      x: top,
      stats: this.#outNorm.stats,
      groups: GROUPS,
      silu: true,
      dy: dOutNorm,
      dx: dTop,
      accumulateDx: accTop,
    });

    for (let i = this.#layers.length - 1; i >= 0; i--) {
      const layer = this.#layers[i];
      switch (layer.kind) {
        case "res":
          this.#resBlockBackward(bwd, grads, layer.acts);
          break;
        case "attn":
          this.#attentionBackward(bwd, grads, layer.acts);
          break;
        case "pool": {
          const [dx, accumulate] = grads.take(layer.x);
          avgPool2Backward(bwd, { dy: grads.get(layer.y), dx, accumulate });
          break;
        }
        case "up": {
          const [dx, accumulate] = grads.take(layer.x);
          upsample2Backward(bwd, { dy: grads.get(layer.y), dx, accumulate });
          break;
        }
        case "concat": {
          const [da, accumulateA] = grads.take(layer.a);
          const [db, accumulateB] = grads.take(layer.b);
          concatBackward(bwd, { dy: grads.get(layer.y), da, db, accumulateA, accumulateB });
          break;
        }
      }
    }

    // The image needs no gradient, so init_conv computes only its weight gradients.
    conv2dBackward(bwd, {
      ...this.#conv("init_conv"),
      ...this.#convGrads("init_conv"),
      x: this.x,
      dy: grads.get(this.#init),
    });

    const em = this.#emb;
    const dEmb = grads.get(em.emb);
    embedBackward(bwd, { dy: dEmb, labels: this.labels, dtable: this.#g("label_emb.weight") });
    // ∂emb/∂t1 is the identity, so dEmb is t1's gradient as it stands.
    const [dT0] = grads.take(em.t0);
    linearBackward(bwd, {
      ...this.#lin("time_mlp.2"),
      dw: this.#g("time_mlp.2.weight"),
      db: this.#g("time_mlp.2.bias"),
      x: em.t0,
      silu: false,
      dy: dEmb,
      dx: dT0,
    });
    linearBackward(bwd, {
      ...this.#lin("time_mlp.0"),
      dw: this.#g("time_mlp.0.weight"),
      db: this.#g("time_mlp.0.bias"),
      x: this.tfrac,
      silu: true,
      preact: em.t0Pre,
      dy: dT0,
    });
    return { program: bwd, deps };
  }

  #resBlockBackward(bwd: Program, grads: ActivationGrads, a: ResBlockActs): void {
    const p = a.spec.prefix;
    const local = (u: Tensor) => this.#pool.create(u.shape, `d${u.label}`);
    const dOut = grads.get(a.out);
    const dY2 = local(a.y2);
    const dSkip = a.skip ? local(a.skip) : null;
    const [dResidual, accResidual] = dSkip ? [dSkip, false] : grads.take(a.x);
    groupNormBackward(bwd, {
      ...this.#norm(`${p}.norm2`),
      ...this.#normGrads(`${p}.norm2`),
      x: a.y2,
      stats: a.stats2,
      groups: GROUPS,
      silu: true,
      residual: a.skip ?? a.x,
      dy: dOut,
      dx: dY2,
      dresidual: dResidual,
      accumulateDresidual: accResidual,
    });
    if (a.skip && dSkip) {
      const [dx, accumulateDx] = grads.take(a.x);
      conv2dBackward(bwd, {
        ...this.#conv(`${p}.skip`),
        ...this.#convGrads(`${p}.skip`),
        x: a.x,
        dy: dSkip,
        dx,
        accumulateDx,
      });
    }
    const dH = local(a.h);
    conv2dBackward(bwd, {
      ...this.#conv(`${p}.conv2`),
      ...this.#convGrads(`${p}.conv2`),
      x: a.h,
      dy: dY2,
      dx: dH,
    });
    const dY1 = local(a.y1);
    const dTemb = local(a.temb);
    groupNormBackward(bwd, {
      ...this.#norm(`${p}.norm1`),
      ...this.#normGrads(`${p}.norm1`),
      x: a.y1,
      stats: a.stats1,
      groups: GROUPS,
      silu: true,
      dy: dH,
      dx: dY1,
      demb: dTemb,
    });
    const [dx, accumulateDx] = grads.take(a.x);
    conv2dBackward(bwd, {
      ...this.#conv(`${p}.conv1`),
      ...this.#convGrads(`${p}.conv1`),
      x: a.x,
      dy: dY1,
      dx,
      accumulateDx,
    });
    const [dEmb, accEmb] = grads.take(this.#emb.emb);
    linearBackward(bwd, {
      ...this.#lin(`${p}.time_mlp.0`),
      dw: this.#g(`${p}.time_mlp.0.weight`),
      db: this.#g(`${p}.time_mlp.0.bias`),
      x: this.#emb.emb,
      silu: true,
      preact: a.tembPre,
      dy: dTemb,
      dx: dEmb,
      accumulateDx: accEmb,
    });
  }

  #attentionBackward(bwd: Program, grads: ActivationGrads, a: AttnActs): void {
    const p = a.prefix;
    const [n, c, hh, ww] = a.x.shape;
    const l = hh * ww;
    const local = (u: Tensor) => this.#pool.create(u.shape, `d${u.label}`);
    const dOut = grads.get(a.out);
    const dO = local(a.o);
    conv2dBackward(bwd, {
      ...this.#conv(`${p}.proj_out`),
      ...this.#convGrads(`${p}.proj_out`),
      x: a.o,
      dy: dOut,
      dx: dO,
    });
    const dq = local(a.q);
    const dk = local(a.k);
    const dv = local(a.v);
    const seq = (u: Tensor) => reshape(u, [n, c, l]);
    attentionBackward(bwd, {
      q: seq(a.q),
      k: seq(a.k),
      v: seq(a.v),
      p: a.p,
      dout: seq(dO),
      dq: seq(dq),
      dk: seq(dk),
      dv: seq(dv),
    });
    const dNormed = local(a.normed);
    conv2dBackward(bwd, {
      ...this.#conv(`${p}.q`),
      ...this.#convGrads(`${p}.q`),
      x: a.normed,
      dy: dq,
      dx: dNormed,
    });
    for (const m of ["k", "v"] as const) {
      const dy = m === "k" ? dk : dv;
      conv2dBackward(bwd, {
        ...this.#conv(`${p}.${m}`),
        ...this.#convGrads(`${p}.${m}`),
        x: a.normed,
        dy,
        dx: dNormed,
        accumulateDx: true,
      });
    }
    const [dx, accumulateDx] = grads.take(a.x);
    groupNormBackward(bwd, {
      ...this.#norm(`${p}.norm`),
      ...this.#normGrads(`${p}.norm`),
      x: a.x,
      stats: a.stats,
      groups: GROUPS,
      silu: false,
      dy: dNormed,
      dx,
      accumulateDx,
    });
    // The block adds its input to the projection: that path's gradient is dOut itself.
    addInto(bwd, { dst: dx, src: dOut });
  }
}
