// 2-D convolution, stride 1, zero padding (K − 1) / 2, NCHW f32 (see lib/nn/conv2d.ts).
//
// Bindings (group 0; each entry point uses a subset, the others are left unbound):
//   0 src       [N, CIN, H, W] vec4  read        the convolved input: x, or dy for input_grad
//   1 packed    [CIN, K·K, COUTP] vec4 read      weights repacked by pack_weights
//   2 dst       [N, COUT, H, W] vec4 read_write  the output: y, or dx for input_grad
//   3 bias      [COUT] f32           read
//   4 residual  [N, COUT, H, W] vec4 read        added to y by forward_residual
//   5 pack_out  [CIN, K·K, COUTP] f32 read_write the buffer of `packed`, written by pack_weights
//   6 weight    [COUT, CIN, K, K] f32 read       the layer's weight, or [CIN, COUT, K, K] when FLIP
//   7 grad_out  [N, COUT, H, W] vec4 read        dy for weight_grad (src is x there)
//   8 partial   [S, DWP] + [S, DBP] f32 read_write  per-split sums of weight_grad (scratch)
//   9 partial4  the same buffer as partial, as vec4, read by weight_grad_reduce
//  10 dw        [DWP] vec4 read_write   [COUT, CIN, K, K] plus zero padding to a vec4
//  11 db        [DBP] vec4 read_write   [COUT] plus zero padding to a vec4
// Constants: N, H, W (a multiple of 4), K (1 or 3), CIN, COUT (channels of src and dst),
//   COUTP (COUT rounded up to a multiple of TN), TN (output channels per invocation: 4, 8 or 16),
//   FLIP (pack the transposed, spatially flipped weight: the input gradient is a convolution of dy),
//   ACCUM (input_grad adds to dst), S (batch splits of weight_grad).
// Entry points:
//   pack_weights        ceil(CIN·K·K·COUTP / 64) workgroups
//   forward, forward_residual, input_grad
//                       ceil(COUTP / TN · N · H · SEGS / 64) workgroups; each invocation computes
//                       TN output channels × one row segment of up to 16 pixels, so every loaded
//                       vec4 of src feeds 4·TN FMAs and the kx = 0, 2 taps are swizzles of it
//   weight_grad         ceil(S · ceil(COUT / 4) · ceil(CIN / 4) · K / 64) workgroups; each
//                       invocation sums 4 × 4 channel pairs × K taps of one kernel row ky
//                       over its share of the batch
//   weight_grad_reduce  ceil((DWP + DBP) / 4 / 64) workgroups: sums the S splits into dw and db
// Workgroup counts over the per-dimension limit are split over x and y (see grid1d).

const KK = K * K;
const PAD = (K - 1) / 2;
/** Vec4s per row. */
const VW = W / 4;
/** Vec4s of a row one invocation holds. */
const SV = min(VW, 4);
/** Row segments per row (1 for W ≤ 16). */
const SEGS = (VW + SV - 1) / SV;
const DWP = (COUT * CIN * KK + 3) / 4 * 4;
const DBP = (COUT + 3) / 4 * 4;
const CI_TILES = (CIN + TCI - 1) / TCI;
const CO_TILES = (COUT + TCO - 1) / TCO;

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read> packed: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> pack_out: array<f32>;
@group(0) @binding(6) var<storage, read> weight: array<f32>;
@group(0) @binding(7) var<storage, read> grad_out: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> partial: array<f32>;
@group(0) @binding(9) var<storage, read> partial4: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> dw: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> db: array<vec4f>;

/** Up to 16 pixels of a row; the vec4s past SV, or past the end of the row, are zero. */
struct Row {
  v0: vec4f,
  v1: vec4f,
  v2: vec4f,
  v3: vec4f,
}

/** A row as seen by the taps kx = 0, 1, 2: shifted right by one pixel, as is, shifted left. */
struct Taps {
  l: Row,
  c: Row,
  r: Row,
}

/** Accumulators of 4 output channels (c0 … c3) over one row segment. */
struct Quad {
  c0: Row,
  c1: Row,
  c2: Row,
  c3: Row,
}

/** Accumulators of TN output channels: quads past TN / 4 stay unused. */
struct Tile {
  q0: Quad,
  q1: Quad,
  q2: Quad,
  q3: Quad,
}

