// GroupNorm (PyTorch semantics: biased variance, eps 1e-5, affine) with fused extras:
//   y = act(GN(x)·γ + β + residual) + emb[n, c]      act = SiLU when SILU, else identity
// See lib/nn/groupnorm.ts. Each invocation owns a whole group (forward) or row (backward) and
// reads it as vec4s: no workgroup memory or barriers (2× slower on llvmpipe), and the forward's
// statistics and normalisation fit in one dispatch. The backward runs one invocation per row
// (n, c) of HW pixels, for more parallelism in its three passes.
//
// Bindings (group 0; each entry point uses a subset). An absent optional tensor is bound to
// another tensor of the same access and never touched.
//   0 x         [N, C, HW]  read        input
//   1 gamma     [C]         read        γ
//   2 beta      [C]         read        β
//   3 residual  [N, C, HW]  read        added before the activation (when HAS_RES)
//   4 emb       [N, C]      read        added after the activation (when HAS_EMB)
//   5 dy        [N, C, HW]  read        gradient of y
//   6 stats     [N, G] vec2 read_write  (mean, rstd) per group: written forward, read backward
//   7 partials  [N, C] vec2 read_write  per-row sums Σ du, Σ du·x̂
//   8 y         [N, C, HW]  read_write  forward output
//   9 dx        [N, C, HW]  read_write  dx = (ACCUM_DX ? dx : 0) + ∂L/∂x
//  10 dres      [N, C, HW]  read_write  (ACCUM_DRES ? dres : 0) + ∂L/∂residual (when HAS_RES)
//  11 demb      [N, C]      read_write  Σ_hw dy (when HAS_EMB)
//  12 dgamma    [C]         read_write  Σ_n,hw du·x̂ (overwritten)
//  13 dbeta     [C]         read_write  Σ_n,hw du (overwritten)
//  14 gsums     [N, G] vec2 read_write  per group: mean of dx̂ and of dx̂·x̂, where dx̂ = du·γ
// Constants: N, C, G (groups), CPG (channels per group), HW (pixels per channel, a multiple of 4),
//   SILU, HAS_RES, HAS_EMB, ACCUM_DX, ACCUM_DRES (booleans).
// Entry points (invocations; 64 per workgroup, the index may be split over x and y):
//   forward:  forward (N·G)
//   backward: grad_rows (N·C) → grad_reduce (C + N·G) → grad_input (N·C)
// All sums run in a fixed order, so results are the same bit for bit on every replay.

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<vec4f>;
@group(0) @binding(4) var<storage, read> emb: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> stats: array<vec2f>;
@group(0) @binding(7) var<storage, read_write> partials: array<vec2f>;
@group(0) @binding(8) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(9) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(10) var<storage, read_write> dres: array<vec4f>;
@group(0) @binding(11) var<storage, read_write> demb: array<f32>;
@group(0) @binding(12) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(13) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(14) var<storage, read_write> gsums: array<vec2f>;

const HW4 = HW / 4;
const ROWS = N * C;
const EPS = 1e-5;
// With a SiLU and a residual, ∂L/∂residual = du: grad_rows stores it in dres when dres is
// overwritten, and grad_input reads it back instead of recomputing it from x, dy and residual.
const DU_IN_DRES = SILU && HAS_RES && !ACCUM_DRES;

fn invocation(id: vec3u, nwg: vec3u) -> u32 {
  return id.x + id.y * nwg.x * 64u;
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

fn sigmoid(u: vec4f) -> vec4f {
  return 1.0 / (1.0 + exp(-u));
}

// One invocation per group (n, g): mean and variance in one read of the group, then normalise
// in a second. Sums are taken around the group's first value, which keeps Σ x² − (Σ x)²/n free
// of cancellation when the mean is large against the spread.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let group = invocation(id, nwg);
  if (group >= N * G) { return; }
  let base = group * CPG * HW4;
  let shift = x[base].x;
  var s1 = vec4f(0.0);
  var s2 = vec4f(0.0);
  for (var i = 0u; i < CPG * HW4; i++) {
    let d = x[base + i] - shift;
    s1 += d;
    s2 = fma(d, d, s2);
  }
  let count = f32(CPG * HW);
  let t1 = hsum(s1);
  let mean = shift + t1 / count;
  let variance = max(hsum(s2) - t1 * t1 / count, 0.0) / count;
  let rstd = inverseSqrt(variance + EPS);
  stats[group] = vec2f(mean, rstd);
  for (var k = 0u; k < CPG; k++) {
    let row = group * CPG + k;
    let c = row % C;
    // GN(x)·γ + β = x·scale + offset
    let scale = rstd * gamma[c];
    let offset = beta[c] - mean * scale;
    var after = 0.0;
    if (HAS_EMB) { after = emb[row]; }
    let row_base = row * HW4;
    for (var i = 0u; i < HW4; i++) {
      let j = row_base + i;
      var u = fma(x[j], vec4f(scale), vec4f(offset));
      if (HAS_RES) { u += residual[j]; }
      if (SILU) { u *= sigmoid(u); }
      y[j] = u + after;
    }
  }
}

