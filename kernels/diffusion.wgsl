// Guided sampling: the initial noise and the reverse (sampling) step.
// (kernels/random.wgsl is prepended: pcg, uniform01, gaussian, flat_index.)
//
// init_noise   (N·CHW threads) x[r] = z for rows r < N, copied into rows N…2N−1 when CFG
//   @binding(0) uniform StepParams (seed used), @binding(2) x f32 [R, CHW]
//
// sample_step  (N·CHW threads, one per element): x0 clamped to [−1, 1]
// sample_step_threshold  (N threads, one per sprite): x0 dynamically thresholded (Imagen):
//   s = max(1, the `percentile` quantile of |x0| over the sprite), x0 ← clamp(x0, −s, s) / s
//   @binding(0) uniform StepParams
//   @binding(1) eps     f32 [R, CHW]  model output; with CFG rows 0…N−1 conditional, N…2N−1 unconditional
//   @binding(2) x       f32 [R, CHW]  current sample, updated in place (both halves with CFG)
//   @binding(3) x0      f32 [N, CHW]  in: the previous step's x0 (DPM-Solver++); out: this step's (the preview)
//   @binding(4) x0_raw  f32 [N, CHW]  scratch of sample_step_threshold: x0 before thresholding
//   consts: N, CHW, CFG (bool: R = 2N)
//
// The update: x' = coef_x0·x0 + coef_x·x + coef_prev·x0_prev + sigma·z. With CFG, `guided` = 0 takes
// the conditional prediction alone (a step outside the guidance interval), else ε_u + w·(ε_c − ε_u).

struct StepParams {
  seed: u32, step: u32, sqrt_ab: f32, sqrt_1mab: f32,
  coef_x0: f32, coef_x: f32, coef_prev: f32, sigma: f32,
  guidance: f32, guided: u32, percentile: f32, _pad: u32,
}

@group(0) @binding(0) var<uniform> stepp: StepParams;
@group(0) @binding(1) var<storage, read> eps_model: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> x0_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> x0_raw: array<f32>;

// The initial noise draws from step 0xffffffff, a step number sampling never reaches.
@compute @workgroup_size(64)
fn init_noise(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  let z = gaussian(stepp.seed, 0xffffffffu, i);
  x[i] = z;
  if (CFG) { x[N * CHW + i] = z; }
}

// The unclamped prediction of the clean image at element i, from the (guided) ε.
fn predicted_x0(i: u32) -> f32 {
  var eps = eps_model[i];
  if (CFG && stepp.guided != 0u) {
    let uncond = eps_model[N * CHW + i];
    eps = uncond + stepp.guidance * (eps - uncond);
  }
  return (x[i] - stepp.sqrt_1mab * eps) / stepp.sqrt_ab;
}

// Takes the step at element i from its (thresholded) x0 and keeps x0 for the next step.
fn update(i: u32, x0: f32) {
  let xi = x[i];
  var next = stepp.coef_x0 * x0 + stepp.coef_x * xi;
  if (stepp.coef_prev != 0.0) { next += stepp.coef_prev * x0_out[i]; }
  if (stepp.sigma > 0.0) { next += stepp.sigma * gaussian(stepp.seed, stepp.step, i); }
  x[i] = next;
  if (CFG) { x[N * CHW + i] = next; }
  x0_out[i] = x0;
}

@compute @workgroup_size(64)
fn sample_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  update(i, clamp(predicted_x0(i), -1.0, 1.0));
}

// How many of the sprite's |x0_raw| (from `row`) have bits ≤ v (non-negative floats order as u32).
fn count_at_most(row: u32, v: u32) -> u32 {
  var count = 0u;
  for (var j = 0u; j < CHW; j++) {
    count += select(0u, 1u, bitcast<u32>(abs(x0_raw[row + j])) <= v);
  }
  return count;
}

// The smallest |x0_raw| of the sprite with bits above v (v itself when there is none).
fn next_above(row: u32, v: u32) -> u32 {
  var next = 0xffffffffu;
  for (var j = 0u; j < CHW; j++) {
    let b = bitcast<u32>(abs(x0_raw[row + j]));
    if (b > v) { next = min(next, b); }
  }
  return select(next, v, next == 0xffffffffu);
}

// One thread per sprite. llvmpipe ends a thread's loops after 65,535 iterations in all, so the
// loops here add up to about 34·CHW (CHW ≤ 1024, checked where the kernel is recorded): one
// bisection for the k-th order statistic, one pass for the next.
@compute @workgroup_size(64)
fn sample_step_threshold(@builtin(global_invocation_id) id: vec3u) {
  let r = id.x;
  if (r >= N) { return; }
  let row = r * CHW;
  for (var j = 0u; j < CHW; j++) { x0_raw[row + j] = predicted_x0(row + j); }
  // The quantile with linear interpolation between order statistics (numpy's default).
  let pos = stepp.percentile * f32(CHW - 1u);
  let k = min(u32(floor(pos)), CHW - 1u);
  var lo = 0u;
  var hi = 0x7f800000u; // +inf: every value is at most this
  while (lo < hi) {
    let mid = lo + (hi - lo) / 2u;
    if (count_at_most(row, mid) > k) { hi = mid; } else { lo = mid + 1u; }
  }
  // lo is the k-th smallest; the (k+1)-th equals it when it occurs more than once up to k.
  let above = select(next_above(row, lo), lo, count_at_most(row, lo) > k + 1u);
  let below = bitcast<f32>(lo);
  let s = max(1.0, below + (pos - f32(k)) * (bitcast<f32>(above) - below));
  for (var j = 0u; j < CHW; j++) { update(row + j, clamp(x0_raw[row + j], -s, s) / s); }
}