fn linear_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}

/** Whether vec4 j of row segment seg lies inside the row. */
fn in_row(seg: u32, j: u32) -> bool {
  return j < SV && seg * SV + j < VW;
}

/** Row segment seg of the src row starting at vec4 index base. */
fn src_row(base: u32, seg: u32) -> Row {
  let i = base + seg * SV;
  var r = Row();
  r.v0 = src[i];
  if (in_row(seg, 1u)) { r.v1 = src[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = src[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = src[i + 3u]; }
  return r;
}

/** Row segment seg of the grad_out row starting at vec4 index base. */
fn grad_out_row(base: u32, seg: u32) -> Row {
  let i = base + seg * SV;
  var r = Row();
  r.v0 = grad_out[i];
  if (in_row(seg, 1u)) { r.v1 = grad_out[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = grad_out[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = grad_out[i + 3u]; }
  return r;
}

/** The src row segment and its one-pixel shifts (zero padding at the row ends). */
fn src_taps(base: u32, seg: u32) -> Taps {
  let c = src_row(base, seg);
  var before = 0.0;
  var after = 0.0;
  if (seg > 0u) { before = src[base + seg * SV - 1u].w; }
  if ((seg + 1u) * SV < VW) { after = src[base + (seg + 1u) * SV].x; }
  // Past the segment's valid vec4s everything is zero, so the shifts need no further masking.
  let l = Row(
    vec4(before, c.v0.xyz),
    vec4(c.v0.w, c.v1.xyz),
    vec4(c.v1.w, c.v2.xyz),
    vec4(c.v2.w, c.v3.xyz),
  );
  var next = after;
  if (SV > 1) { next = c.v1.x; }
  var r = Row(vec4(c.v0.yzw, next), vec4(), vec4(), vec4());
  if (SV > 1) { r.v1 = vec4(c.v1.yzw, select(c.v2.x, after, SV == 2)); }
  if (SV > 2) { r.v2 = vec4(c.v2.yzw, select(c.v3.x, after, SV == 3)); }
  if (SV > 3) { r.v3 = vec4(c.v3.yzw, after); }
  return Taps(l, c, r);
}

// ---- forward, forward_residual, input_grad ----

/** a + w · x over the vec4s a row segment holds. */
fn mac(a: Row, w: f32, x: Row) -> Row {
  var o = a;
  o.v0 += w * x.v0;
  if (SV > 1) { o.v1 += w * x.v1; }
  if (SV > 2) { o.v2 += w * x.v2; }
  if (SV > 3) { o.v3 += w * x.v3; }
  return o;
}

fn mac_quad(q: Quad, w: vec4f, x: Row) -> Quad {
  return Quad(mac(q.c0, w.x, x), mac(q.c1, w.y, x), mac(q.c2, w.z, x), mac(q.c3, w.w, x));
}

/** The TN weights of one tap (vec4s past TN / 4 stay unused). */
struct TapWeights {
  w0: vec4f,
  w1: vec4f,
  w2: vec4f,
  w3: vec4f,
}

fn tap_weights(wi: u32) -> TapWeights {
  var w = TapWeights();
  w.w0 = packed[wi];
  if (TN > 4) { w.w1 = packed[wi + 1u]; }
  if (TN > 8) {
    w.w2 = packed[wi + 2u];
    w.w3 = packed[wi + 3u];
  }
  return w;
}

/** Adds one tap: x times the tap's TN weights. */
fn mac_tile(t: Tile, w: TapWeights, x: Row) -> Tile {
  var o = t;
  o.q0 = mac_quad(t.q0, w.w0, x);
  if (TN > 4) { o.q1 = mac_quad(t.q1, w.w1, x); }
  if (TN > 8) {
    o.q2 = mac_quad(t.q2, w.w2, x);
    o.q3 = mac_quad(t.q3, w.w3, x);
  }
  return o;
}

/** The accumulators of RH output rows. */
struct Tiles {
  r0: Tile,
  r1: Tile,
}

/** Where one invocation's output tile lies: rows h … h + RH − 1. */
struct Place {
  n: u32,
  tile: u32,
  h: u32,
  seg: u32,
}

const ROW_BLOCKS = (H + RH - 1) / RH;

// Invocations next to each other differ in h, then n: they share the tile's weights.
fn place(id: u32) -> Place {
  let seg = id % SEGS;
  let h = id / SEGS % ROW_BLOCKS * RH;
  let n = id / (SEGS * ROW_BLOCKS) % N;
  return Place(n, id / (SEGS * ROW_BLOCKS * N), h, seg);
}

/** src row iy of the plane at vec4 base with its shifts; zero outside the image. */
fn src_taps_at(base: u32, iy: u32, seg: u32) -> Taps {
  if (iy >= H) { return Taps(); } // also below zero: iy wraps around
  if (K == 1) { return Taps(Row(), src_row(base + iy * VW, seg), Row()); }
  return src_taps(base + iy * VW, seg);
}

/** Adds kernel row ky (weights from packed vec4 wi): input row a to output row 0, b to row 1. */
fn mac_kernel_row(t: Tiles, wi: u32, a: Taps, b: Taps) -> Tiles {
  var o = t;
  if (K == 3) {
    let wl = tap_weights(wi);
    let wc = tap_weights(wi + COUTP / 4);
    let wr = tap_weights(wi + COUTP / 2);
    o.r0 = mac_tile(mac_tile(mac_tile(o.r0, wl, a.l), wc, a.c), wr, a.r);
    if (RH > 1) { o.r1 = mac_tile(mac_tile(mac_tile(o.r1, wl, b.l), wc, b.c), wr, b.r); }
  } else {
    let wc = tap_weights(wi);
    o.r0 = mac_tile(o.r0, wc, a.c);
    if (RH > 1) { o.r1 = mac_tile(o.r1, wc, b.c); }
  }
  return o;
}

fn conv_tiles(p: Place) -> Tiles {
  var t = Tiles();
  for (var ci = 0u; ci < CIN; ci++) {
    let plane = (p.n * CIN + ci) * H * VW;
    let wi = (ci * KK * COUTP + p.tile * TN) / 4u;
    // Input rows h − PAD … h + RH − 1 + PAD, each loaded once for every kernel row it meets.
    let x0 = src_taps_at(plane, p.h - PAD, p.seg);
    var x1 = Taps();
    if (K == 3 || RH > 1) { x1 = src_taps_at(plane, p.h + 1u - PAD, p.seg); }
    if (K == 1) {
      t = mac_kernel_row(t, wi, x0, x1);
    } else {
      let x2 = src_taps_at(plane, p.h + 1u, p.seg);
      var x3 = Taps();
      if (RH > 1) { x3 = src_taps_at(plane, p.h + 2u, p.seg); }
      t = mac_kernel_row(t, wi, x0, x1);
      t = mac_kernel_row(t, wi + 3 * COUTP / 4, x1, x2);
      t = mac_kernel_row(t, wi + 6 * COUTP / 4, x2, x3);
    }
  }
  return t;
}

/** Accumulator row j (output channel tile · TN + j) of a tile. */
fn tile_row(t: Tile, j: u32) -> Row {
  switch j {
    case 0u: { return t.q0.c0; }
    case 1u: { return t.q0.c1; }
    case 2u: { return t.q0.c2; }
    case 3u: { return t.q0.c3; }
    case 4u: { return t.q1.c0; }
    case 5u: { return t.q1.c1; }
    case 6u: { return t.q1.c2; }
    case 7u: { return t.q1.c3; }
    case 8u: { return t.q2.c0; }
    case 9u: { return t.q2.c1; }
    case 10u: { return t.q2.c2; }
    case 11u: { return t.q2.c3; }
    case 12u: { return t.q3.c0; }
    case 13u: { return t.q3.c1; }
    case 14u: { return t.q3.c2; }
    default: { return t.q3.c3; }
  }
}

/** The dst vec4 index where row p.h + r, output channel co of p's row segment starts. */
fn dst_index(p: Place, r: u32, co: u32) -> u32 {
  return ((p.n * COUT + co) * H + p.h + r) * VW + p.seg * SV;
}

fn add_rows(a: Row, b: Row) -> Row {
  return Row(a.v0 + b.v0, a.v1 + b.v1, a.v2 + b.v2, a.v3 + b.v3);
}

fn add_scalar(a: Row, b: f32) -> Row {
  return Row(a.v0 + b, a.v1 + b, a.v2 + b, a.v3 + b);
}

fn dst_row(i: u32, seg: u32) -> Row {
  var r = Row();
  r.v0 = dst[i];
  if (in_row(seg, 1u)) { r.v1 = dst[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = dst[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = dst[i + 3u]; }
  return r;
}

fn residual_row(i: u32, seg: u32) -> Row {
  var r = Row();
  r.v0 = residual[i];
  if (in_row(seg, 1u)) { r.v1 = residual[i + 1u]; }
  if (in_row(seg, 2u)) { r.v2 = residual[i + 2u]; }
  if (in_row(seg, 3u)) { r.v3 = residual[i + 3u]; }
  return r;
}

fn store_row(i: u32, seg: u32, r: Row) {
  dst[i] = r.v0;
  if (in_row(seg, 1u)) { dst[i + 1u] = r.v1; }
  if (in_row(seg, 2u)) { dst[i + 2u] = r.v2; }
  if (in_row(seg, 3u)) { dst[i + 3u] = r.v3; }
}

/** Output channels of tile p.tile that exist (the packed weights are zero-padded to COUTP). */
fn tile_channels(p: Place) -> u32 {
  return min(TN, COUT - p.tile * TN);
}

/** Output rows of p that exist (H need not be a multiple of RH). */
fn tile_rows(p: Place) -> u32 {
  return min(RH, H - p.h);
}

fn row_tile(t: Tiles, r: u32) -> Tile {
  if (r == 0u) { return t.r0; }
  return t.r1;
}

const INVOCATIONS = COUTP / TN * N * ROW_BLOCKS * SEGS;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= INVOCATIONS) { return; }
  let p = place(id);
  let t = conv_tiles(p);
  for (var r = 0u; r < tile_rows(p); r++) {
    for (var j = 0u; j < tile_channels(p); j++) {
      let co = p.tile * TN + j;
      store_row(dst_index(p, r, co), p.seg, add_scalar(tile_row(row_tile(t, r), j), bias[co]));
    }
  }
}

@compute @workgroup_size(64)
fn forward_residual(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= INVOCATIONS) { return; }
  let p = place(id);
  let t = conv_tiles(p);
  for (var r = 0u; r < tile_rows(p); r++) {
    for (var j = 0u; j < tile_channels(p); j++) {
      let co = p.tile * TN + j;
      let i = dst_index(p, r, co);
      let y = add_scalar(tile_row(row_tile(t, r), j), bias[co]);
      store_row(i, p.seg, add_rows(y, residual_row(i, p.seg)));
    }
  }
}

@compute @workgroup_size(64)
fn input_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= INVOCATIONS) { return; }
  let p = place(id);
  let t = conv_tiles(p);
  for (var r = 0u; r < tile_rows(p); r++) {
    for (var j = 0u; j < tile_channels(p); j++) {
      let i = dst_index(p, r, p.tile * TN + j);
      var y = tile_row(row_tile(t, r), j);
      if (ACCUM) { y = add_rows(y, dst_row(i, p.seg)); }
      store_row(i, p.seg, y);
    }
  }
}

// pack_out[ci][tap][co] = weight[co][ci][tap], or weight[ci][co][K·K − 1 − tap] when FLIP
// (then CIN is the layer's output and COUT its input channel count); zero for co ≥ COUT.
@compute @workgroup_size(64)
fn pack_weights(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= CIN * KK * COUTP) { return; }
  let co = id % COUTP;
  let tap = id / COUTP % KK;
  let ci = id / (COUTP * KK);
  var v = 0.0;
  if (co < COUT) {
    if (FLIP) {
      v = weight[(ci * COUT + co) * KK + KK - 1u - tap];
    } else {
      v = weight[(co * CIN + ci) * KK + tap];
    }
  }
  pack_out[id] = v;
}

