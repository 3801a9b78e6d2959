// Sampling from a known image: the noised start of img2img and the kept region of inpainting.
// (kernels/random.wgsl is prepended: pcg, uniform01, gaussian, flat_index.)
//
// noised_start (N·CHW threads) x = a·known + b·z, z the initial noise of init_noise (step
//   0xffffffff), so strength 1 and ordinary sampling draw the same z
// keep_known   (N·CHW threads) where mask < 0.5: x = keep_a·known + keep_b·z(keep_step); the
//   rest of x is left as it is
// renoise      (N·CHW threads) x = jump_a·x + jump_b·z(jump_step): one forward jump (resampling)
// Each writes rows N…2N−1 too when CFG (both halves of the model's input stay equal).
//
//   @binding(0) uniform KnownParams { seed, keep_step, keep_a, keep_b, jump_step, jump_a, jump_b }
//               (noised_start reads keep_a, keep_b)
//   @binding(1) known f32 [CHW]     the init image in [−1, 1], shared by every sprite
//   @binding(2) x     f32 [R, CHW]  the sampler's state, updated in place
//   @binding(3) mask  f32 [HW]      1 = generate, 0 = keep (every channel alike)
//   consts: N, CHW, HW, CFG (bool: R = 2N)

struct KnownParams {
  seed: u32, keep_step: u32, keep_a: f32, keep_b: f32,
  jump_step: u32, jump_a: f32, jump_b: f32, unused: f32,
}

@group(0) @binding(0) var<uniform> kp: KnownParams;
@group(0) @binding(1) var<storage, read> known: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;

fn set_x(i: u32, v: f32) {
  x[i] = v;
  if (CFG) { x[N * CHW + i] = v; }
}

@compute @workgroup_size(64)
fn noised_start(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  set_x(i, kp.keep_a * known[i % CHW] + kp.keep_b * gaussian(kp.seed, 0xffffffffu, i));
}

@compute @workgroup_size(64)
fn keep_known(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  if (mask[i % HW] >= 0.5) { return; }
  set_x(i, kp.keep_a * known[i % CHW] + kp.keep_b * gaussian(kp.seed, kp.keep_step, i));
}

@compute @workgroup_size(64)
fn renoise(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(id, nwg);
  if (i >= N * CHW) { return; }
  set_x(i, kp.jump_a * x[i] + kp.jump_b * gaussian(kp.seed, kp.jump_step, i));
}