// ∂L/∂u for the pre-activation u = x̂·γ + β (+ residual[j]) given ∂L/∂y = grad.
fn grad_pre_activation(grad: vec4f, j: u32, xhat: vec4f, g: f32, b: f32) -> vec4f {
  if (!SILU) { return grad; }
  var u = fma(xhat, vec4f(g), vec4f(b));
  if (HAS_RES) { u += residual[j]; }
  let s = sigmoid(u);
  return grad * s * fma(u, 1.0 - s, vec4f(1.0));
}

// Per row: Σ du and Σ du·x̂ (for dγ, dβ and the group means of dx), and demb = Σ dy.
@compute @workgroup_size(64)
fn grad_rows(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = invocation(id, nwg);
  if (row >= ROWS) { return; }
  let c = row % C;
  let st = stats[row / CPG];
  let g = gamma[c];
  let b = beta[c];
  let base = row * HW4;
  var sum_du = vec4f(0.0);
  var sum_du_xhat = vec4f(0.0);
  var sum_dy = vec4f(0.0);
  for (var i = 0u; i < HW4; i++) {
    let j = base + i;
    let grad = dy[j];
    let xhat = fma(x[j], vec4f(st.y), vec4f(-st.x * st.y));
    let du = grad_pre_activation(grad, j, xhat, g, b);
    if (DU_IN_DRES) { dres[j] = du; }
    sum_du += du;
    sum_du_xhat = fma(du, xhat, sum_du_xhat);
    sum_dy += grad;
  }
  partials[row] = vec2f(hsum(sum_du), hsum(sum_du_xhat));
  if (HAS_EMB) { demb[row] = hsum(sum_dy); }
}

// Invocations [0, C): dγ and dβ, reduced over the batch. Invocations [C, C + N·G): the group
// means of dx̂ = du·γ and of dx̂·x̂ that dx needs.
@compute @workgroup_size(64)
fn grad_reduce(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = invocation(id, nwg);
  if (i < C) {
    var sum_du = 0.0;
    var sum_du_xhat = 0.0;
    for (var n = 0u; n < N; n++) {
      let p = partials[n * C + i];
      sum_du += p.x;
      sum_du_xhat += p.y;
    }
    dgamma[i] = sum_du_xhat;
    dbeta[i] = sum_du;
    return;
  }
  let group = i - C;
  if (group >= N * G) { return; }
  let first = group * CPG;
  let c0 = (group % G) * CPG;
  var s = vec2f(0.0);
  for (var k = 0u; k < CPG; k++) {
    s = fma(partials[first + k], vec2f(gamma[c0 + k]), s);
  }
  gsums[group] = s / f32(CPG * HW);
}

// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dresidual = du.
@compute @workgroup_size(64)
fn grad_input(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = invocation(id, nwg);
  if (row >= ROWS) { return; }
  let c = row % C;
  let st = stats[row / CPG];
  let means = gsums[row / CPG];
  let g = gamma[c];
  let b = beta[c];
  let base = row * HW4;
  for (var i = 0u; i < HW4; i++) {
    let j = base + i;
    let xhat = fma(x[j], vec4f(st.y), vec4f(-st.x * st.y));
    var du: vec4f;
    if (DU_IN_DRES) {
      du = dres[j];
    } else {
      du = grad_pre_activation(dy[j], j, xhat, g, b);
    }
    var grad_x = st.y * (fma(du, vec4f(g), vec4f(-means.x)) - xhat * means.y);
    if (ACCUM_DX) { grad_x += dx[j]; }
    dx[j] = grad_x;
    if (HAS_RES && !DU_IN_DRES) {
      var grad_res = du;
      if (ACCUM_DRES) { grad_res += dres[j]; }
      dres[j] = grad_res;
    }
  }
}