// ---- weight_grad, weight_grad_reduce ----

/** Σ over the row segment of d · x, still as 4 lanes. */
fn dot_row(d: Row, x: Row) -> vec4f {
  var s = d.v0 * x.v0;
  if (SV > 1) { s += d.v1 * x.v1; }
  if (SV > 2) { s += d.v2 * x.v2; }
  if (SV > 3) { s += d.v3 * x.v3; }
  return s;
}

fn row_sum(d: Row) -> vec4f {
  var s = d.v0;
  if (SV > 1) { s += d.v1; }
  if (SV > 2) { s += d.v2; }
  if (SV > 3) { s += d.v3; }
  return s;
}

/** Partial sums of one (output, input) channel pair for the taps kx = 0, 1, 2 of one row ky. */
struct Pair {
  l: vec4f,
  c: vec4f,
  r: vec4f,
}

/** The pairs of one input channel with the TCO output channels of a tile. */
struct Pairs {
  o0: Pair,
  o1: Pair,
  o2: Pair,
  o3: Pair,
}

/** The grad_out rows of the TCO output channels of a tile. */
struct DyRows {
  d0: Row,
  d1: Row,
  d2: Row,
  d3: Row,
}

fn acc_pair(a: Pair, d: Row, x: Taps) -> Pair {
  if (K == 3) {
    return Pair(a.l + dot_row(d, x.l), a.c + dot_row(d, x.c), a.r + dot_row(d, x.r));
  }
  return Pair(a.l, a.c + dot_row(d, x.c), a.r);
}

