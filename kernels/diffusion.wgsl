// Guided sampling: the initial noise and the reverse (sampling) step.
// (kernels/random.wgsl is prepended: pcg, uniform01, gaussian, flat_index.)
//
// init_noise   (N·CHW threads) x[r] = z for rows r < N, copied into rows N…2N−1 when CFG
//   @binding(0) uniform StepParams (seed used), @binding(2) x f32 [R, CHW]
//
// sample_step  (N·CHW threads)
//   @binding(0) uniform StepParams { seed, step, sqrt_ab, sqrt_1mab, coef_x0, coef_x, sigma, guidance }
//   @binding(1) eps  f32 [R, CHW]   model output; with CFG rows 0…N−1 conditional, N…2N−1 unconditional
//   @binding(2) x    f32 [R, CHW]   current sample, updated in place (both halves with CFG)
//   @binding(3) x0   f32 [N, CHW]   the clamped prediction of the clean image (the preview)
//   consts: N, CHW, CFG (bool: R = 2N)

struct StepParams {
  seed: u32, step: u32, sqrt_ab: f32, sqrt_1mab: f32,
  coef_x0: f32, coef_x: f32, sigma: f32, guidance: f32,
}

@group(0) @binding(0) var<uniform> stepp: StepParams;
@group(0) @binding(1) var<storage, read> eps_model: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> x0_out: array<f32>;

// The initial noise draws from step 0xffffffff, a step number sampling never reaches.
@compute @workgroup_size(64)
fn init_noise(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  let z = gaussian(stepp.seed, 0xffffffffu, i);
  x[i] = z;
  if (CFG) { x[N * CHW + i] = z; }
}

@compute @workgroup_size(64)
fn sample_step(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  var eps = eps_model[i];
  if (CFG) {
    let uncond = eps_model[N * CHW + i];
    eps = uncond + stepp.guidance * (eps - uncond);
  }
  let xi = x[i];
  let x0 = clamp((xi - stepp.sqrt_1mab * eps) / stepp.sqrt_ab, -1.0, 1.0);
  var next = stepp.coef_x0 * x0 + stepp.coef_x * xi;
  if (stepp.sigma > 0.0) { next += stepp.sigma * gaussian(stepp.seed, stepp.step, i); }
  x[i] = next;
  if (CFG) { x[N * CHW + i] = next; }
  x0_out[i] = x0;
}
