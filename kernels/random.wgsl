// Counter-based random numbers shared by the batch and sampling kernels (prepended to each).
//
// A draw is a PCG hash of (seed, step, stream, element), so a training batch or a sampling
// step is a pure function of those: runs reproduce bit for bit, and a resumed training run
// draws exactly what the uninterrupted one would have. Gaussians are Box–Muller on two
// hashed uniforms (streams 0 and 1), computed to f32 precision on every adapter.
//
// No bindings; flat_index assumes 1-D workgroups of 64 spread over x and y.

fn pcg(v: u32) -> u32 {
  let s = v * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

// A uniform in (0, 1] from (seed, step, stream, index).
fn uniform01(seed: u32, step: u32, stream: u32, index: u32) -> f32 {
  let h = pcg(index ^ pcg(stream ^ pcg(step ^ pcg(seed))));
  return (f32(h >> 8u) + 1.0) / 16777216.0;
}

// cos(2π·u) to within f32 rounding. Not the built-in cos: WGSL allows it an absolute error
// of 2⁻¹¹ (and Chromium's software adapter uses that), which sampling amplifies up to 0.05 in
// the sprites, so one seed would draw different sprites on different adapters. Symmetry
// brings the angle to [0, π/2], where the Taylor series to x¹² is within 7e-9.
fn cos_2pi(u: f32) -> f32 {
  let r = abs(u - round(u)); // cos(2πu) = cos(2πr), r in [0, 1/2]
  let flip = r > 0.25; // cos(2πr) = −cos(2π(1/2 − r))
  let x = 6.283185307179586 * select(r, 0.5 - r, flip);
  let x2 = x * x;
  var c = 1.0 / 479001600.0;
  c = c * x2 - 1.0 / 3628800.0;
  c = c * x2 + 1.0 / 40320.0;
  c = c * x2 - 1.0 / 720.0;
  c = c * x2 + 1.0 / 24.0;
  c = c * x2 - 0.5;
  c = c * x2 + 1.0;
  return select(c, -c, flip);
}

fn gaussian(seed: u32, step: u32, index: u32) -> f32 {
  let u1 = uniform01(seed, step, 0u, index);
  let u2 = uniform01(seed, step, 1u, index);
  return sqrt(-2.0 * log(u1)) * cos_2pi(u2);
}

fn flat_index(id: vec3u, nwg: vec3u) -> u32 {
  return id.x + id.y * nwg.x * 64u;
}