// One x row (all its taps) meets every dy row of the tile right after it is loaded.
fn acc_pairs(a: Pairs, d: DyRows, x: Taps) -> Pairs {
  var o = a;
  o.o0 = acc_pair(a.o0, d.d0, x);
  if (TCO > 1) { o.o1 = acc_pair(a.o1, d.d1, x); }
  if (TCO > 2) {
    o.o2 = acc_pair(a.o2, d.d2, x);
    o.o3 = acc_pair(a.o3, d.d3, x);
  }
  return o;
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

/** Writes split s's sums of pair (co, ci), kernel row ky, if the pair exists. */
fn store_pair(a: Pair, s: u32, co: u32, ci: u32, ky: u32) {
  if (co >= COUT || ci >= CIN) { return; }
  let i = s * DWP + ((co * CIN + ci) * K + ky) * K;
  if (K == 3) {
    partial[i] = hsum(a.l);
    partial[i + 1u] = hsum(a.c);
    partial[i + 2u] = hsum(a.r);
  } else {
    partial[i] = hsum(a.c);
  }
}

fn store_pairs(a: Pairs, s: u32, co: u32, ci: u32, ky: u32) {
  store_pair(a.o0, s, co, ci, ky);
  if (TCO > 1) { store_pair(a.o1, s, co + 1u, ci, ky); }
  if (TCO > 2) {
    store_pair(a.o2, s, co + 2u, ci, ky);
    store_pair(a.o3, s, co + 3u, ci, ky);
  }
}

/** grad_out row segment (n, co, h, seg), zero for co ≥ COUT. */
fn dy_row(n: u32, co: u32, h: u32, seg: u32) -> Row {
  if (COUT % TCO != 0 && co >= COUT) { return Row(); }
  return grad_out_row(((n * COUT + co) * H + h) * VW, seg);
}

fn dy_rows(n: u32, co: u32, h: u32, seg: u32) -> DyRows {
  var d = DyRows();
  d.d0 = dy_row(n, co, h, seg);
  if (TCO > 1) { d.d1 = dy_row(n, co + 1u, h, seg); }
  if (TCO > 2) {
    d.d2 = dy_row(n, co + 2u, h, seg);
    d.d3 = dy_row(n, co + 3u, h, seg);
  }
  return d;
}

/** src (x) row segment (n, ci, iy, seg) with its shifts, zero for ci ≥ CIN. */
fn x_taps(n: u32, ci: u32, iy: u32, seg: u32) -> Taps {
  if (CIN % TCI != 0 && ci >= CIN) { return Taps(); }
  if (K == 1) { return Taps(Row(), src_row(((n * CIN + ci) * H + iy) * VW, seg), Row()); }
  return src_taps(((n * CIN + ci) * H + iy) * VW, seg);
}

// Invocation (s, ky, co tile, ci tile): the ci tile varies fastest, so neighbours share dy rows.
@compute @workgroup_size(64)
fn weight_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= S * K * CO_TILES * CI_TILES) { return; }
  let ci = id % CI_TILES * TCI;
  let co = id / CI_TILES % CO_TILES * TCO;
  let ky = id / (CI_TILES * CO_TILES) % K;
  let s = id / (CI_TILES * CO_TILES * K);
  // Split s sums row segment s % SEGS of the samples n ≡ s / SEGS (mod S / SEGS).
  let seg = s % SEGS;
  let first = s / SEGS;
  var a0 = Pairs();
  var a1 = Pairs();
  var a2 = Pairs();
  var a3 = Pairs();
  var dsum = Row(); // Σ dy per output channel, for db
  // The dy rows h whose input row iy = h + ky − PAD exists.
  let h0 = select(0u, PAD - ky, ky < PAD);
  let h1 = select(H, H + PAD - ky, ky > PAD);
  for (var n = first; n < N; n += S / SEGS) {
    for (var h = h0; h < h1; h++) {
      let iy = h + ky - PAD;
      let d = dy_rows(n, co, h, seg);
      a0 = acc_pairs(a0, d, x_taps(n, ci, iy, seg));
      if (TCI > 1) { a1 = acc_pairs(a1, d, x_taps(n, ci + 1u, iy, seg)); }
      if (TCI > 2) {
        a2 = acc_pairs(a2, d, x_taps(n, ci + 2u, iy, seg));
        a3 = acc_pairs(a3, d, x_taps(n, ci + 3u, iy, seg));
      }
      // Only the centre row (ky = PAD) visits every dy row: its sums give db.
      dsum = add_rows(dsum, Row(row_sum(d.d0), row_sum(d.d1), row_sum(d.d2), row_sum(d.d3)));
    }
  }
  store_pairs(a0, s, co, ci, ky);
  if (TCI > 1) { store_pairs(a1, s, co, ci + 1u, ky); }
  if (TCI > 2) {
    store_pairs(a2, s, co, ci + 2u, ky);
    store_pairs(a3, s, co, ci + 3u, ky);
  }
  if (ky == PAD && ci == 0u) {
    let i = S * DWP + s * DBP + co;
    partial[i] = hsum(dsum.v0);
    if (TCO > 1 && co + 1u < COUT) { partial[i + 1u] = hsum(dsum.v1); }
    if (TCO > 2 && co + 2u < COUT) { partial[i + 2u] = hsum(dsum.v2); }
    if (TCO > 2 && co + 3u < COUT) { partial[i + 3u] = hsum(dsum.v3); }
  }
}

