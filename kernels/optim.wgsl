// Optimiser step over the flat parameter buffers (see lib/nn/optim.ts):
// global-norm gradient clipping, AdamW (PyTorch semantics) and the EMA, in three passes.
//
// Bindings (group 0; each entry point uses a subset, the others are left unbound):
//   0 param     [NV] vec4  read_write   parameters, updated in place
//   1 grad      [NV] vec4  read         gradients (never modified: clipping scales them on the fly)
//   2 mom1      [NV] vec4  read_write   AdamW first moment
//   3 mom2      [NV] vec4  read_write   AdamW second moment
//   4 ema       [NV] vec4  read_write   EMA of the parameters
//   5 partials  [PARTIALS] vec4  read_write   per-invocation sums of g² (scratch)
//   6 stats     [4] f32    read_write   [0] = ‖g‖ before clipping, [1] = clip coefficient
//   7 hyper     uniform    per-step values, computed on the CPU in f64
// Constants: NV (vec4s per buffer), PARTIALS (invocations of the first pass, a multiple of 64),
//   BETA1, BETA2, EPS, MAX_NORM (0 = no clipping), EMA_DECAY (0 = no EMA update).
// Entry points, dispatched in this order:
//   sumsq_partial  PARTIALS / 64 workgroups: partials[i] = Σ g² over vec4s i, i + PARTIALS, …
//   sumsq_final    1 workgroup: stats = [‖g‖, min(1, MAX_NORM / (‖g‖ + 1e-6))]
//   adamw          ceil(NV / 64) workgroups, split over x and y beyond the per-dimension limit
// Every sum runs in a fixed order, so the norm is the same bit for bit on every replay.

struct Hyper {
  step_size: f32, // lr / (1 − β1^t)
  decay: f32, // 1 − lr · weight_decay
  bc2_sqrt: f32, // sqrt(1 − β2^t)
  pad: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<vec4f>;
@group(0) @binding(1) var<storage, read> grad: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> mom1: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> mom2: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> ema: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> partials: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<uniform> hyper: Hyper;

// Grid-stride loop: neighbouring invocations read neighbouring vec4s (coalesced on GPUs).
// The four lanes stay separate until the final pass, which keeps the f32 sums short.
@compute @workgroup_size(64)
fn sumsq_partial(@builtin(global_invocation_id) id: vec3u) {
  let i = id.x;
  var acc = vec4f(0.0);
  for (var j = i; j < NV; j += PARTIALS) {
    let g = grad[j];
    acc = fma(g, g, acc);
  }
  partials[i] = acc;
}

var<workgroup> lane_sums: array<vec4f, 64>;

// One workgroup: each invocation sums a fixed strided subset, then invocation 0 adds the
// 64 results in order. A single barrier; this pass is tiny next to the other two.
@compute @workgroup_size(64)
fn sumsq_final(@builtin(local_invocation_index) lid: u32) {
  var acc = vec4f(0.0);
  for (var j = lid; j < PARTIALS; j += 64u) {
    acc += partials[j];
  }
  lane_sums[lid] = acc;
  workgroupBarrier();
  if (lid != 0u) {
    return;
  }
  var total = vec4f(0.0);
  for (var j = 0u; j < 64u; j++) {
    total += lane_sums[j];
  }
  let norm = sqrt((total.x + total.y) + (total.z + total.w));
  stats[0] = norm;
  // torch.nn.utils.clip_grad_norm_: coef = max_norm / (norm + 1e-6), clamped to at most 1.
  stats[1] = select(1.0, min(1.0, MAX_NORM / (norm + 1e-6)), MAX_NORM > 0.0);
}

// torch.optim.AdamW (single-tensor, non-amsgrad) followed by the EMA, fused so that the
// parameters are read and written once.
@compute @workgroup_size(64)
fn adamw(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = id.x + id.y * nwg.x * 64u;
  if (i >= NV) {
    return;
  }
  let g = grad[i] * stats[1];
  let m = BETA1 * mom1[i] + (1.0 - BETA1) * g;
  let v = BETA2 * mom2[i] + (1.0 - BETA2) * g * g;
  mom1[i] = m;
  mom2[i] = v;
  let denom = sqrt(v) / hyper.bc2_sqrt + EPS;
  let p = param[i] * hyper.decay - hyper.step_size * (m / denom);
  param[i] = p;
  if (EMA_DECAY > 0.0) {
    let e = ema[i];
    ema[i] = e - (1.0 - EMA_DECAY) * (e - p);
  }
}
