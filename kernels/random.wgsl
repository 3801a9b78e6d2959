// Counter-based random numbers shared by the batch and sampling kernels (prepended to each).
//
// A draw is a PCG hash of (seed, step, stream, element), so a training batch or a sampling
// step is a pure function of those: runs reproduce bit for bit, and a resumed training run
// draws exactly what the uninterrupted one would have. Gaussians are Box–Muller on two
// hashed uniforms (streams 0 and 1).
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

fn gaussian(seed: u32, step: u32, index: u32) -> f32 {
  let u1 = uniform01(seed, step, 0u, index);
  let u2 = uniform01(seed, step, 1u, index);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

fn flat_index(id: vec3u, nwg: vec3u) -> u32 {
  return id.x + id.y * nwg.x * 64u;
}