@compute @workgroup_size(64)
fn weight_grad_reduce(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id < DWP / 4) {
    var v = partial4[id];
    for (var s = 1u; s < S; s++) { v += partial4[s * DWP / 4 + id]; }
    dw[id] = v;
  } else if (id < (DWP + DBP) / 4) {
    let j = id - DWP / 4;
    var v = partial4[S * DWP / 4 + j];
    for (var s = 1u; s < S; s++) { v += partial4[(S * DWP + s * DBP) / 4 + j]; }
    db[j] = v;
  }
}

// ---- experimental: weight_grad3 (K = 3), all 9 taps per pair as 3 vec3 over kx ----

struct PairK {
  k0: vec3f,
  k1: vec3f,
  k2: vec3f,
}

struct PairsK {
  o0: PairK,
  o1: PairK,
  o2: PairK,
  o3: PairK,
}

fn corr4(a: vec3f, d: vec4f, l: vec4f, c: vec4f, r: vec4f) -> vec3f {
  var s = a;
  s += d.x * vec3(l.x, c.x, r.x);
  s += d.y * vec3(l.y, c.y, r.y);
  s += d.z * vec3(l.z, c.z, r.z);
  s += d.w * vec3(l.w, c.w, r.w);
  return s;
}

/** a + Σ_w d[w] · (x[w − 1], x[w], x[w + 1]). */
fn corr_row(a: vec3f, d: Row, x: Taps) -> vec3f {
  var s = corr4(a, d.v0, x.l.v0, x.c.v0, x.r.v0);
  if (SV > 1) { s = corr4(s, d.v1, x.l.v1, x.c.v1, x.r.v1); }
  if (SV > 2) { s = corr4(s, d.v2, x.l.v2, x.c.v2, x.r.v2); }
  if (SV > 3) { s = corr4(s, d.v3, x.l.v3, x.c.v3, x.r.v3); }
  return s;
}

// x row iy meets dy rows iy + 1 (ky = 0), iy (ky = 1), iy − 1 (ky = 2).
fn corr_pair(a: PairK, dn: Row, dc: Row, dp: Row, x: Taps) -> PairK {
  return PairK(corr_row(a.k0, dn, x), corr_row(a.k1, dc, x), corr_row(a.k2, dp, x));
}

fn corr_pairs(a: PairsK, dn: DyRows, dc: DyRows, dp: DyRows, x: Taps) -> PairsK {
  var o = a;
  o.o0 = corr_pair(a.o0, dn.d0, dc.d0, dp.d0, x);
  if (TCO > 1) { o.o1 = corr_pair(a.o1, dn.d1, dc.d1, dp.d1, x); }
  if (TCO > 2) {
    o.o2 = corr_pair(a.o2, dn.d2, dc.d2, dp.d2, x);
    o.o3 = corr_pair(a.o3, dn.d3, dc.d3, dp.d3, x);
  }
  return o;
}

fn store_pair_k(a: PairK, s: u32, co: u32, ci: u32) {
  if (co >= COUT || ci >= CIN) { return; }
  let i = s * DWP + (co * CIN + ci) * 9u;
  partial[i] = a.k0.x;
  partial[i + 1u] = a.k0.y;
  partial[i + 2u] = a.k0.z;
  partial[i + 3u] = a.k1.x;
  partial[i + 4u] = a.k1.y;
  partial[i + 5u] = a.k1.z;
  partial[i + 6u] = a.k2.x;
  partial[i + 7u] = a.k2.y;
  partial[i + 8u] = a.k2.z;
}

fn store_pairs_k(a: PairsK, s: u32, co: u32, ci: u32) {
  store_pair_k(a.o0, s, co, ci);
  if (TCO > 1) { store_pair_k(a.o1, s, co + 1u, ci); }
  if (TCO > 2) {
    store_pair_k(a.o2, s, co + 2u, ci);
    store_pair_k(a.o3, s, co + 3u, ci);
  }
}

@compute @workgroup_size(64)
fn weight_grad3(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= S * CO_TILES * CI_TILES) { return; }
  let ci = id % CI_TILES * TCI;
  let co = id / CI_TILES % CO_TILES * TCO;
  let s = id / (CI_TILES * CO_TILES);
  let seg = s % SEGS;
  let first = s / SEGS;
  var a0 = PairsK();
  var a1 = PairsK();
  var a2 = PairsK();
  var a3 = PairsK();
  var dsum = Row();
  for (var n = first; n < N; n += S / SEGS) {
    // Rolling window of dy rows: previous (iy − 1), current (iy), next (iy + 1).
    var dp = DyRows();
    var dc = dy_rows(n, co, 0u, seg);
    for (var iy = 0u; iy < H; iy++) {
      var dn = DyRows();
      if (iy + 1u < H) { dn = dy_rows(n, co, iy + 1u, seg); }
      a0 = corr_pairs(a0, dn, dc, dp, x_taps(n, ci, iy, seg));
      if (TCI > 1) { a1 = corr_pairs(a1, dn, dc, dp, x_taps(n, ci + 1u, iy, seg)); }
      if (TCI > 2) {
        a2 = corr_pairs(a2, dn, dc, dp, x_taps(n, ci + 2u, iy, seg));
        a3 = corr_pairs(a3, dn, dc, dp, x_taps(n, ci + 3u, iy, seg));
      }
      dsum = add_rows(dsum, Row(row_sum(dc.d0), row_sum(dc.d1), row_sum(dc.d2), row_sum(dc.d3)));
      dp = dc;
      dc = dn;
    }
  }
  store_pairs_k(a0, s, co, ci);
  if (TCI > 1) { store_pairs_k(a1, s, co, ci + 1u); }
  if (TCI > 2) {
    store_pairs_k(a2, s, co, ci + 2u);
    store_pairs_k(a3, s, co, ci + 3u);
  }
  if (ci == 0u) {
    let i = S * DWP + s * DBP + co;
    partial[i] = hsum(dsum.v0);
    if (TCO > 1 && co + 1u < COUT) { partial[i + 1u] = hsum(dsum.v1); }
    if (TCO > 2 && co + 2u < COUT) { partial[i + 2u] = hsum(dsum.v2); }
    if (TCO > 2 && co + 3u < COUT) { partial[i + 3u] = hsum(dsum.v3); }
  }
}
