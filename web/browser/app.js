function kt(r=1e3,e=.008){let t=i=>Math.cos((i/r+e)/(1+e)*Math.PI/2)**2,n=t(0),o=new Float64Array(r);for(let i=0;i<r;i++){let c=1-t(i+1)/n/(t(i)/n);o[i]=Math.min(.999,Math.max(1e-4,c))}let s=new Float64Array(r),a=1;for(let i=0;i<r;i++)a*=1-o[i],s[i]=a;return{T:r,betas:o,alphaBar:s}}var Y=["ddpm","ddim","dpm++","dpm++sde"];function St(r,e){if(!Number.isInteger(e)||e<1||e>r)throw new RangeError(`steps must be 1\u2026${r}`);return e===1?[r-1]:Array.from({length:e},(t,n)=>Math.round(n*(r-1)/(e-1)))}function Ct(r,e){if(e.sampler==="dpm++"||e.sampler==="dpm++sde")return on(r,e.steps,e.sampler==="dpm++sde");let t=St(r.T,e.steps),n=e.eta??0,o=[];for(let s=t.length-1;s>=0;s--){let a=t[s],i=r.alphaBar[a],c=s>0?r.alphaBar[t[s-1]]:1,u={t:a,sqrtAlphaBar:Math.sqrt(i),sqrtOneMinusAlphaBar:Math.sqrt(1-i)};if(e.sampler==="ddpm"){let l=t.length===r.T?r.betas[a]:1-i/c,d=l*(1-c)/(1-i);o.push({...u,coefX0:l*Math.sqrt(c)/(1-i),coefX:(1-c)*Math.sqrt(1-l)/(1-i),coefPrevX0:0,sigma:s>0?Math.sqrt(d):0})}else{let l=s>0?n*Math.sqrt((1-c)/(1-i)*(1-i/c)):0,d=Math.sqrt(Math.max(0,1-c-l*l));o.push({...u,coefX0:Math.sqrt(c)-d*Math.sqrt(i)/Math.sqrt(1-i),coefX:d/Math.sqrt(1-i),coefPrevX0:0,sigma:l})}}return o}var Et=r=>({...r,coefX0:r.coefX0+r.coefPrevX0,coefPrevX0:0});function nn(r,e){return St(r,Math.min(r,e+1)).reverse().slice(0,e)}function on(r,e,t){let n=nn(r.T,e),o=i=>i<n.length?Math.sqrt(r.alphaBar[n[i]]):1,s=i=>i<n.length?Math.sqrt(1-r.alphaBar[n[i]]):0,a=i=>Math.log(o(i))-Math.log(s(i));return n.map((i,c)=>{let u={t:i,sqrtAlphaBar:o(c),sqrtOneMinusAlphaBar:s(c)};if(c===n.length-1)return{...u,coefX0:1,coefX:0,coefPrevX0:0,sigma:0};let l=a(c+1)-a(c),d=-Math.expm1(t?-2*l:-l),f=o(c+1)*d,w={...u,coefX:s(c+1)/s(c)*(t?Math.exp(-l):1),sigma:t?s(c+1)*Math.sqrt(d):0};if(c===0)return{...w,coefX0:f,coefPrevX0:0};let h=1/(2*((a(c)-a(c-1))/l));return{...w,coefX0:f*(1+h),coefPrevX0:-f*h}})}var Z={guidance:3,steps:10,sampler:"dpm++sde",eta:0,seed:0,guidanceInterval:void 0,scale:16,strength:.6};var D={guidance:{min:0,max:100},steps:{min:1,max:1e3,integer:!0},eta:{min:0,max:1},seed:{min:0,max:2**32-1,integer:!0},previewEvery:{min:0,max:1e3,integer:!0},scale:{min:1,max:64,integer:!0},strength:{min:0,max:1,exclusiveMin:!0},resample:{min:0,max:20,integer:!0},threshold:{min:0,max:100,exclusiveMin:!0},guidanceInterval:{min:0,max:1}},K=(r,e)=>Number.isFinite(r)&&(e.exclusiveMin?r>e.min:r>=e.min)&&r<=e.max&&(!e.integer||Number.isInteger(r)),$t=([r,e])=>K(r,D.guidanceInterval)&&K(e,D.guidanceInterval)&&r<e;function Nt(r,e,t,n,o=0){if(e!==3&&e!==4)throw new RangeError(`images have 3 or 4 channels, not ${e}`);let s=t*n,a=new Uint8Array(s*4);for(let i=0;i<s;i++)for(let c=0;c<4;c++){let u=c<e?r[o+c*s+i]:1;a[i*4+c]=Math.round((Math.min(1,Math.max(-1,u))+1)*127.5)}return{width:n,height:t,data:a}}function At(r){let e=r.data.slice();for(let t=3;t<e.length;t+=4)e[t]>=128?e[t]=255:e.fill(0,t-3,t+1);return{...r,data:e}}var He=(r,e=3,t=5)=>({in_ch:e,base_ch:r,channel_mults:[1,2,2],num_res_blocks:2,use_attention:[!1,!0,!0],num_classes:t}),Ro={reference:He(64),small:He(32),tiny:He(16)},ze=r=>[r.base_ch,...r.channel_mults.map(e=>e*r.base_ch)],Ge=r=>4*r.base_ch;function Fe(r){let e=r.channel_mults.length,t=[];if(r.in_ch!==3&&r.in_ch!==4&&t.push(`in_ch must be 3 (RGB) or 4 (RGBA), not ${r.in_ch}`),(!Number.isInteger(r.base_ch)||r.base_ch<8)&&t.push("base_ch must be an integer \u2265 8"),(e<1||16>>e-1<4)&&t.push("channel_mults needs 1\u20133 levels for 16\xD716 sprites"),r.use_attention.length!==e&&t.push(`use_attention needs one flag per level (${e})`),ze(r).some(n=>!Number.isInteger(n)||n%8!==0)&&t.push("every level's channel count must be a multiple of 8"),(!Number.isInteger(r.num_res_blocks)||r.num_res_blocks<1)&&t.push("num_res_blocks must be \u2265 1"),(!Number.isInteger(r.num_classes)||r.num_classes<1)&&t.push("num_classes must be \u2265 1"),t.length)throw new Error(`invalid model config: ${t.join("; ")}`)}function oe(r){let e=ze(r),t=r.channel_mults.length,n=[],o=e[0];for(let i=0;i<t;i++){let c=[];for(let u=0;u<r.num_res_blocks;u++)c.push({prefix:`downs.${i}.blocks.${u}`,inCh:o,outCh:e[i+1]}),o=e[i+1];n.push({blocks:c,attn:r.use_attention[i]?`downs.${i}.attn`:null,ch:o})}let s={block1:{prefix:"mid.block1",inCh:o,outCh:o},attn:"mid.attn",block2:{prefix:"mid.block2",inCh:o,outCh:o}},a=[];for(let i=t-1,c=0;i>=0;i--,c++){let u=e[i+1],l=[];for(let d=0;d<=r.num_res_blocks;d++)l.push({prefix:`ups.${c}.blocks.${d}`,inCh:d===0?o+u:e[i],outCh:e[i]}),o=e[i];a.push({blocks:l,attn:r.use_attention[i]?`ups.${c}.attn`:null,skipCh:u,ch:o})}return{downs:n,mid:s,ups:a}}function Rt(r){Fe(r);let e=Ge(r),t=[],n=(d,...f)=>t.push({name:d,shape:f}),o=(d,f,w)=>{n(`${d}.weight`,w,f),n(`${d}.bias`,w)},s=(d,f,w,h)=>{n(`${d}.weight`,w,f,h,h),n(`${d}.bias`,w)},a=(d,f)=>{n(`${d}.weight`,f),n(`${d}.bias`,f)},i=({prefix:d,inCh:f,outCh:w})=>{s(`${d}.conv1`,f,w,3),s(`${d}.conv2`,w,w,3),a(`${d}.norm1`,w),a(`${d}.norm2`,w),f!==w&&s(`${d}.skip`,f,w,1),o(`${d}.time_mlp.0`,e,w)},c=(d,f)=>{a(`${d}.norm`,f);for(let w of["q","k","v","proj_out"])n(`${d}.${w}.weight`,f,f,1),n(`${d}.${w}.bias`,f)},u=oe(r),l=ze(r);o("time_mlp.0",1,e),o("time_mlp.2",e,e),n("label_emb.weight",r.num_classes+1,e),s("init_conv",r.in_ch,l[0],3);for(let d of u.downs)d.blocks.forEach(i),d.attn&&c(d.attn,d.ch);i(u.mid.block1),c(u.mid.attn,u.mid.block1.outCh),i(u.mid.block2);for(let d of u.ups)d.blocks.forEach(i),d.attn&&c(d.attn,d.ch);return a("out_conv.0",l[0]),s("out_conv.2",l[0],r.in_ch,3),t}function sn(r){let e=oe(r),t=r.in_ch*16**2,n=16;return e.downs.forEach((o,s)=>{t=Math.max(t,o.ch*n**2),o.attn&&(t=Math.max(t,n**4)),s<e.downs.length-1&&(n/=2)}),e.ups.forEach((o,s)=>{s>0&&(n*=2),t=Math.max(t,o.blocks[0].inCh*n**2),o.attn&&(t=Math.max(t,n**4))}),t*4}var It=(r,e)=>Math.floor(e/sn(r));var I=(r,e=64)=>Math.ceil(r/e)*e,O=r=>r.reduce((e,t)=>e*t,1),j=r=>O(r.shape);function Ot(r){return{buffer:r.buffer,offset:r.offset*4,size:I(j(r),4)*4}}var Ke=GPUBufferUsage.STORAGE|GPUBufferUsage.COPY_SRC|GPUBufferUsage.COPY_DST;function H(r,e,t){let n=O(e),o=I(Math.max(n,4),4)*4;if(o>r.maxBinding)throw new RangeError(`tensor ${t} [${e.join("\xD7")}] needs ${o} bytes, over this adapter's maxStorageBufferBindingSize of ${r.maxBinding}`);return{buffer:r.device.createBuffer({label:t,size:o,usage:Ke}),offset:0,shape:e,label:t}}function se(r,e){if(O(e)>j(r))throw new RangeError(`reshape of ${r.label} to [${e}] is too large`);return{...r,shape:e}}function z(r,e,t){if(t.length!==j(e))throw new RangeError(`upload to ${e.label}: ${t.length} values for shape [${e.shape}]`);r.device.queue.writeBuffer(e.buffer,e.offset*4,t)}async function Qe(r,e){let t=I(j(e),4)*4,n=r.device.createBuffer({size:t,usage:GPUBufferUsage.MAP_READ|GPUBufferUsage.COPY_DST});r.submit(s=>s.copyBufferToBuffer(e.buffer,e.offset*4,n,0,t)),await n.mapAsync(GPUMapMode.READ),await r.verify();let o=new Float32Array(n.getMappedRange().slice(0,j(e)*4));return n.unmap(),n.destroy(),o}var we=class{gpu;#e;constructor(e){this.gpu=e,this.#e=[]}create(e,t){let n=H(this.gpu,e,t);return this.#e.push(n),n}destroy(){for(let e of this.#e)e.buffer.destroy();this.#e.length=0}},P=(r,e)=>r.shape.length===e.length&&r.shape.every((t,n)=>t===e[n]);function C(r,e,t){if(!P(r,e))throw new RangeError(`${t} ${r.label} is [${r.shape}], expected [${e}]`)}var an=r=>"shape"in r;function cn(r,e){let t=r.limits.maxComputeWorkgroupsPerDimension;return e<=t?[e,1,1]:[t,Math.ceil(e/t),1]}var L=class r{gpu;label;#e;#t;constructor(e,t){this.gpu=e,this.label=t,this.#e=[],this.#t=[]}get length(){return this.#e.length}add(e,t,n,o,s){let a=[];o.forEach((d,f)=>{d&&a.push({binding:f,resource:an(d)?Ot(d):{buffer:d}})});let i=a.map(d=>d.binding),c=this.gpu.kernels.get(e,t,n,i),u=this.gpu.device.createBindGroup({label:`${this.label}/${e.name}:${t}`,layout:c.getBindGroupLayout(0),entries:a}),l=typeof s=="number"?cn(this.gpu,s):s;if(l.some(d=>d<1||!Number.isInteger(d)))throw new RangeError(`${e.name}:${t}: bad workgroup count ${l}`);this.#e.push({kernel:e.name,entry:t,consts:n,pipeline:c,bindGroup:u,groups:l})}get dispatches(){return this.#e}select(e,t=this.label){let n=new r(this.gpu,t);return n.#e.push(...this.#e.filter(e)),n}scratch(e,t){let n=H(this.gpu,e,t);return this.#t.push(n),n}destroy(){for(let e of this.#t)e.buffer.destroy();this.#t.length=0}append(e){this.#e.push(...e.#e)}encode(e){for(let t of this.#e)e.setPipeline(t.pipeline),e.setBindGroup(0,t.bindGroup),e.dispatchWorkgroups(t.groups[0],t.groups[1],t.groups[2])}run(){this.gpu.submit(e=>{let t=e.beginComputePass({label:this.label});this.encode(t),t.end()})}};var Tt=`// Single-head attention core (see lib/nn/attention.ts). Per sample n, q, k, v, o are [C, L]
// matrices (channels \xD7 positions, L = H\xB7W) and p, ds are [L, L] (query i \xD7 key j):
//   s[i,j] = SCALE \u03A3_c q[c,i] k[c,j];   p = softmax over j of s;   o[c,i] = \u03A3_j v[c,j] p[i,j]
// Backward:  dv = dout \xB7 p;  dp[i,j] = \u03A3_c dout[c,i] v[c,j];
//            ds = SCALE \xB7 p \u2218 (dp \u2212 \u03A3_j p \u2218 dp);  dq = k \xB7 ds\u1D40;  dk = q \xB7 ds.
// Every product of a [C, L] and an [L, L] matrix is \`matmul\` (prod = a \xB7 m), so the row kernels
// also write the transposes pt = p\u1D40 and dst = ds\u1D40; then every operand is read as vec4s along
// the axis it is stored in.
//
// Constants: N, C, L (both multiples of 8), SCALE (C^-0.5).
// Entry points and bindings (group 0). Each entry point declares its own variables, so a slot
// means different things in different entry points; no entry point uses two variables of one slot.
//   scores_softmax  0 lhs = q, 1 rhs = k, 2 p, 3 pt                  N \xB7 L/8 invocations
//   grad_scores     0 lhs = dout, 1 rhs = v, 2 probs = p, 3 ds, 4 dst  N \xB7 L/8 invocations
//   matmul          0 a [N,C,L], 1 m [N,L,L], 2 prod [N,C,L]          N \xB7 C/8 \xB7 L/8 invocations
//     prod[c,j] = \u03A3_i a[c,i] m[i,j]:  o = v \xB7 pt,  dv = dout \xB7 p,  dq = k \xB7 dst,  dk = q \xB7 ds
// An invocation of a row kernel owns 8 whole rows (queries) of its [L, L] outputs, so it does
// the softmax (or its gradient) itself in a second pass over those rows; an invocation of
// matmul owns an 8 \xD7 8 output tile. Tiles live in named registers; 4 \xD7 4 blocks are mat4x4f,
// transposed without memory traffic. The 1-D invocation index is split over x and y of the grid.

@group(0) @binding(0) var<storage, read> lhs: array<vec4f>;
@group(0) @binding(1) var<storage, read> rhs: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> p: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> pt: array<vec4f>;

@group(0) @binding(2) var<storage, read> probs: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> ds: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> dst: array<vec4f>;

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> m: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> prod: array<vec4f>;

const L4 = L / 4;
const L8 = L / 8;
const C8 = C / 8;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

// b + x \u2297 y: column u gains x \xB7 y[u].
fn outer_add(b: mat4x4f, x: vec4f, y: vec4f) -> mat4x4f {
  return mat4x4f(
    fma(x, vec4f(y.x), b[0]),
    fma(x, vec4f(y.y), b[1]),
    fma(x, vec4f(y.z), b[2]),
    fma(x, vec4f(y.w), b[3]),
  );
}

// An 8 \xD7 8 block of an [L, L] matrix, queries i = 8\xB7it + (0..7) \xD7 keys j = 8\xB7jt + (0..7), stored
// key-major: column u of lo is key 8\xB7jt + u and of hi key 8\xB7jt + 4 + u, each a vec4 over
// queries 8\xB7it + (0..3) in block a and 8\xB7it + (4..7) in block b.
struct Tile {
  a_lo: mat4x4f,
  a_hi: mat4x4f,
  b_lo: mat4x4f,
  b_hi: mat4x4f,
}

// scale \xB7 \u03A3_c lhs[n,c,i] rhs[n,c,j] over the tile (it, jt) of sample n.
fn outer_tile(n: u32, it: u32, jt: u32, scale: f32) -> Tile {
  var t: Tile;
  var i = n * C * L4;
  for (var c = 0u; c < C; c++) {
    let xa = lhs[i + 2u * it] * scale;
    let xb = lhs[i + 2u * it + 1u] * scale;
    let ylo = rhs[i + 2u * jt];
    let yhi = rhs[i + 2u * jt + 1u];
    t.a_lo = outer_add(t.a_lo, xa, ylo);
    t.a_hi = outer_add(t.a_hi, xa, yhi);
    t.b_lo = outer_add(t.b_lo, xb, ylo);
    t.b_hi = outer_add(t.b_hi, xb, yhi);
    i += L4;
  }
  return t;
}

// Index of the vec4 (row, 4\xB7quad .. 4\xB7quad+3) of sample n of an [N, L, L] tensor.
fn at(n: u32, row: u32, quad: u32) -> u32 {
  return (n * L + row) * L4 + quad;
}

fn col_max(b: mat4x4f) -> vec4f {
  return max(max(b[0], b[1]), max(b[2], b[3]));
}

fn col_sum_exp(b: mat4x4f, shift: vec4f) -> vec4f {
  return exp(b[0] - shift) + exp(b[1] - shift) + exp(b[2] - shift) + exp(b[3] - shift);
}

// pt rows key .. key+3, query quad iq = b (key-major block).
fn store_pt(n: u32, key: u32, iq: u32, b: mat4x4f) {
  let i = at(n, key, iq);
  pt[i] = b[0];
  pt[i + L4] = b[1];
  pt[i + 2u * L4] = b[2];
  pt[i + 3u * L4] = b[3];
}

fn load_pt(n: u32, key: u32, iq: u32) -> mat4x4f {
  let i = at(n, key, iq);
  return mat4x4f(pt[i], pt[i + L4], pt[i + 2u * L4], pt[i + 3u * L4]);
}

// p rows query .. query+3, key quad jq = the transpose of the key-major block b.
fn store_p(n: u32, query: u32, jq: u32, b: mat4x4f) {
  let r = transpose(b);
  let i = at(n, query, jq);
  p[i] = r[0];
  p[i + L4] = r[1];
  p[i + 2u * L4] = r[2];
  p[i + 3u * L4] = r[3];
}

// Pass 1 stores the scaled scores key-major in pt and keeps each query's running max mx and
// \u03A3 exp(s \u2212 mx) (online softmax); pass 2 rereads them and writes p and pt.
@compute @workgroup_size(64)
fn scores_softmax(
  @builtin(global_invocation_id) id: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let t = thread_index(id, groups);
  if (t >= N * L8) { return; }
  let n = t / L8;
  let it = t % L8;
  // Per query (vec4s over queries 8\xB7it + 0..3 and + 4..7): running max, running \u03A3 exp(s \u2212 max).
  var mx_a = vec4f(-3.0e38);
  var mx_b = vec4f(-3.0e38);
  var sum_a = vec4f(0.0);
  var sum_b = vec4f(0.0);
  for (var jt = 0u; jt < L8; jt++) {
    let s = outer_tile(n, it, jt, SCALE);
    store_pt(n, 8u * jt, 2u * it, s.a_lo);
    store_pt(n, 8u * jt + 4u, 2u * it, s.a_hi);
    store_pt(n, 8u * jt, 2u * it + 1u, s.b_lo);
    store_pt(n, 8u * jt + 4u, 2u * it + 1u, s.b_hi);
    let new_a = max(mx_a, max(col_max(s.a_lo), col_max(s.a_hi)));
    let new_b = max(mx_b, max(col_max(s.b_lo), col_max(s.b_hi)));
    sum_a = sum_a * exp(mx_a - new_a) + col_sum_exp(s.a_lo, new_a) + col_sum_exp(s.a_hi, new_a);
    sum_b = sum_b * exp(mx_b - new_b) + col_sum_exp(s.b_lo, new_b) + col_sum_exp(s.b_hi, new_b);
    mx_a = new_a;
    mx_b = new_b;
  }
  let inv_a = 1.0 / sum_a;
  let inv_b = 1.0 / sum_b;
  for (var jq = 0u; jq < L4; jq++) {
    let sa = load_pt(n, 4u * jq, 2u * it);
    let sb = load_pt(n, 4u * jq, 2u * it + 1u);
    let pa = mat4x4f(
      exp(sa[0] - mx_a) * inv_a,
      exp(sa[1] - mx_a) * inv_a,
      exp(sa[2] - mx_a) * inv_a,
      exp(sa[3] - mx_a) * inv_a,
    );
    let pb = mat4x4f(
      exp(sb[0] - mx_b) * inv_b,
      exp(sb[1] - mx_b) * inv_b,
      exp(sb[2] - mx_b) * inv_b,
      exp(sb[3] - mx_b) * inv_b,
    );
    store_pt(n, 4u * jq, 2u * it, pa);
    store_pt(n, 4u * jq, 2u * it + 1u, pb);
    store_p(n, 8u * it, jq, pa);
    store_p(n, 8u * it + 4u, jq, pb);
  }
}

// The key-major block of probs for queries query .. query+3 and key quad jq.
fn load_probs(n: u32, query: u32, jq: u32) -> mat4x4f {
  let i = at(n, query, jq);
  return transpose(mat4x4f(probs[i], probs[i + L4], probs[i + 2u * L4], probs[i + 3u * L4]));
}

fn store_dst(n: u32, key: u32, iq: u32, b: mat4x4f) {
  let i = at(n, key, iq);
  dst[i] = b[0];
  dst[i + L4] = b[1];
  dst[i + 2u * L4] = b[2];
  dst[i + 3u * L4] = b[3];
}

fn load_dst(n: u32, key: u32, iq: u32) -> mat4x4f {
  let i = at(n, key, iq);
  return mat4x4f(dst[i], dst[i + L4], dst[i + 2u * L4], dst[i + 3u * L4]);
}

fn store_ds(n: u32, query: u32, jq: u32, b: mat4x4f) {
  let r = transpose(b);
  let i = at(n, query, jq);
  ds[i] = r[0];
  ds[i + L4] = r[1];
  ds[i + 2u * L4] = r[2];
  ds[i + 3u * L4] = r[3];
}

// \u03A3_u of the columns of x \u2218 y: per query, the dot product over one key quad.
fn col_dot(x: mat4x4f, y: mat4x4f) -> vec4f {
  return x[0] * y[0] + x[1] * y[1] + x[2] * y[2] + x[3] * y[3];
}

// SCALE \xB7 p \u2218 (dp \u2212 pdp) for one key-major block (pdp per query).
fn softmax_grad(pk: mat4x4f, dp: mat4x4f, pdp: vec4f) -> mat4x4f {
  return mat4x4f(
    SCALE * pk[0] * (dp[0] - pdp),
    SCALE * pk[1] * (dp[1] - pdp),
    SCALE * pk[2] * (dp[2] - pdp),
    SCALE * pk[3] * (dp[3] - pdp),
  );
}

// Pass 1 stores dp key-major in dst and sums p \u2218 dp per query; pass 2 turns dst into ds\u1D40 and
// writes ds.
@compute @workgroup_size(64)
fn grad_scores(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= N * L8) { return; }
  let n = t / L8;
  let it = t % L8;
  var pdp_a = vec4f(0.0);
  var pdp_b = vec4f(0.0);
  for (var jt = 0u; jt < L8; jt++) {
    let d = outer_tile(n, it, jt, 1.0);
    store_dst(n, 8u * jt, 2u * it, d.a_lo);
    store_dst(n, 8u * jt + 4u, 2u * it, d.a_hi);
    store_dst(n, 8u * jt, 2u * it + 1u, d.b_lo);
    store_dst(n, 8u * jt + 4u, 2u * it + 1u, d.b_hi);
    pdp_a += col_dot(load_probs(n, 8u * it, 2u * jt), d.a_lo);
    pdp_a += col_dot(load_probs(n, 8u * it, 2u * jt + 1u), d.a_hi);
    pdp_b += col_dot(load_probs(n, 8u * it + 4u, 2u * jt), d.b_lo);
    pdp_b += col_dot(load_probs(n, 8u * it + 4u, 2u * jt + 1u), d.b_hi);
  }
  for (var jq = 0u; jq < L4; jq++) {
    let ga = softmax_grad(load_probs(n, 8u * it, jq), load_dst(n, 4u * jq, 2u * it), pdp_a);
    let gb = softmax_grad(
      load_probs(n, 8u * it + 4u, jq),
      load_dst(n, 4u * jq, 2u * it + 1u),
      pdp_b,
    );
    store_dst(n, 4u * jq, 2u * it, ga);
    store_dst(n, 4u * jq, 2u * it + 1u, gb);
    store_ds(n, 8u * it, jq, ga);
    store_ds(n, 8u * it + 4u, jq, gb);
  }
}

// prod[c,j] = \u03A3_i a[c,i] m[i,j] for channels c = 8\xB7ct + (0..7) and columns j = 8\xB7jt + (0..7).
// Per quad of i, the 4 \xD7 4 blocks of m are matrices whose column u is row 4\xB7iq + u, so a
// channel's contribution is one matrix\u2013vector product.
@compute @workgroup_size(64)
fn matmul(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= N * C8 * L8) { return; }
  let jt = t % L8;
  let ct = t / L8 % C8;
  let n = t / (L8 * C8);
  let ar = (n * C + 8u * ct) * L4; // row c = 8\xB7ct of sample n of a and prod
  var o0l = vec4f(0.0); var o0h = vec4f(0.0); var o1l = vec4f(0.0); var o1h = vec4f(0.0);
  var o2l = vec4f(0.0); var o2h = vec4f(0.0); var o3l = vec4f(0.0); var o3h = vec4f(0.0);
  var o4l = vec4f(0.0); var o4h = vec4f(0.0); var o5l = vec4f(0.0); var o5h = vec4f(0.0);
  var o6l = vec4f(0.0); var o6h = vec4f(0.0); var o7l = vec4f(0.0); var o7h = vec4f(0.0);
  for (var iq = 0u; iq < L4; iq++) {
    let mi = at(n, 4u * iq, 2u * jt);
    let ml = mat4x4f(m[mi], m[mi + L4], m[mi + 2u * L4], m[mi + 3u * L4]);
    let mh = mat4x4f(m[mi + 1u], m[mi + L4 + 1u], m[mi + 2u * L4 + 1u], m[mi + 3u * L4 + 1u]);
    let ai = ar + iq;
    let x0 = a[ai]; let x1 = a[ai + L4];
    let x2 = a[ai + 2u * L4]; let x3 = a[ai + 3u * L4];
    let x4 = a[ai + 4u * L4]; let x5 = a[ai + 5u * L4];
    let x6 = a[ai + 6u * L4]; let x7 = a[ai + 7u * L4];
    o0l += ml * x0; o0h += mh * x0; o1l += ml * x1; o1h += mh * x1;
    o2l += ml * x2; o2h += mh * x2; o3l += ml * x3; o3h += mh * x3;
    o4l += ml * x4; o4h += mh * x4; o5l += ml * x5; o5h += mh * x5;
    o6l += ml * x6; o6h += mh * x6; o7l += ml * x7; o7h += mh * x7;
  }
  let oi = ar + 2u * jt;
  prod[oi] = o0l; prod[oi + 1u] = o0h;
  prod[oi + L4] = o1l; prod[oi + L4 + 1u] = o1h;
  prod[oi + 2u * L4] = o2l; prod[oi + 2u * L4 + 1u] = o2h;
  prod[oi + 3u * L4] = o3l; prod[oi + 3u * L4 + 1u] = o3h;
  prod[oi + 4u * L4] = o4l; prod[oi + 4u * L4 + 1u] = o4h;
  prod[oi + 5u * L4] = o5l; prod[oi + 5u * L4 + 1u] = o5h;
  prod[oi + 6u * L4] = o6l; prod[oi + 6u * L4 + 1u] = o6h;
  prod[oi + 7u * L4] = o7l; prod[oi + 7u * L4 + 1u] = o7h;
}
`;var ee={name:"attention",code:Tt};function Pt(r,e,t){let[n,o,s]=r.shape;if(r.shape.length!==3||o%8!==0||s%8!==0||e.some(i=>!P(i,r.shape))||!P(t,[n,s,s])){let i=[r,...e,t].map(c=>`${c.label} [${c.shape}]`).join(", ");throw new RangeError(`attention: ${i}: expected [N, C, L] and p [N, L, L] with C and L multiples of 8`)}return{n,c:o,l:s}}var Lt=({n:r,c:e,l:t})=>({N:r,C:e,L:t,SCALE:1/Math.sqrt(e)}),Ut=({n:r,l:e})=>Math.ceil(r*e/8/64),ve=({n:r,c:e,l:t})=>Math.ceil(r*(e/8)*(t/8)/64);function Wt(r,e){let t=Pt(e.q,[e.k,e.v,e.o],e.p),n=Lt(t),o=r.scratch(e.p.shape,`${e.p.label}.T`);r.add(ee,"scores_softmax",n,[e.q,e.k,e.p,o],Ut(t)),r.add(ee,"matmul",n,[e.v,o,e.o],ve(t))}function jt(r,e){let t=Pt(e.q,[e.k,e.v,e.dout,e.dq,e.dk,e.dv],e.p),n=Lt(t),o=r.scratch(e.p.shape,`${e.p.label}.ds`),s=r.scratch(e.p.shape,`${e.p.label}.dsT`);r.add(ee,"matmul",n,[e.dout,e.p,e.dv],ve(t)),r.add(ee,"grad_scores",n,[e.dout,e.v,e.p,o,s],Ut(t)),r.add(ee,"matmul",n,[e.k,s,e.dq],ve(t)),r.add(ee,"matmul",n,[e.q,o,e.dk],ve(t))}var qt=`// 2-D convolution, stride 1, zero padding (K \u2212 1) / 2, NCHW f32 (see lib/nn/conv2d.ts).
// With WRAP_X / WRAP_Y the padding is circular along that axis instead (seamless tiles); the
// padding is decided in one place, the "padding" section below.
//
// Bindings (group 0; each entry point uses a subset, the others are left unbound):
//   0 src       [N, CIN, H, W] vec4   read        the convolved input: x, or dy for dx
//   1 packed    [CIN, K\xB7K, COUTP] vec4 read       the weights as written by pack_weights
//   2 dst       [N, COUT, H, W] vec4  read_write  the output: y, or dx
//   3 bias      [COUT] f32            read        added when BIAS
//   4 residual  [N, COUT, H, W] vec4  read        added when RESIDUAL
//   (conv binds slots 3 and 4 only when BIAS / RESIDUAL: the branches that read them are
//   removed before compiling otherwise, see lib/gpu/const_if.ts)
//   5 pack_out  [CIN, K\xB7K, COUTP] vec4 read_write the buffer of \`packed\`, for pack_weights
//   6 weight    [COUT, CIN, K, K] f32 read        the layer's weight ([CIN, COUT, K, K] when FLIP)
//   7 grad_out  [N, COUT, H, W] vec4  read        dy, for weight_grad (src is x there)
//   8 partial   [S, DWP] then [S, DBP] f32 read_write  weight_grad's partial sums (scratch)
//   9 partial4  the buffer of \`partial\` as vec4, read by weight_grad_reduce
//  10 dw        [DWP] vec4            read_write  [COUT, CIN, K, K], zero-padded to a vec4
//  11 db        [DBP] vec4            read_write  [COUT], zero-padded to a vec4
// Constants: N, H, W (a multiple of 4), K (1 or 3), CIN and COUT (channels of src and dst;
//   for the weight gradient those of x and dy; CIN is 0 for conv, which reads it from src),
//   TN (output channels per invocation: 4, 8 or 16), COUTP (COUT rounded up to a multiple of
//   TN), RH (output rows per invocation: 1, 2 or 4), FLIP (pack_weights only: pack the weight
//   transposed and flipped, the input gradient being a convolution of dy), BIAS, RESIDUAL,
//   ACCUM (conv adds bias, residual, the old dst), CONV_WG (conv's workgroup size; only conv has
//   it), CIN_STEP (conv's input channels per step: 4 or 1, chosen in lib/nn/conv2d.ts; 4 only
//   for 1\xD71, Cin % 4 = 0), S (weight_grad's partial sums: batch splits \xD7 SEGS), CI_TILE
//   (weight_grad_1x1's input channels per tile: 16 or 8), WRAP_X and WRAP_Y (circular padding;
//   false for weight_grad). Each entry point is compiled alone (lib/gpu/wgsl_text.ts), so constants
//   another entry point needs may be absent or 0.
// Entry points:
//   pack_weights        ceil(CIN\xB7K\xB7K\xB7COUTP / 4 / 64) workgroups
//   conv                ceil(INVOCATIONS / CONV_WG) workgroups. An invocation holds TN output
//                       channels \xD7 RH rows \xD7 one row segment of up to 16 pixels in registers:
//                       each loaded vec4 of src feeds up to 4\xB7TN\xB7K FMAs (the kx = 0, 2 taps are
//                       swizzles of the loaded row) and each vec4 of weights 4\xB7RH\xB7SV. A 1\xD71
//                       convolution's planes may arrive as rows of 16 pixels (kernelShape).
//   weight_grad         ceil(S \xB7 CO_QUADS \xB7 CI_QUADS / 64) workgroups. An invocation sums all
//                       taps of 4 \xD7 4 channel pairs over its share of the batch: each loaded
//                       x row meets the three dy rows it touches, which roll through registers.
//   weight_grad_1x1     ceil(S \xB7 COUT/16 \xB7 CIN/CI_TILE / 64) workgroups (K = 1, CIN a multiple of
//                       CI_TILE, 16 or 8, COUT of 16; replaces weight_grad). A 1\xD71 weight
//                       gradient is a matrix product over the pixels, so an invocation holds
//                       16 \xD7 CI_TILE channel pairs as vec4s of partial sums over 4 pixels: 32
//                       loads feed 256 vec4 FMAs (16 \xD7 8: 24 feed 128; weight_grad's 4 \xD7 4 pairs
//                       get 16 per 8 loads).
//   weight_grad_reduce  ceil((DWP + DBP) / 4 / 64) workgroups: sums the S splits into dw and db.
// Workgroup counts over the per-dimension limit are split over x and y (see grid1d).

const KK = K * K;
const PAD = (K - 1) / 2;
/** Vec4s per row. */
const VW = W / 4;
/** Vec4s of a row one invocation holds. */
const SV = min(VW, 4);
/** Row segments per row (1 for W \u2264 16). */
const SEGS = (VW + SV - 1) / SV;
const ROW_BLOCKS = (H + RH - 1) / RH;
/** Groups of NB samples (NB divides N). */
const SAMPLE_BLOCKS = N / NB;
const INVOCATIONS = COUTP / TN * SAMPLE_BLOCKS * ROW_BLOCKS * SEGS;
const CI_QUADS = (CIN + 3) / 4;
const CO_QUADS = (COUT + 3) / 4;
const DWP = (COUT * CIN * KK + 3) / 4 * 4;
const DBP = (COUT + 3) / 4 * 4;
/** Vec4s per channel plane. */
const HW4 = H * VW;

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read> packed: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> pack_out: array<vec4f>;
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

/** Accumulators of 4 output channels (c0 \u2026 c3) over one row segment. */
struct Quad {
  c0: Row,
  c1: Row,
  c2: Row,
  c3: Row,
}

/** One quad of output channels over output rows h \u2026 h + 3 (rows past RH stay unused). */
struct QuadRows {
  r0: Quad,
  r1: Quad,
  r2: Quad,
  r3: Quad,
}

fn linear_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}

/** Whether vec4 j of row segment seg lies inside the row. */
fn in_row(seg: u32, j: u32) -> bool {
  return j < SV && seg * SV + j < VW;
}

// One row loader per buffer: WGSL functions cannot take pointers to storage buffers.

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

// ---- padding: what lies outside the image (zeros, or the other side with WRAP_X / WRAP_Y) ----

/** The pixel left of the src row starting at vec4 index base. */
fn pixel_before_row(base: u32) -> f32 {
  if (WRAP_X) { return src[base + VW - 1u].w; }
  return 0.0;
}

/** The pixel right of the src row starting at vec4 index base. */
fn pixel_after_row(base: u32) -> f32 {
  if (WRAP_X) { return src[base].x; }
  return 0.0;
}

/** Row iy (below zero it arrives wrapped around as u32) inside the image, or H: a zero row. */
fn padded_row(iy: u32) -> u32 {
  if (iy < H) { return iy; }
  if (WRAP_Y) { return (iy + H) % H; } // \u22121 \u2192 H \u2212 1, H \u2192 0
  return H;
}

/** The src row segment and its one-pixel shifts (padding at the row ends). */
fn src_taps(base: u32, seg: u32) -> Taps {
  let c = src_row(base, seg);
  var before = pixel_before_row(base);
  var after = pixel_after_row(base);
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

// ---- conv: forward and input gradient ----

/** a + w \xB7 x over the vec4s a row segment holds. */
fn mac(a: Row, w: f32, x: Row) -> Row {
  var o = a;
  o.v0 += w * x.v0;
  if (SV > 1) { o.v1 += w * x.v1; }
  if (SV > 2) { o.v2 += w * x.v2; }
  if (SV > 3) { o.v3 += w * x.v3; }
  return o;
}

/** Where one invocation's output tile lies: rows h \u2026 h + RH \u2212 1. */
struct Place {
  n: u32,
  tile: u32,
  h: u32,
  seg: u32,
}

// Invocations next to each other differ in h, then n: they share the tile's weights.
fn place(id: u32) -> Place {
  let seg = id % SEGS;
  let h = id / SEGS % ROW_BLOCKS * RH;
  let n = id / (SEGS * ROW_BLOCKS) % SAMPLE_BLOCKS * NB;
  return Place(n, id / (SEGS * ROW_BLOCKS * SAMPLE_BLOCKS), h, seg);
}

/** r where keep, zeros elsewhere. */
fn row_or_zero(r: Row, keep: bool) -> Row {
  return Row(
    select(vec4f(), r.v0, keep),
    select(vec4f(), r.v1, keep),
    select(vec4f(), r.v2, keep),
    select(vec4f(), r.v3, keep),
  );
}

/**
 * src row iy of the plane at vec4 base with its shifts; outside the image, see padded_row.
 * A padding row is an edge row loaded and then zeroed rather than a branch around the load:
 * inside the conv loop that branch doubled lavapipe's compile of every convolution (a 16\xD716
 * batch-128 pipeline 11.4 s against 5.4 s) for a sixth of the loads of the edge tiles.
 */
fn src_taps_at(base: u32, iy: u32, seg: u32) -> Taps {
  let row = padded_row(iy);
  let inside = row != H;
  let at = base + min(row, H - 1u) * VW;
  if (K == 1) { return Taps(Row(), row_or_zero(src_row(at, seg), inside), Row()); }
  let t = src_taps(at, seg);
  return Taps(row_or_zero(t.l, inside), row_or_zero(t.c, inside), row_or_zero(t.r, inside));
}

/** The K\xB7K taps of one output channel: kernel row ky in k_ky, kx = 0, 1, 2 in x, y, z. */
struct ChannelKernel {
  k0: vec3f,
  k1: vec3f,
  k2: vec3f,
}

/** a + one kernel row applied to one vec4: tap by tap, kx = 0, 1, 2. */
fn taps3(a: vec4f, k: vec3f, l: vec4f, c: vec4f, r: vec4f) -> vec4f {
  return a + k.x * l + k.y * c + k.z * r;
}

/** a + the K\xB7K taps of one vec4 of the row segment, kernel row by kernel row. */
fn taps9(a: vec4f, k: ChannelKernel, l0: vec4f, c0: vec4f, r0: vec4f, l1: vec4f, c1: vec4f,
  r1: vec4f, l2: vec4f, c2: vec4f, r2: vec4f) -> vec4f {
  return taps3(taps3(taps3(a, k.k0, l0, c0, r0), k.k1, l1, c1, r1), k.k2, l2, c2, r2);
}

/**
 * One output channel's accumulator row plus its kernel applied to input rows x0, x1, x2 (kernel
 * rows ky = 0, 1, 2; with K = 1, x0 and the tap k0.y alone). Every tap of a vec4 is summed
 * before the next vec4: an accumulator is loaded and stored once per input channel, where a
 * tap-by-tap order would reload it for each of the K\xB7K taps (the accumulators outnumber the
 * registers many times over).
 */
fn conv_channel(a: Row, k: ChannelKernel, x0: Taps, x1: Taps, x2: Taps) -> Row {
  if (K == 1) { return mac(a, k.k0.y, x0.c); }
  var o = a;
  o.v0 = taps9(o.v0, k, x0.l.v0, x0.c.v0, x0.r.v0, x1.l.v0, x1.c.v0, x1.r.v0, x2.l.v0, x2.c.v0, x2.r.v0);
  if (SV > 1) {
    o.v1 = taps9(o.v1, k, x0.l.v1, x0.c.v1, x0.r.v1, x1.l.v1, x1.c.v1, x1.r.v1, x2.l.v1, x2.c.v1, x2.r.v1);
  }
  if (SV > 2) {
    o.v2 = taps9(o.v2, k, x0.l.v2, x0.c.v2, x0.r.v2, x1.l.v2, x1.c.v2, x1.r.v2, x2.l.v2, x2.c.v2, x2.r.v2);
  }
  if (SV > 3) {
    o.v3 = taps9(o.v3, k, x0.l.v3, x0.c.v3, x0.r.v3, x1.l.v3, x1.c.v3, x1.r.v3, x2.l.v3, x2.c.v3, x2.r.v3);
  }
  return o;
}

/** The K\xB7K taps of one input channel for a quad of output channels: tap (ky, kx) as a vec4. */
struct QuadKernel {
  l0: vec4f,
  c0: vec4f,
  r0: vec4f,
  l1: vec4f,
  c1: vec4f,
  r1: vec4f,
  l2: vec4f,
  c2: vec4f,
  r2: vec4f,
}

/** Input channel ci's taps for output channels tile \xB7 TN + 4q \u2026 + 3 (only c0 when K = 1). */
fn quad_kernel(ci: u32, tile: u32, q: u32) -> QuadKernel {
  let wi = (ci * KK * COUTP + tile * TN) / 4u + q;
  let tap = COUTP / 4u; // vec4s between taps
  var k = QuadKernel();
  if (K == 1) {
    k.c0 = packed[wi];
    return k;
  }
  k.l0 = packed[wi];
  k.c0 = packed[wi + tap];
  k.r0 = packed[wi + 2u * tap];
  k.l1 = packed[wi + 3u * tap];
  k.c1 = packed[wi + 4u * tap];
  k.r1 = packed[wi + 5u * tap];
  k.l2 = packed[wi + 6u * tap];
  k.c2 = packed[wi + 7u * tap];
  k.r2 = packed[wi + 8u * tap];
  return k;
}

/** Output channel j of a quad: its K\xB7K taps. */
fn channel_kernel(k: QuadKernel, j: u32) -> ChannelKernel {
  return ChannelKernel(vec3(k.l0[j], k.c0[j], k.r0[j]), vec3(k.l1[j], k.c1[j], k.r1[j]),
    vec3(k.l2[j], k.c2[j], k.r2[j]));
}

/** One output row of a quad plus its 4 channels' kernels applied to input rows x0, x1, x2. */
fn conv_quad(a: Quad, k: QuadKernel, x0: Taps, x1: Taps, x2: Taps) -> Quad {
  return Quad(
    conv_channel(a.c0, channel_kernel(k, 0u), x0, x1, x2),
    conv_channel(a.c1, channel_kernel(k, 1u), x0, x1, x2),
    conv_channel(a.c2, channel_kernel(k, 2u), x0, x1, x2),
    conv_channel(a.c3, channel_kernel(k, 3u), x0, x1, x2),
  );
}

// Accumulators go by pointer: copying them whole, unused rows included, makes llvmpipe's
// shader compiler several times slower.

/** Input rows h \u2212 PAD \u2026 h + RH + PAD \u2212 1 of one channel plane (those past them stay zero). */
struct InputRows {
  x0: Taps,
  x1: Taps,
  x2: Taps,
  x3: Taps,
  x4: Taps,
  x5: Taps,
}

/** The input rows of the plane at vec4 base from row top (wrapped around below zero). */
fn input_rows(base: u32, top: u32, seg: u32) -> InputRows {
  var x = InputRows();
  x.x0 = src_taps_at(base, top, seg);
  if (RH + K - 1 > 1) { x.x1 = src_taps_at(base, top + 1u, seg); }
  if (RH + K - 1 > 2) { x.x2 = src_taps_at(base, top + 2u, seg); }
  if (RH + K - 1 > 3) { x.x3 = src_taps_at(base, top + 3u, seg); }
  if (RH + K - 1 > 4) { x.x4 = src_taps_at(base, top + 4u, seg); }
  if (RH + K - 1 > 5) { x.x5 = src_taps_at(base, top + 5u, seg); }
  return x;
}

/** Adds one input channel's rows to a quad's RH output rows. */
fn conv_rows(a: ptr<function, QuadRows>, k: QuadKernel, x: InputRows) {
  (*a).r0 = conv_quad((*a).r0, k, x.x0, x.x1, x.x2);
  if (RH > 1) { (*a).r1 = conv_quad((*a).r1, k, x.x1, x.x2, x.x3); }
  if (RH > 2) {
    (*a).r2 = conv_quad((*a).r2, k, x.x2, x.x3, x.x4);
    (*a).r3 = conv_quad((*a).r3, k, x.x3, x.x4, x.x5);
  }
}

/** Adds one input channel to a quad of both samples (a: the first, b: the second if NB = 2). */
fn conv_samples(a: ptr<function, QuadRows>, b: ptr<function, QuadRows>, k: QuadKernel,
  x: InputRows, y: InputRows) {
  conv_rows(a, k, x);
  if (NB > 1) { conv_rows(b, k, y); }
}

// A 1\xD71 accumulator meets one tap per input channel, so it takes four input channels in a row:
// loaded and stored once per four products instead of once per product (same order of sums).

/** The rows of input channels ci \u2026 ci + 3 (x_i: channel ci + i) of a 1\xD71 convolution. */
struct ChannelRows {
  x0: Row,
  x1: Row,
  x2: Row,
  x3: Row,
}

/** The row at vec4 offset row_at of input channels ci \u2026 ci + 3, whose first plane is at plane. */
fn channel_rows(plane: u32, row_at: u32, seg: u32) -> ChannelRows {
  let i = plane + row_at;
  return ChannelRows(
    src_row(i, seg),
    src_row(i + HW4, seg),
    src_row(i + 2u * HW4, seg),
    src_row(i + 3u * HW4, seg),
  );
}

/** a + w.x \xB7 x0 + w.y \xB7 x1 + w.z \xB7 x2 + w.w \xB7 x3, summed left to right. */
fn mac4(a: vec4f, w: vec4f, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) -> vec4f {
  return a + w.x * x0 + w.y * x1 + w.z * x2 + w.w * x3;
}

/** One output channel's row plus its weights w (of the four input channels) times their rows. */
fn mac_channels(a: Row, w: vec4f, x: ChannelRows) -> Row {
  var o = a;
  o.v0 = mac4(o.v0, w, x.x0.v0, x.x1.v0, x.x2.v0, x.x3.v0);
  if (SV > 1) { o.v1 = mac4(o.v1, w, x.x0.v1, x.x1.v1, x.x2.v1, x.x3.v1); }
  if (SV > 2) { o.v2 = mac4(o.v2, w, x.x0.v2, x.x1.v2, x.x2.v2, x.x3.v2); }
  if (SV > 3) { o.v3 = mac4(o.v3, w, x.x0.v3, x.x1.v3, x.x2.v3, x.x3.v3); }
  return o;
}

/** An output channel quad's row plus input channels ci \u2026 ci + 3 (k_i: channel ci + i's weights). */
fn quad_channels(a: Quad, k0: vec4f, k1: vec4f, k2: vec4f, k3: vec4f, x: ChannelRows) -> Quad {
  return Quad(
    mac_channels(a.c0, vec4(k0.x, k1.x, k2.x, k3.x), x),
    mac_channels(a.c1, vec4(k0.y, k1.y, k2.y, k3.y), x),
    mac_channels(a.c2, vec4(k0.z, k1.z, k2.z, k3.z), x),
    mac_channels(a.c3, vec4(k0.w, k1.w, k2.w, k3.w), x),
  );
}

/** Adds input channels ci \u2026 ci + 3 to quad q of both samples (1\xD71: one row per tile). */
fn conv_channels(a: ptr<function, QuadRows>, b: ptr<function, QuadRows>, ci: u32, tile: u32,
  q: u32, x: ChannelRows, y: ChannelRows) {
  let k0 = quad_kernel(ci, tile, q).c0;
  let k1 = quad_kernel(ci + 1u, tile, q).c0;
  let k2 = quad_kernel(ci + 2u, tile, q).c0;
  let k3 = quad_kernel(ci + 3u, tile, q).c0;
  (*a).r0 = quad_channels((*a).r0, k0, k1, k2, k3, x);
  if (NB > 1) { (*b).r0 = quad_channels((*b).r0, k0, k1, k2, k3, y); }
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

/** Writes accumulator row acc of output channel p.tile \xB7 TN + j, row p.h + r, with the epilogue. */
fn store_channel(p: Place, r: u32, j: u32, acc: Row) {
  let co = p.tile * TN + j;
  if (COUT % TN != 0 && co >= COUT) { return; }
  let i = dst_index(p, r, co);
  var y = acc;
  if (BIAS) { y = add_scalar(y, bias[co]); }
  if (RESIDUAL) { y = add_rows(y, residual_row(i, p.seg)); }
  if (ACCUM) { y = add_rows(y, dst_row(i, p.seg)); }
  store_row(i, p.seg, y);
}

fn store_quad(p: Place, r: u32, j: u32, q: Quad) {
  store_channel(p, r, j, q.c0);
  store_channel(p, r, j + 1u, q.c1);
  store_channel(p, r, j + 2u, q.c2);
  store_channel(p, r, j + 3u, q.c3);
}

// Straight-line code with constant indices: extracting rows in a loop would index the
// accumulators dynamically.
fn store_rows(p: Place, j: u32, a: ptr<function, QuadRows>) {
  store_quad(p, 0u, j, (*a).r0);
  if (RH > 1 && p.h + 1u < H) { store_quad(p, 1u, j, (*a).r1); }
  if (RH > 2) {
    if (p.h + 2u < H) { store_quad(p, 2u, j, (*a).r2); }
    if (p.h + 3u < H) { store_quad(p, 3u, j, (*a).r3); }
  }
}

/** Writes the TN output channels (quads a0 \u2026 a3, those past TN / 4 unused) of tile p. */
fn store_quads(p: Place, a0: ptr<function, QuadRows>, a1: ptr<function, QuadRows>,
  a2: ptr<function, QuadRows>, a3: ptr<function, QuadRows>) {
  store_rows(p, 0u, a0);
  if (TN > 4) { store_rows(p, 4u, a1); }
  if (TN > 8) {
    store_rows(p, 8u, a2);
    store_rows(p, 12u, a3);
  }
}

// Workgroups of CONV_WG: 16 on CPU adapters, where each workgroup runs on one thread and a
// small-batch layer has only a few dozen invocations; 64 on GPUs (lib/nn/conv2d.ts).
@compute @workgroup_size(CONV_WG)
fn conv(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = gid.x + gid.y * nwg.x * CONV_WG;
  if (id >= INVOCATIONS) { return; }
  let p = place(id);
  // Accumulators of output channel quads 0 \u2026 3 (those past TN / 4 stay unused).
  var a0 = QuadRows();
  var a1 = QuadRows();
  var a2 = QuadRows();
  var a3 = QuadRows();
  // and of the second sample when NB = 2.
  var b0 = QuadRows();
  var b1 = QuadRows();
  var b2 = QuadRows();
  var b3 = QuadRows();
  // The input's channel count comes from src's length, not from CIN (0 here): layers that
  // differ only in it share one pipeline, and creating pipelines is most of start-up, while
  // all it decides in this loop is the trip count.
  let cin = arrayLength(&src) / (N * HW4);
  if (CIN_STEP == 4) {
    // 1\xD71, Cin a multiple of 4: four input channels at a time (see conv_channels).
    for (var ci = 0u; ci < cin; ci += 4u) {
      let plane = (p.n * cin + ci) * HW4;
      let x = channel_rows(plane, p.h * VW, p.seg);
      var y = ChannelRows();
      if (NB > 1) { y = channel_rows(plane + cin * HW4, p.h * VW, p.seg); }
      conv_channels(&a0, &b0, ci, p.tile, 0u, x, y);
      if (TN > 4) { conv_channels(&a1, &b1, ci, p.tile, 1u, x, y); }
      if (TN > 8) {
        conv_channels(&a2, &b2, ci, p.tile, 2u, x, y);
        conv_channels(&a3, &b3, ci, p.tile, 3u, x, y);
      }
    }
  } else {
    for (var ci = 0u; ci < cin; ci++) {
      // Input rows h \u2212 PAD \u2026 h + RH \u2212 1 + PAD, loaded once for every kernel row they meet;
      // y: the same rows of the second sample, when NB = 2.
      let plane = (p.n * cin + ci) * HW4;
      let top = p.h - PAD; // wraps around below zero
      let x = input_rows(plane, top, p.seg);
      var y = InputRows();
      if (NB > 1) { y = input_rows(plane + cin * HW4, top, p.seg); }
      conv_samples(&a0, &b0, quad_kernel(ci, p.tile, 0u), x, y);
      if (TN > 4) { conv_samples(&a1, &b1, quad_kernel(ci, p.tile, 1u), x, y); }
      if (TN > 8) {
        conv_samples(&a2, &b2, quad_kernel(ci, p.tile, 2u), x, y);
        conv_samples(&a3, &b3, quad_kernel(ci, p.tile, 3u), x, y);
      }
    }
  }
  store_quads(p, &a0, &a1, &a2, &a3);
  if (NB > 1) { store_quads(Place(p.n + 1u, p.tile, p.h, p.seg), &b0, &b1, &b2, &b3); }
}

/** Packed weight (co, ci, tap): weight[co][ci][tap], or weight[ci][co][KK \u2212 1 \u2212 tap] when FLIP. */
fn unpacked_weight(co: u32, ci: u32, tap: u32) -> f32 {
  if (co >= COUT) { return 0.0; }
  if (FLIP) { return weight[(ci * COUT + co) * KK + KK - 1u - tap]; }
  return weight[(co * CIN + ci) * KK + tap];
}

// pack_out[ci][tap][co \u2026 co + 3] for one vec4 of the packed layout; zero for co \u2265 COUT.
// When FLIP, CIN is the layer's output and COUT its input channel count.
@compute @workgroup_size(64)
fn pack_weights(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= CIN * KK * COUTP / 4) { return; }
  let co = id % (COUTP / 4) * 4u;
  let tap = id / (COUTP / 4) % KK;
  let ci = id / (COUTP / 4 * KK);
  pack_out[id] = vec4(
    unpacked_weight(co, ci, tap),
    unpacked_weight(co + 1u, ci, tap),
    unpacked_weight(co + 2u, ci, tap),
    unpacked_weight(co + 3u, ci, tap),
  );
}

// ---- weight_grad, weight_grad_reduce ----

/**
 * Sums of one (output, input) channel pair: kernel rows ky = 0, 1, 2 as vec3s over kx.
 * With K = 1 only k1.y is used.
 */
struct Pair {
  k0: vec3f,
  k1: vec3f,
  k2: vec3f,
}

/** The pairs of one input channel with the 4 output channels of a tile. */
struct Pairs {
  o0: Pair,
  o1: Pair,
  o2: Pair,
  o3: Pair,
}

/** The grad_out rows of the 4 output channels of a tile. */
struct DyRows {
  d0: Row,
  d1: Row,
  d2: Row,
  d3: Row,
}

/** a + \u03A3 over 4 pixels of d \xB7 (x shifted right, x, x shifted left). */
fn corr4(a: vec3f, d: vec4f, l: vec4f, c: vec4f, r: vec4f) -> vec3f {
  var s = a;
  if (K == 1) {
    s.y += dot(d, c);
    return s;
  }
  s += d.x * vec3(l.x, c.x, r.x);
  s += d.y * vec3(l.y, c.y, r.y);
  s += d.z * vec3(l.z, c.z, r.z);
  s += d.w * vec3(l.w, c.w, r.w);
  return s;
}

/** a + \u03A3_w d[w] \xB7 (x[w \u2212 1], x[w], x[w + 1]) over the row segment. */
fn corr_row(a: vec3f, d: Row, x: Taps) -> vec3f {
  var s = corr4(a, d.v0, x.l.v0, x.c.v0, x.r.v0);
  if (SV > 1) { s = corr4(s, d.v1, x.l.v1, x.c.v1, x.r.v1); }
  if (SV > 2) { s = corr4(s, d.v2, x.l.v2, x.c.v2, x.r.v2); }
  if (SV > 3) { s = corr4(s, d.v3, x.l.v3, x.c.v3, x.r.v3); }
  return s;
}

// Input row iy meets the dy rows iy + 1 (ky = 0), iy (ky = 1) and iy \u2212 1 (ky = 2).
fn corr_pair(a: Pair, dn: Row, dc: Row, dp: Row, x: Taps) -> Pair {
  if (K == 1) { return Pair(a.k0, corr_row(a.k1, dc, x), a.k2); }
  return Pair(corr_row(a.k0, dn, x), corr_row(a.k1, dc, x), corr_row(a.k2, dp, x));
}

// One x row meets every dy row of the tile right after it is loaded.
fn corr_pairs(a: Pairs, dn: DyRows, dc: DyRows, dp: DyRows, x: Taps) -> Pairs {
  return Pairs(
    corr_pair(a.o0, dn.d0, dc.d0, dp.d0, x),
    corr_pair(a.o1, dn.d1, dc.d1, dp.d1, x),
    corr_pair(a.o2, dn.d2, dc.d2, dp.d2, x),
    corr_pair(a.o3, dn.d3, dc.d3, dp.d3, x),
  );
}

fn row_sum(d: Row) -> vec4f {
  var s = d.v0;
  if (SV > 1) { s += d.v1; }
  if (SV > 2) { s += d.v2; }
  if (SV > 3) { s += d.v3; }
  return s;
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

/** Writes split s's sums of pair (co, ci), if the pair exists. */
fn store_pair(a: Pair, s: u32, co: u32, ci: u32) {
  if (co >= COUT || ci >= CIN) { return; }
  let i = s * DWP + (co * CIN + ci) * KK;
  if (K == 1) {
    partial[i] = a.k1.y;
    return;
  }
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

fn store_pairs(a: Pairs, s: u32, co: u32, ci: u32) {
  store_pair(a.o0, s, co, ci);
  store_pair(a.o1, s, co + 1u, ci);
  store_pair(a.o2, s, co + 2u, ci);
  store_pair(a.o3, s, co + 3u, ci);
}

/** grad_out row segment (n, co, h, seg), zero for co \u2265 COUT. */
fn dy_row(n: u32, co: u32, h: u32, seg: u32) -> Row {
  if (COUT % 4 != 0 && co >= COUT) { return Row(); }
  return grad_out_row(((n * COUT + co) * H + h) * VW, seg);
}

fn dy_rows(n: u32, co: u32, h: u32, seg: u32) -> DyRows {
  return DyRows(
    dy_row(n, co, h, seg),
    dy_row(n, co + 1u, h, seg),
    dy_row(n, co + 2u, h, seg),
    dy_row(n, co + 3u, h, seg),
  );
}

/** src (x) row segment (n, ci, iy, seg) with its shifts, zero for ci \u2265 CIN. */
fn x_taps(n: u32, ci: u32, iy: u32, seg: u32) -> Taps {
  if (CIN % 4 != 0 && ci >= CIN) { return Taps(); }
  return src_taps_at((n * CIN + ci) * H * VW, iy, seg);
}

// Invocation (s, co quad, ci quad) sums all K\xB7K taps of 4 \xD7 4 channel pairs over
// row segment s % SEGS of the samples n \u2261 s / SEGS (mod S / SEGS). Each x row is loaded
// once; the dy rows it meets (iy \u2212 1, iy, iy + 1) roll through registers.
@compute @workgroup_size(64)
fn weight_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let id = linear_id(gid, nwg);
  if (id >= S * CO_QUADS * CI_QUADS) { return; }
  let ci = id % CI_QUADS * 4u;
  let co = id / CI_QUADS % CO_QUADS * 4u;
  let s = id / (CI_QUADS * CO_QUADS);
  let seg = s % SEGS;
  var a0 = Pairs();
  var a1 = Pairs();
  var a2 = Pairs();
  var a3 = Pairs();
  var dsum = Row(); // \u03A3 dy of each output channel (as 4 lanes), for db
  for (var n = s / SEGS; n < N; n += S / SEGS) {
    var dp = DyRows();
    var dc = DyRows();
    var dn = DyRows();
    if (K == 3) { dn = dy_rows(n, co, 0u, seg); }
    for (var iy = 0u; iy < H; iy++) {
      if (K == 3) {
        dp = dc;
        dc = dn;
        dn = DyRows();
        if (iy + 1u < H) { dn = dy_rows(n, co, iy + 1u, seg); }
      } else {
        dc = dy_rows(n, co, iy, seg);
      }
      a0 = corr_pairs(a0, dn, dc, dp, x_taps(n, ci, iy, seg));
      a1 = corr_pairs(a1, dn, dc, dp, x_taps(n, ci + 1u, iy, seg));
      a2 = corr_pairs(a2, dn, dc, dp, x_taps(n, ci + 2u, iy, seg));
      a3 = corr_pairs(a3, dn, dc, dp, x_taps(n, ci + 3u, iy, seg));
      dsum = add_rows(dsum, Row(row_sum(dc.d0), row_sum(dc.d1), row_sum(dc.d2), row_sum(dc.d3)));
    }
  }
  store_pairs(a0, s, co, ci);
  store_pairs(a1, s, co, ci + 1u);
  store_pairs(a2, s, co, ci + 2u);
  store_pairs(a3, s, co, ci + 3u);
  if (ci == 0u) {
    let i = S * DWP + s * DBP + co;
    partial[i] = hsum(dsum.v0);
    if (co + 1u < COUT) { partial[i + 1u] = hsum(dsum.v1); }
    if (co + 2u < COUT) { partial[i + 2u] = hsum(dsum.v2); }
    if (co + 3u < COUT) { partial[i + 3u] = hsum(dsum.v3); }
  }
}

// ---- weight_grad_1x1 ----

/** vec4 partial sums of 8 channel pairs (one output channel \xD7 8 input channels), or 8 rows. */
struct Oct {
  a0: vec4f,
  a1: vec4f,
  a2: vec4f,
  a3: vec4f,
  a4: vec4f,
  a5: vec4f,
  a6: vec4f,
  a7: vec4f,
}

/** 16 \xD7 8 channel pairs: o_j holds output channel co + j with the 8 input channels. */
struct PairTile {
  o0: Oct,
  o1: Oct,
  o2: Oct,
  o3: Oct,
  o4: Oct,
  o5: Oct,
  o6: Oct,
  o7: Oct,
  o8: Oct,
  o9: Oct,
  o10: Oct,
  o11: Oct,
  o12: Oct,
  o13: Oct,
  o14: Oct,
  o15: Oct,
}

fn fma_oct(a: Oct, d: vec4f, x: Oct) -> Oct {
  return Oct(
    fma(d, x.a0, a.a0),
    fma(d, x.a1, a.a1),
    fma(d, x.a2, a.a2),
    fma(d, x.a3, a.a3),
    fma(d, x.a4, a.a4),
    fma(d, x.a5, a.a5),
    fma(d, x.a6, a.a6),
    fma(d, x.a7, a.a7),
  );
}

fn add_oct(a: Oct, b: Oct) -> Oct {
  return Oct(a.a0 + b.a0, a.a1 + b.a1, a.a2 + b.a2, a.a3 + b.a3,
    a.a4 + b.a4, a.a5 + b.a5, a.a6 + b.a6, a.a7 + b.a7);
}

/** 4 pixels of 8 consecutive channel planes of src; base indexes the first. */
fn src_oct(base: u32) -> Oct {
  return Oct(src[base + 0u * HW4], src[base + 1u * HW4], src[base + 2u * HW4], src[base + 3u * HW4],
    src[base + 4u * HW4], src[base + 5u * HW4], src[base + 6u * HW4], src[base + 7u * HW4]);
}

/** 4 pixels of 8 consecutive channel planes of grad_out; base indexes the first. */
fn grad_out_oct(base: u32) -> Oct {
  return Oct(grad_out[base + 0u * HW4], grad_out[base + 1u * HW4], grad_out[base + 2u * HW4], grad_out[base + 3u * HW4],
    grad_out[base + 4u * HW4], grad_out[base + 5u * HW4], grad_out[base + 6u * HW4], grad_out[base + 7u * HW4]);
}

// Adds the products of 4 pixels of dy (8 output channels from co + first) and x.
fn fma_pairs_lo(t: ptr<function, PairTile>, d: Oct, x: Oct) {
  (*t).o0 = fma_oct((*t).o0, d.a0, x);
  (*t).o1 = fma_oct((*t).o1, d.a1, x);
  (*t).o2 = fma_oct((*t).o2, d.a2, x);
  (*t).o3 = fma_oct((*t).o3, d.a3, x);
  (*t).o4 = fma_oct((*t).o4, d.a4, x);
  (*t).o5 = fma_oct((*t).o5, d.a5, x);
  (*t).o6 = fma_oct((*t).o6, d.a6, x);
  (*t).o7 = fma_oct((*t).o7, d.a7, x);
}

fn fma_pairs_hi(t: ptr<function, PairTile>, d: Oct, x: Oct) {
  (*t).o8 = fma_oct((*t).o8, d.a0, x);
  (*t).o9 = fma_oct((*t).o9, d.a1, x);
  (*t).o10 = fma_oct((*t).o10, d.a2, x);
  (*t).o11 = fma_oct((*t).o11, d.a3, x);
  (*t).o12 = fma_oct((*t).o12, d.a4, x);
  (*t).o13 = fma_oct((*t).o13, d.a5, x);
  (*t).o14 = fma_oct((*t).o14, d.a6, x);
  (*t).o15 = fma_oct((*t).o15, d.a7, x);
}

/** The horizontal sums of an Oct's 8 vec4s, to partial[i \u2026 i + 7]. */
fn store_hsums(o: Oct, i: u32) {
  partial[i + 0u] = hsum(o.a0);
  partial[i + 1u] = hsum(o.a1);
  partial[i + 2u] = hsum(o.a2);
  partial[i + 3u] = hsum(o.a3);
  partial[i + 4u] = hsum(o.a4);
  partial[i + 5u] = hsum(o.a5);
  partial[i + 6u] = hsum(o.a6);
  partial[i + 7u] = hsum(o.a7);
}

/** Writes split s's sums of output channel co with input channels ci \u2026 ci + 7. */
fn store_oct(a: Oct, s: u32, co: u32, ci: u32) {
  store_hsums(a, s * DWP + co * CIN + ci);
}

/** Writes split s's sums of a 16 \xD7 8 pair tile: output channels co \u2026, input channels ci \u2026. */
fn store_tile(t: ptr<function, PairTile>, s: u32, co: u32, ci: u32) {
  store_oct((*t).o0, s, co + 0u, ci);
  store_oct((*t).o1, s, co + 1u, ci);
  store_oct((*t).o2, s, co + 2u, ci);
  store_oct((*t).o3, s, co + 3u, ci);
  store_oct((*t).o4, s, co + 4u, ci);
  store_oct((*t).o5, s, co + 5u, ci);
  store_oct((*t).o6, s, co + 6u, ci);
  store_oct((*t).o7, s, co + 7u, ci);
  store_oct((*t).o8, s, co + 8u, ci);
  store_oct((*t).o9, s, co + 9u, ci);
  store_oct((*t).o10, s, co + 10u, ci);
  store_oct((*t).o11, s, co + 11u, ci);
  store_oct((*t).o12, s, co + 12u, ci);
  store_oct((*t).o13, s, co + 13u, ci);
  store_oct((*t).o14, s, co + 14u, ci);
  store_oct((*t).o15, s, co + 15u, ci);
}

// Invocation (s, ci tile, co tile) sums 16 \xD7 CI_TILE channel pairs over the pixels of the samples
// n \u2261 s (mod S); the ci tile 0 also sums dy for db. Neighbouring invocations share the ci tile.
// Each loaded dy oct meets 16 input channels where CI_TILE is 16 (u holds the second eight):
// 1.15\u20131.23\xD7 the 16 \xD7 8 tile's speed by CPU time (scripts/ab.ts --family "conv 1\xD71 dw").
@compute @workgroup_size(64)
fn weight_grad_1x1(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  // Tiles, declared here so that only this entry point's module needs CI_TILE. It runs only
  // when COUT % 16 = CIN % CI_TILE = 0; the floor of 1 keeps other shapes compiling, since WGSL
  // makes a division by a constant zero an error (Chromium enforces it).
  const CO_TILES = max(COUT / 16, 1);
  const CI_TILES = max(CIN / CI_TILE, 1);
  let id = linear_id(gid, nwg);
  if (id >= S * CO_TILES * CI_TILES) { return; }
  let co = id % CO_TILES * 16u;
  let ci = id / CO_TILES % CI_TILES * CI_TILE;
  let s = id / (CI_TILES * CO_TILES);
  var t = PairTile();
  var u = PairTile();
  var dlo = Oct();
  var dhi = Oct();
  for (var n = s; n < N; n += S) {
    let xb = (n * CIN + ci) * HW4;
    let db = (n * COUT + co) * HW4;
    for (var q = 0u; q < HW4; q++) {
      let x = src_oct(xb + q);
      var y = Oct();
      if (CI_TILE == 16) { y = src_oct(xb + 8u * HW4 + q); }
      let d0 = grad_out_oct(db + q);
      fma_pairs_lo(&t, d0, x);
      if (CI_TILE == 16) { fma_pairs_lo(&u, d0, y); }
      let d1 = grad_out_oct(db + 8u * HW4 + q);
      fma_pairs_hi(&t, d1, x);
      if (CI_TILE == 16) { fma_pairs_hi(&u, d1, y); }
      if (ci == 0u) {
        dlo = add_oct(dlo, d0);
        dhi = add_oct(dhi, d1);
      }
    }
  }
  store_tile(&t, s, co, ci);
  if (CI_TILE == 16) { store_tile(&u, s, co, ci + 8u); }
  if (ci == 0u) {
    store_hsums(dlo, S * DWP + s * DBP + co);
    store_hsums(dhi, S * DWP + s * DBP + co + 8u);
  }
}

@compute @workgroup_size(64)
fn weight_grad_reduce(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
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
`;var xe={name:"conv2d",code:qt},_e=64,ln=r=>r.isFallbackAdapter?16:_e,Mt=256,fn=32,Bt=r=>r.k===1&&r.n>=fn,pn=2048,hn=16,Q=16;function Dt(r,e){if(r.shape.length!==4||e.shape.length!==4)throw new RangeError(`conv2d: x [${r.shape}] and w [${e.shape}] must both be 4-D`);let[t,n,o,s]=r.shape,[a,i,c,u]=e.shape;if(i!==n||c!==u||c!==1&&c!==3)throw new RangeError(`conv2d: weight [${e.shape}] does not fit input [${r.shape}]`);if(s%4!==0)throw new RangeError(`conv2d: width ${s} is not a multiple of 4`);return{n:t,cin:n,cout:a,h:o,w:s,k:c}}function Ve(r){return!Bt(r)||r.w>=Q||r.h*r.w%Q!==0?r:{...r,h:r.h*r.w/Q,w:Q}}var Ht=r=>Math.ceil(r.w/Q);function mn(r){let e=Ve(r),t=e.k===1?1:e.h>=4?4:e.h>=2?2:1,n=a=>I(e.cout,a)/a*e.n*Math.ceil(e.h/t)*Ht(e),o=e.k===3&&e.w<8?8:16;for(;o>4&&(I(e.cout,4)%o!==0||n(o)<Mt);)o/=2;let s=e.h<=t&&e.n%2===0&&n(o)/2>=Mt?2:1;return{tn:o,rh:t,nb:s,invocations:n(o)/s}}function zt(r,e){let t=e.tile?.tn??4;return{N:r.n,H:r.h,W:r.w,K:r.k,CIN:r.cin,COUT:r.cout,TN:t,COUTP:I(r.cout,t),RH:e.tile?.rh??1,NB:e.tile?.nb??1,FLIP:e.flip??!1,BIAS:e.bias??!1,RESIDUAL:e.residual??!1,ACCUM:e.accum??!1,S:e.splits??1,WRAP_X:e.wrap?.x??!1,WRAP_Y:e.wrap?.y??!1}}function Gt(r,e,t){let n=Ve(t.s),o=mn(n),s=zt(n,{tile:o,flip:t.flip,bias:t.bias!==void 0,residual:t.residual!==void 0,accum:t.accum,wrap:t.wrap}),a=n.k*n.k,i=n.cin*a*I(n.cout,o.tn),c=r.scratch([i],`${t.weight.label}/packed`),u=[];u[5]=c,u[6]=t.weight,e.add(xe,"pack_weights",s,u,Math.ceil(i/4/_e));let l=[t.src,c,t.dst,t.bias,t.residual],d=ln(r.gpu.adapter),f=Bt(n)&&n.cin%4===0?4:1,w={...s,CIN:0,FLIP:!1,CONV_WG:d,CIN_STEP:f};r.add(xe,"conv",w,l,Math.ceil(o.invocations/d))}function q(r,e){let t=Dt(e.x,e.w);if(C(e.b,[t.cout],"conv2d bias"),C(e.y,[t.n,t.cout,t.h,t.w],"conv2d output"),e.residual&&C(e.residual,e.y.shape,"conv2d residual"),e.wrap?.x&&t.w>Q&&t.w%Q!==0)throw new RangeError(`conv2d: wrapping along x needs W \u2264 ${Q} or a multiple of it`);Gt(r,e.prepare??r,{s:t,weight:e.w,src:e.x,dst:e.y,bias:e.b,residual:e.residual,wrap:e.wrap})}function G(r,e){let t=Dt(e.x,e.w);if(C(e.dy,[t.n,t.cout,t.h,t.w],"conv2d output gradient"),C(e.dw,e.w.shape,"conv2d weight gradient"),C(e.db,[t.cout],"conv2d bias gradient"),e.dx){C(e.dx,e.x.shape,"conv2d input gradient");let n=e.accumulateDx??!1;Gt(r,r,{s:{...t,cin:t.cout,cout:t.cin},weight:e.w,src:e.dy,dst:e.dx,bias:n?void 0:r.scratch([t.cin],`${e.dx.label}/zero bias`),flip:!0,accum:n})}gn(r,Ve(t),e)}function gn(r,e,t){let n=e.k===1&&e.cin%8===0&&e.cout%16===0,o=e.cin%16===0?16:8,s=n?e.cout/16*(e.cin/o):Math.ceil(e.cout/4)*Math.ceil(e.cin/4),i=Math.max(1,Math.min(e.n,hn,Math.ceil(pn/s)))*(n?1:Ht(e)),c=zt(e,{splits:i}),u=I(e.cout*e.cin*e.k*e.k,4),l=I(e.cout,4),d=r.scratch([i*(u+l)],`${t.dw.label}/partial`),f=[t.x];f[7]=t.dy,f[8]=d;let w=n?"weight_grad_1x1":"weight_grad",h=n?{...c,CI_TILE:o}:c;r.add(xe,w,h,f,Math.ceil(i*s/_e));let _=[];_[9]=d,_[10]=t.dw,_[11]=t.db,r.add(xe,"weight_grad_reduce",c,_,Math.ceil((u+l)/4/_e))}var Ft=`// Label embedding added to a base vector (see lib/nn/embedding.ts):
//   forward:   y[n] = base[n] + table[labels[n]]
//   mixed:     y[n] = base[n] + \u03A3_k mix[n, k] \xB7 table[k]   (class mixing; sampling only)
//   backward:  dtable[k] = \u03A3_{n : labels[n] = k} dy[n]   (overwritten; absent labels get 0)
// Shapes: base, y, dy [N, E]; table, dtable [ROWS, E]; labels [N] u32 (each < ROWS);
//   mix [N, ROWS] f32 (each row's weights over the table rows).
// Constants: N, E (a multiple of 4), ROWS.
// Entry points and bindings (group 0; each entry point declares its own variables):
//   embed_add   0 base, 1 table, 2 labels, 3 y   N \xB7 E/4 invocations, one per vec4 of y
//   embed_grad  0 dy, 1 dtable, 2 labels         ROWS \xB7 E/4 invocations, one per vec4 of dtable
//   embed_mix   0 base, 1 table, 4 mix, 3 y      N \xB7 E/4 invocations, one per vec4 of y
// Both split their 1-D invocation index over x and y of the grid.

@group(0) @binding(0) var<storage, read> base: array<vec4f>;
@group(0) @binding(1) var<storage, read> table: array<vec4f>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;

@group(0) @binding(0) var<storage, read> dy: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dtable: array<vec4f>;

@group(0) @binding(4) var<storage, read> mix: array<f32>;

const E4 = E / 4;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

@compute @workgroup_size(64)
fn embed_add(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= N * E4) { return; }
  let n = i / E4;
  y[i] = base[i] + table[labels[n] * E4 + i % E4];
}

// A gather over the batch instead of a scatter from it: no atomics, and each sum runs in
// batch order, so the result is deterministic. Every invocation reads all N labels, which is
// cheap next to the rows it adds (ROWS is small).
@compute @workgroup_size(64)
fn embed_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= ROWS * E4) { return; }
  let row = i / E4;
  let col = i % E4;
  var acc = vec4f(0.0);
  for (var n = 0u; n < N; n++) {
    if (labels[n] == row) { acc += dy[n * E4 + col]; }
  }
  dtable[i] = acc;
}

// The table rows summed in row order, so a one-hot row of weights reproduces embed_add's value
// bit for bit (1\xB7v + 0\xB7u = v).
@compute @workgroup_size(64)
fn embed_mix(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= N * E4) { return; }
  let n = i / E4;
  var acc = vec4f(0.0);
  for (var k = 0u; k < ROWS; k++) { acc += mix[n * ROWS + k] * table[k * E4 + i % E4]; }
  y[i] = base[i] + acc;
}
`;var Xe={name:"embedding",code:Ft};function Kt(r,e,t){let[n,o]=r.shape,s=e.shape[0];if(r.shape.length!==2||!P(e,[s,o])||!P(t,[n])||o%4!==0)throw new RangeError(`embedding: rows [${r.shape}], table [${e.shape}], labels [${t.shape}]: expected [N, E], [K + 1, E], [N] with E a multiple of 4`);return{N:n,E:o,ROWS:s}}function Qt(r,e){let t=Kt(e.base,e.table,e.labels);if(!P(e.y,e.base.shape))throw new RangeError(`embedding: y [${e.y.shape}] differs from base [${e.base.shape}]`);let n=e.base.shape[0]*e.base.shape[1]/4;r.add(Xe,"embed_add",t,[e.base,e.table,e.labels,e.y],Math.ceil(n/64))}function Vt(r,e){let[t,n]=e.base.shape,o=e.table.shape[0];if(e.base.shape.length!==2||!P(e.table,[o,n])||!P(e.mix,[t,o])||!P(e.y,e.base.shape)||n%4!==0)throw new RangeError(`embedding: base [${e.base.shape}], table [${e.table.shape}], mix [${e.mix.shape}], y [${e.y.shape}]: expected [N, E], [K + 1, E], [N, K + 1], [N, E], E a multiple of 4`);let s=[e.base,e.table,void 0,e.y,e.mix];r.add(Xe,"embed_mix",{N:t,E:n,ROWS:o},s,Math.ceil(t*n/4/64))}function Xt(r,e){let t=Kt(e.dy,e.dtable,e.labels),n=e.dtable.shape[0]*e.dtable.shape[1]/4;r.add(Xe,"embed_grad",t,[e.dy,e.dtable,e.labels],Math.ceil(n/64))}var Jt=`// GroupNorm (PyTorch semantics: biased variance, eps 1e-5, affine) with fused extras:
//   y = act(GN(x)\xB7\u03B3 + \u03B2 + residual) + emb[n, c]      act = SiLU when SILU, else identity
// See lib/nn/groupnorm.ts. Each invocation owns a whole group (forward) or row (backward) and
// reads it as vec4s: no workgroup memory or barriers (2\xD7 slower on llvmpipe), and the forward's
// statistics and normalisation fit in one dispatch. The backward runs one invocation per row
// (n, c) of HW pixels, for more parallelism in its three passes.
//
// Bindings (group 0; each entry point uses a subset). An absent optional tensor is bound to
// another tensor of the same access and never touched.
//   0 x         [N, C, HW]  read        input
//   1 gamma     [C]         read        \u03B3
//   2 beta      [C]         read        \u03B2
//   3 residual  [N, C, HW]  read        added before the activation (when HAS_RES)
//   4 emb       [N, C]      read        added after the activation (when HAS_EMB)
//   5 dy        [N, C, HW]  read        gradient of y
//   6 stats     [N, G] vec2 read_write  (mean, rstd) per group: written forward, read backward
//   7 partials  [N, C] vec2 read_write  per-row sums \u03A3 du, \u03A3 du\xB7x\u0302
//   8 y         [N, C, HW]  read_write  forward output
//   9 dx        [N, C, HW]  read_write  dx = (ACCUM_DX ? dx : 0) + \u2202L/\u2202x
//  10 dres      [N, C, HW]  read_write  (ACCUM_DRES ? dres : 0) + \u2202L/\u2202residual (when HAS_RES)
//  11 demb      [N, C]      read_write  \u03A3_hw dy (when HAS_EMB)
//  12 dgamma    [C]         read_write  \u03A3_n,hw du\xB7x\u0302 (overwritten)
//  13 dbeta     [C]         read_write  \u03A3_n,hw du (overwritten)
//  14 gsums     [N, G] vec2 read_write  per group: mean of dx\u0302 and of dx\u0302\xB7x\u0302, where dx\u0302 = du\xB7\u03B3
// Constants: N, C, G (groups), CPG (channels per group), HW (pixels per channel, a multiple of 4),
//   SILU, HAS_RES, HAS_EMB, ACCUM_DX, ACCUM_DRES (booleans).
// Entry points (invocations; 64 per workgroup, the index may be split over x and y):
//   forward:  forward (N\xB7G)
//   backward: grad_rows (N\xB7C) \u2192 grad_reduce (C + N\xB7G) \u2192 grad_input (N\xB7C)
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
// With a SiLU and a residual, \u2202L/\u2202residual = du: grad_rows stores it in dres when dres is
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
// in a second. Sums are taken around the group's first value, which keeps \u03A3 x\xB2 \u2212 (\u03A3 x)\xB2/n free
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
    // GN(x)\xB7\u03B3 + \u03B2 = x\xB7scale + offset
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

// \u2202L/\u2202u for the pre-activation u = x\u0302\xB7\u03B3 + \u03B2 (+ residual[j]) given \u2202L/\u2202y = grad.
fn grad_pre_activation(grad: vec4f, j: u32, xhat: vec4f, g: f32, b: f32) -> vec4f {
  if (!SILU) { return grad; }
  var u = fma(xhat, vec4f(g), vec4f(b));
  if (HAS_RES) { u += residual[j]; }
  let s = sigmoid(u);
  return grad * s * fma(u, 1.0 - s, vec4f(1.0));
}

// Per row: \u03A3 du and \u03A3 du\xB7x\u0302 (for d\u03B3, d\u03B2 and the group means of dx), and demb = \u03A3 dy.
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

// Invocations [0, C): d\u03B3 and d\u03B2, reduced over the batch. Invocations [C, C + N\xB7G): the group
// means of dx\u0302 = du\xB7\u03B3 and of dx\u0302\xB7x\u0302 that dx needs.
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

// dx = rstd\xB7(dx\u0302 \u2212 mean(dx\u0302) \u2212 x\u0302\xB7mean(dx\u0302\xB7x\u0302)), dresidual = du.
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
`;var be={name:"groupnorm",code:Jt};function Yt(r){if(r.x.shape.length!==4)throw new RangeError(`groupnorm: x ${r.x.label} is not [N, C, H, W]`);let[e,t,n,o]=r.x.shape,{groups:s}=r;if(!(Number.isInteger(s)&&s>0&&t%s===0))throw new RangeError(`groupnorm: ${t} channels do not split into ${s} groups`);if(n*o%4!==0)throw new RangeError(`groupnorm: H\xB7W = ${n*o} is not a multiple of 4`);return C(r.gamma,[t],"groupnorm gamma"),C(r.beta,[t],"groupnorm beta"),C(r.stats,[e,s,2],"groupnorm stats"),r.residual&&C(r.residual,r.x.shape,"groupnorm residual"),{n:e,c:t,groups:s,hw:n*o}}function Je(r,e){return{N:r.n,C:r.c,G:r.groups,CPG:r.c/r.groups,HW:r.hw,SILU:e.silu,HAS_RES:e.residual,HAS_EMB:e.emb,ACCUM_DX:e.accumDx,ACCUM_DRES:e.accumDres}}var Zt={silu:!1,residual:!1,emb:!1,accumDx:!1,accumDres:!1},xn=["x","gamma","beta","residual","emb","dy","stats","partials","y","dx","dres","demb","dgamma","dbeta","gsums"];function ye(r){return xn.map(e=>r[e])}function ae(r,e){let t=Yt(e);C(e.y,e.x.shape,"groupnorm y"),e.emb&&C(e.emb,[t.n,t.c],"groupnorm emb");let n=Je(t,{...Zt,silu:e.silu,residual:!!e.residual,emb:!!e.emb});r.add(be,"forward",n,ye({x:e.x,gamma:e.gamma,beta:e.beta,residual:e.residual??e.x,emb:e.emb??e.gamma,stats:e.stats,y:e.y}),Math.ceil(t.n*t.groups/64))}function ie(r,e){let t=Yt(e);if(C(e.dy,e.x.shape,"groupnorm dy"),C(e.dx,e.x.shape,"groupnorm dx"),C(e.dgamma,[t.c],"groupnorm dgamma"),C(e.dbeta,[t.c],"groupnorm dbeta"),e.residual){if(!e.dresidual)throw new RangeError("groupnorm: dresidual is required with a residual");C(e.dresidual,e.x.shape,"groupnorm dresidual")}e.demb&&C(e.demb,[t.n,t.c],"groupnorm demb");let n=r.scratch([t.n,t.c,2],"groupnorm.grad_partials"),o=r.scratch([t.n,t.groups,2],"groupnorm.grad_group_means"),s=Je(t,{silu:e.silu,residual:!!e.residual,emb:!!e.demb,accumDx:!!e.accumulateDx,accumDres:!!e.accumulateDresidual}),a=Math.ceil(t.n*t.c/64),i={x:e.x,gamma:e.gamma,beta:e.beta,residual:e.residual??e.x,dy:e.dy,stats:e.stats};r.add(be,"grad_rows",s,ye({...i,partials:n,dres:e.dresidual??n,demb:e.demb??n}),a),r.add(be,"grad_reduce",Je(t,Zt),ye({gamma:e.gamma,partials:n,dgamma:e.dgamma,dbeta:e.dbeta,gsums:o}),Math.ceil((t.c+t.n*t.groups)/64)),r.add(be,"grad_input",s,ye({...i,gsums:o,dx:e.dx,dres:e.dresidual??e.dx}),a)}var er=`// Fully connected layer y = act(x W\u1D40 + b) and its gradients (see lib/nn/linear.ts).
// PyTorch nn.Linear layout: x [N, IN], w [OUT, IN], b [OUT], y [N, OUT]; act is SiLU or none.
//
// Constants: N (rows), IN (any), OUT (a multiple of 4), ACCUM (grad_input: dx += instead of dx =).
// Entry points and bindings (group 0). Each entry point declares its own variables, so a slot
// means different things in different entry points; no entry point uses two variables of one slot.
//   forward        0 x, 1 w, 2 b, 3 y                  y = x W\u1D40 + b
//   forward_silu   0 x, 1 w, 2 b, 3 y, 4 preact        preact = x W\u1D40 + b, y = SiLU(preact)
//   silu_grad      0 dy, 1 preact, 2 dz               dz = dy \xB7 SiLU'(preact)
//   grad_weight    0 x, 1 dw, 2 dz, 3 db              dw = dz\u1D40 x, db = \u03A3_n dz (both overwritten)
//   grad_input     0 dx, 1 w, 2 dz                    dx = (ACCUM ? dx : 0) + dz W
// dz is the gradient of the pre-activation: dy itself when there is no SiLU.
// Every invocation owns a 4 \xD7 4 tile of its output (4 rows \xD7 one vec4), reads its operands as
// vec4s and keeps the tile in named registers. All arrays are vec4 arrays; the IN axis is only
// 16-byte aligned per row when IN % 4 == 0, so the *_quad helpers fall back to element access
// otherwise (the first time-MLP layer, IN = 1). The 1-D invocation index is split over x and y.

@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> w: array<vec4f>;
@group(0) @binding(2) var<storage, read> b: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> preact: array<vec4f>;

@group(0) @binding(0) var<storage, read> dy: array<vec4f>;
@group(0) @binding(1) var<storage, read> z: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dz_out: array<vec4f>;

@group(0) @binding(1) var<storage, read_write> dw: array<vec4f>;
@group(0) @binding(2) var<storage, read> dz: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> db: array<vec4f>;

@group(0) @binding(0) var<storage, read_write> dx: array<vec4f>;

const OUT4 = OUT / 4;
// Quads (groups of 4 columns) per row of the IN axis; the last one is zero-padded past IN.
const IN4 = (IN + 3) / 4;
const ALIGNED = IN % 4 == 0;

fn thread_index(id: vec3u, groups: vec3u) -> u32 {
  return id.x + id.y * groups.x * 64u;
}

fn hsum(v: vec4f) -> f32 {
  return dot(v, vec4f(1.0));
}

// Columns k .. k+3 (k % 4 == 0) of row \`row\` of x; columns past IN read as 0.
fn x_quad(row: u32, k: u32) -> vec4f {
  if (ALIGNED) {
    return x[row * IN4 + k / 4u];
  }
  var q = vec4f(0.0);
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    q[j] = x[e / 4u][e % 4u];
  }
  return q;
}

// Columns k .. k+3 (k % 4 == 0) of row \`row\` of w; columns past IN read as 0.
fn w_quad(row: u32, k: u32) -> vec4f {
  if (ALIGNED) {
    return w[row * IN4 + k / 4u];
  }
  var q = vec4f(0.0);
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    q[j] = w[e / 4u][e % 4u];
  }
  return q;
}

// dw[row, k .. k+3] = v, dropping columns past IN.
fn store_dw(row: u32, k: u32, v: vec4f) {
  if (ALIGNED) {
    dw[row * IN4 + k / 4u] = v;
    return;
  }
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    dw[e / 4u][e % 4u] = v[j];
  }
}

// dx[row, k .. k+3] = (ACCUM ? dx : 0) + v, dropping columns past IN.
fn store_dx(row: u32, k: u32, v: vec4f) {
  if (ALIGNED) {
    let i = row * IN4 + k / 4u;
    dx[i] = select(v, dx[i] + v, ACCUM);
    return;
  }
  for (var j = 0u; j < 4u && k + j < IN; j++) {
    let e = row * IN + k + j;
    dx[e / 4u][e % 4u] = select(v[j], dx[e / 4u][e % 4u] + v[j], ACCUM);
  }
}

// x W\u1D40 + b for rows n0 .. n0+3 and outputs 4\xB7oq .. 4\xB7oq+3; column r of the result is row n0+r.
// Rows past N are computed from row N-1 (cheaper than masking loads); the caller drops them.
fn affine_tile(n0: u32, oq: u32) -> mat4x4f {
  let n1 = min(n0 + 1u, N - 1u);
  let n2 = min(n0 + 2u, N - 1u);
  let n3 = min(n0 + 3u, N - 1u);
  let o0 = oq * 4u;
  // a<r><s>: \u03A3_k over one lane of k mod 4 of x[n_r, k] w[o_s, k]; summed across lanes at the end.
  var a00 = vec4f(0.0); var a01 = vec4f(0.0); var a02 = vec4f(0.0); var a03 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0); var a12 = vec4f(0.0); var a13 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0); var a22 = vec4f(0.0); var a23 = vec4f(0.0);
  var a30 = vec4f(0.0); var a31 = vec4f(0.0); var a32 = vec4f(0.0); var a33 = vec4f(0.0);
  for (var k = 0u; k < IN; k += 4u) {
    let x0 = x_quad(n0, k); let x1 = x_quad(n1, k); let x2 = x_quad(n2, k); let x3 = x_quad(n3, k);
    let w0 = w_quad(o0, k); let w1 = w_quad(o0 + 1u, k);
    let w2 = w_quad(o0 + 2u, k); let w3 = w_quad(o0 + 3u, k);
    a00 = fma(x0, w0, a00); a01 = fma(x0, w1, a01); a02 = fma(x0, w2, a02); a03 = fma(x0, w3, a03);
    a10 = fma(x1, w0, a10); a11 = fma(x1, w1, a11); a12 = fma(x1, w2, a12); a13 = fma(x1, w3, a13);
    a20 = fma(x2, w0, a20); a21 = fma(x2, w1, a21); a22 = fma(x2, w2, a22); a23 = fma(x2, w3, a23);
    a30 = fma(x3, w0, a30); a31 = fma(x3, w1, a31); a32 = fma(x3, w2, a32); a33 = fma(x3, w3, a33);
  }
  let bias = b[oq];
  return mat4x4f(
    vec4f(hsum(a00), hsum(a01), hsum(a02), hsum(a03)) + bias,
    vec4f(hsum(a10), hsum(a11), hsum(a12), hsum(a13)) + bias,
    vec4f(hsum(a20), hsum(a21), hsum(a22), hsum(a23)) + bias,
    vec4f(hsum(a30), hsum(a31), hsum(a32), hsum(a33)) + bias,
  );
}

// preact[i] = v, y[i] = SiLU(v).
fn store_silu(i: u32, v: vec4f) {
  preact[i] = v;
  y[i] = v / (1.0 + exp(-v));
}

// One invocation per (4 rows, 4 outputs): ceil(N / 4) \xB7 OUT4 invocations, outputs fastest.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= (N + 3u) / 4u * OUT4) { return; }
  let oq = t % OUT4;
  let n0 = t / OUT4 * 4u;
  let tile = affine_tile(n0, oq);
  let i = n0 * OUT4 + oq;
  y[i] = tile[0];
  if (n0 + 1u < N) { y[i + OUT4] = tile[1]; }
  if (n0 + 2u < N) { y[i + 2u * OUT4] = tile[2]; }
  if (n0 + 3u < N) { y[i + 3u * OUT4] = tile[3]; }
}

@compute @workgroup_size(64)
fn forward_silu(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= (N + 3u) / 4u * OUT4) { return; }
  let oq = t % OUT4;
  let n0 = t / OUT4 * 4u;
  let tile = affine_tile(n0, oq);
  let i = n0 * OUT4 + oq;
  store_silu(i, tile[0]);
  if (n0 + 1u < N) { store_silu(i + OUT4, tile[1]); }
  if (n0 + 2u < N) { store_silu(i + 2u * OUT4, tile[2]); }
  if (n0 + 3u < N) { store_silu(i + 3u * OUT4, tile[3]); }
}

// One invocation per vec4 of dz: N \xB7 OUT4 invocations.
@compute @workgroup_size(64)
fn silu_grad(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = thread_index(id, groups);
  if (i >= N * OUT4) { return; }
  let v = z[i];
  let s = 1.0 / (1.0 + exp(-v));
  // d/dv [v \u03C3(v)] = \u03C3(v) (1 + v (1 \u2212 \u03C3(v)))
  dz_out[i] = dy[i] * s * (1.0 + v * (1.0 - s));
}

// One invocation per (4 outputs, 4 inputs) of dw: OUT4 \xB7 IN4 invocations, inputs fastest.
// Outer products over the N rows; the invocations of input quad 0 also write db.
@compute @workgroup_size(64)
fn grad_weight(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= OUT4 * IN4) { return; }
  let k = t % IN4 * 4u;
  let oq = t / IN4;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var bias = vec4f(0.0);
  for (var n = 0u; n < N; n++) {
    let g = dz[n * OUT4 + oq];
    let xq = x_quad(n, k);
    c0 = fma(vec4f(g.x), xq, c0);
    c1 = fma(vec4f(g.y), xq, c1);
    c2 = fma(vec4f(g.z), xq, c2);
    c3 = fma(vec4f(g.w), xq, c3);
    bias += g;
  }
  let o0 = oq * 4u;
  store_dw(o0, k, c0);
  store_dw(o0 + 1u, k, c1);
  store_dw(o0 + 2u, k, c2);
  store_dw(o0 + 3u, k, c3);
  if (k == 0u) { db[oq] = bias; }
}

// One invocation per (4 rows, 4 inputs) of dx: ceil(N / 4) \xB7 IN4 invocations, inputs fastest.
@compute @workgroup_size(64)
fn grad_input(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let t = thread_index(id, groups);
  if (t >= (N + 3u) / 4u * IN4) { return; }
  let k = t % IN4 * 4u;
  let n0 = t / IN4 * 4u;
  let n1 = min(n0 + 1u, N - 1u);
  let n2 = min(n0 + 2u, N - 1u);
  let n3 = min(n0 + 3u, N - 1u);
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var oq = 0u; oq < OUT4; oq++) {
    let g0 = dz[n0 * OUT4 + oq]; let g1 = dz[n1 * OUT4 + oq];
    let g2 = dz[n2 * OUT4 + oq]; let g3 = dz[n3 * OUT4 + oq];
    let o0 = oq * 4u;
    let w0 = w_quad(o0, k); let w1 = w_quad(o0 + 1u, k);
    let w2 = w_quad(o0 + 2u, k); let w3 = w_quad(o0 + 3u, k);
    c0 = fma(vec4f(g0.x), w0, fma(vec4f(g0.y), w1, fma(vec4f(g0.z), w2, fma(vec4f(g0.w), w3, c0))));
    c1 = fma(vec4f(g1.x), w0, fma(vec4f(g1.y), w1, fma(vec4f(g1.z), w2, fma(vec4f(g1.w), w3, c1))));
    c2 = fma(vec4f(g2.x), w0, fma(vec4f(g2.y), w1, fma(vec4f(g2.z), w2, fma(vec4f(g2.w), w3, c2))));
    c3 = fma(vec4f(g3.x), w0, fma(vec4f(g3.y), w1, fma(vec4f(g3.z), w2, fma(vec4f(g3.w), w3, c3))));
  }
  store_dx(n0, k, c0);
  if (n0 + 1u < N) { store_dx(n0 + 1u, k, c1); }
  if (n0 + 2u < N) { store_dx(n0 + 2u, k, c2); }
  if (n0 + 3u < N) { store_dx(n0 + 3u, k, c3); }
}
`;var ce={name:"linear",code:er};function tr(r,e,t,n){if(r.shape.length!==2||e.shape.length!==2)throw new RangeError(`linear: x [${r.shape}] and w [${e.shape}] must be matrices`);let[o,s]=r.shape,a=e.shape[0];if(C(e,[a,s],"linear w"),a%4!==0)throw new RangeError(`linear: Out = ${a} must be a multiple of 4`);if(t){if(!n)throw new Error("linear: silu needs the preact tensor");C(n,[o,a],"linear preact")}return{n:o,inF:s,out:a}}var Ye=({n:r,inF:e,out:t},n)=>({N:r,IN:e,OUT:t,ACCUM:n}),ke=r=>Math.ceil(r/64);function Se(r,e){let t=tr(e.x,e.w,e.silu,e.preact);C(e.b,[t.out],"linear b"),C(e.y,[t.n,t.out],"linear y");let n=ke(Math.ceil(t.n/4)*(t.out/4)),o=Ye(t,!1);e.silu?r.add(ce,"forward_silu",o,[e.x,e.w,e.b,e.y,e.preact],n):r.add(ce,"forward",o,[e.x,e.w,e.b,e.y],n)}function Ce(r,e){let t=tr(e.x,e.w,e.silu,e.preact);C(e.dy,[t.n,t.out],"linear dy"),C(e.dw,[t.out,t.inF],"linear dw"),C(e.db,[t.out],"linear db");let n=Ye(t,!1),o=Math.ceil(t.inF/4),s=e.dy;if(e.silu&&(s=r.scratch([t.n,t.out],`${e.dy.label}.dz`),r.add(ce,"silu_grad",n,[e.dy,e.preact,s],ke(t.n*t.out/4))),r.add(ce,"grad_weight",n,[e.x,e.dw,s,e.db],ke(t.out/4*o)),e.dx){C(e.dx,[t.n,t.inF],"linear dx");let a=Ye(t,e.accumulateDx??!1),i=ke(Math.ceil(t.n/4)*o);r.add(ce,"grad_input",a,[e.dx,e.w,s],i)}}var rr=`// 2\xD72 resampling (average pool, nearest upsample and their gradients), channel concat and
// dst += src, all NCHW f32 read and written as vec4s (see lib/nn/resample.ts).
//
// Bindings (group 0; each entry point uses two or three):
//   0 src   read        input
//   1 dst   read_write  output, or for concat_split the first output
//   2 src2  read        concat: the second input
//   3 dst2  read_write  concat_split: the second output
// Constants:
//   THREADS   invocations that do work (64 per workgroup, the index may be split over x and y)
//   QUADS     vec4s per row of the large image (W/4; W a multiple of 4)
//   SCALE     factor applied to every output value
//   ACCUM     dst = (ACCUM ? dst : 0) + value; ACCUM_B likewise for dst2
//   A_QUADS, B_QUADS  vec4s per sample of the first and second concat part (Ca\xB7H\xB7W/4, Cb\xB7H\xB7W/4)
// Entry points (one invocation per THREADS unit):
//   down          per 2 rows \xD7 4 columns of src (large): dst (small, vec2) = SCALE\xB7\u03A3 2\xD72
//   up            per 2 rows \xD7 4 columns of dst (large): each value = SCALE\xB7src (small, vec2)
//   concat        per vec4 of dst: dst[n] = [src[n], src2[n]] along channels
//   concat_split  per vec4 of src: the inverse of concat, into dst and dst2
//   add           per vec4: dst += src

@group(0) @binding(0) var<storage, read> src: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4f>;
@group(0) @binding(2) var<storage, read> src2: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dst2: array<vec4f>;

// The small image viewed as vec2s: 2 columns of the small image per 4 of the large one.
@group(0) @binding(0) var<storage, read> src_small: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> dst_small: array<vec2f>;

fn invocation(id: vec3u, nwg: vec3u) -> u32 {
  return id.x + id.y * nwg.x * 64u;
}

// Invocation t covers small vec2 t; its pair of large rows starts at vec4 2\xB7(t / QUADS)\xB7QUADS.
fn large_index(t: u32) -> u32 {
  return 2u * t - t % QUADS;
}

@compute @workgroup_size(64)
fn down(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let i = large_index(t);
  let top = src[i];
  let bottom = src[i + QUADS];
  var v = SCALE * (top.xz + top.yw + bottom.xz + bottom.yw);
  if (ACCUM) { v += dst_small[t]; }
  dst_small[t] = v;
}

@compute @workgroup_size(64)
fn up(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let i = large_index(t);
  var v = SCALE * src_small[t].xxyy;
  var top = v;
  var bottom = v;
  if (ACCUM) {
    top += dst[i];
    bottom += dst[i + QUADS];
  }
  dst[i] = top;
  dst[i + QUADS] = bottom;
}

@compute @workgroup_size(64)
fn concat(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let n = t / (A_QUADS + B_QUADS);
  let k = t % (A_QUADS + B_QUADS);
  if (k < A_QUADS) {
    dst[t] = src[n * A_QUADS + k];
  } else {
    dst[t] = src2[n * B_QUADS + k - A_QUADS];
  }
}

@compute @workgroup_size(64)
fn concat_split(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  let n = t / (A_QUADS + B_QUADS);
  let k = t % (A_QUADS + B_QUADS);
  var v = src[t];
  if (k < A_QUADS) {
    let j = n * A_QUADS + k;
    if (ACCUM) { v += dst[j]; }
    dst[j] = v;
  } else {
    let j = n * B_QUADS + k - A_QUADS;
    if (ACCUM_B) { v += dst2[j]; }
    dst2[j] = v;
  }
}

@compute @workgroup_size(64)
fn add(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = invocation(id, nwg);
  if (t >= THREADS) { return; }
  dst[t] += src[t];
}
`;var yn={name:"resample",code:rr},kn={QUADS:1,SCALE:1,ACCUM:!1,ACCUM_B:!1,A_QUADS:1,B_QUADS:1};function X(r,e,t,n){r.add(yn,e,{...kn,...t},n,Math.ceil(t.THREADS/64))}function ue(r,...e){throw new RangeError(`${r}: ${e.map(t=>`${t.label} [${t.shape}]`).join(", ")}`)}function Ee(r,e,t,n){let[o,s,a,i]=r.shape,c=e.shape;return(r.shape.length!==4||c.length!==4||c[0]!==o||c[1]!==s||c[2]*2!==a||c[3]*2!==i)&&ue("resample: shapes are not [N, C, H, W] and [N, C, H/2, W/2]",r,e),i%4!==0&&ue("resample: W of the large image must be a multiple of 4",r),{THREADS:j(e)/2,QUADS:i/4,SCALE:t,ACCUM:n}}function nr(r,e){X(r,"down",Ee(e.x,e.y,.25,!1),[e.x,e.y])}function or(r,e){X(r,"up",Ee(e.dx,e.dy,.25,!!e.accumulate),[e.dy,e.dx])}function sr(r,e){X(r,"up",Ee(e.y,e.x,1,!1),[e.x,e.y])}function ar(r,e){X(r,"down",Ee(e.dy,e.dx,1,!!e.accumulate),[e.dy,e.dx])}function ir(r,e,t){let[n,o,s,a]=r.shape,i=e.shape,c=t.shape;return r.shape.length===4&&i.length===4&&c.length===4&&i[0]===n&&i[2]===s&&i[3]===a&&c[0]===n&&c[1]===o+i[1]&&c[2]===s&&c[3]===a||ue("concat: shapes are not [N, Ca, H, W], [N, Cb, H, W] and [N, Ca+Cb, H, W]",r,e,t),s*a%4!==0&&ue("concat: H\xB7W must be a multiple of 4",r),{THREADS:j(t)/4,A_QUADS:o*s*a/4,B_QUADS:i[1]*s*a/4}}function cr(r,e){X(r,"concat",ir(e.a,e.b,e.y),[e.a,e.y,e.b])}function ur(r,e){let t={...ir(e.da,e.db,e.dy),ACCUM:!!e.accumulateA,ACCUM_B:!!e.accumulateB};X(r,"concat_split",t,[e.dy,e.da,void 0,e.db])}function dr(r,e){let t=j(e.dst);(j(e.src)!==t||t%4!==0)&&ue("addInto: sizes differ or are not a multiple of 4",e.dst,e.src),X(r,"add",{THREADS:t/4},[e.src,e.dst])}var Ze=class{alloc;#e;#t;constructor(e){this.alloc=e,this.#e=new Map,this.#t=new Set}take(e){let t=this.#e.get(e);t||(t=this.alloc(e.shape,`d${e.label}`),this.#e.set(e,t));let n=this.#t.has(e);return this.#t.add(e),[t,n]}get(e){let t=this.#e.get(e);if(!t||!this.#t.has(e))throw new Error(`gradient of ${e.label} read before it was written`);return t}},$e=class{gpu;config;store;batch;x;tfrac;labels;mix;eps;forward;#e;#t;#n;#r;#o;#a;#p;#h;prepare;constructor(e,t,n,o,{staticWeights:s=!1,classMix:a=!1,wrap:i}={}){this.gpu=e,this.config=t,this.store=n,this.batch=o,this.#e=[],this.#o=null;let c=o,u=16,l=Ge(t);this.#a=new we(e);let d=(x,m)=>this.#a.create(x,m),f=new L(e,"unet.forward");this.forward=f,this.prepare=new L(e,"unet.prepare"),this.#p=s?this.prepare:f,this.#h=i,this.x=d([c,t.in_ch,u,u],"x"),this.tfrac=d([c,1],"tfrac"),this.labels=d([c],"labels"),this.mix=a?d([c,t.num_classes+1],"mix"):null,this.#t={t0Pre:d([c,l],"t0pre"),t0:d([c,l],"t0"),t1:d([c,l],"t1"),emb:d([c,l],"emb")};let w=this.#t;Se(f,{...this.#f("time_mlp.0"),x:this.tfrac,y:w.t0,silu:!0,preact:w.t0Pre}),Se(f,{...this.#f("time_mlp.2"),x:w.t0,y:w.t1,silu:!1});let h=this.#i("label_emb.weight");this.mix?Vt(f,{base:w.t1,table:h,mix:this.mix,y:w.emb}):Qt(f,{base:w.t1,table:h,labels:this.labels,y:w.emb});let _=oe(t);this.#n=d([c,_.downs[0].blocks[0].inCh,u,u],"init"),q(f,{...this.#u("init_conv"),x:this.x,y:this.#n});let p=this.#n,v=u,g=[];_.downs.forEach((x,m)=>{for(let b of x.blocks)p=this.#g(f,b,p,v);if(x.attn&&(p=this.#w(f,x.attn,p)),g.push(p),m<_.downs.length-1){v/=2;let b=d([c,x.ch,v,v],`pool${m}`);nr(f,{x:p,y:b}),this.#e.push({kind:"pool",x:p,y:b}),p=b}}),p=this.#g(f,_.mid.block1,p,v),p=this.#w(f,_.mid.attn,p),p=this.#g(f,_.mid.block2,p,v),_.ups.forEach((x,m)=>{if(m>0){v*=2;let y=d([c,p.shape[1],v,v],`up${m}`);sr(f,{x:p,y}),this.#e.push({kind:"up",x:p,y}),p=y}let b=g.pop(),S=d([c,p.shape[1]+x.skipCh,v,v],`cat${m}`);cr(f,{a:p,b,y:S}),this.#e.push({kind:"concat",a:p,b,y:S}),p=S;for(let y of x.blocks)p=this.#g(f,y,p,v);x.attn&&(p=this.#w(f,x.attn,p))}),this.#r={x:p,stats:d([c,8,2],"out.stats"),y:d(p.shape.slice(),"out.norm")},ae(f,{...this.#l("out_conv.0"),x:p,stats:this.#r.stats,y:this.#r.y,groups:8,silu:!0}),this.eps=d([c,t.in_ch,u,u],"eps"),q(f,{...this.#u("out_conv.2"),x:this.#r.y,y:this.eps})}get backward(){if(this.mix||this.#h)throw new Error("a class-mixing or wrapping UNet has no backward");return this.#o??=this.#v(),this.#o}destroy(){this.forward.destroy(),this.prepare.destroy(),this.#o?.program.destroy(),this.#a.destroy()}#i(e){return this.store.view(e)}#s(e){return this.store.view(e,"grad")}#f(e){return{w:this.#i(`${e}.weight`),b:this.#i(`${e}.bias`)}}#c(e){let t=this.#i(`${e}.weight`);return{w:t.shape.length===3?se(t,[...t.shape,1]):t,b:this.#i(`${e}.bias`)}}#u(e){return{...this.#c(e),prepare:this.#p,wrap:this.#h}}#d(e){let t=this.#s(`${e}.weight`);return{dw:t.shape.length===3?se(t,[...t.shape,1]):t,db:this.#s(`${e}.bias`)}}#l(e){return{gamma:this.#i(`${e}.weight`),beta:this.#i(`${e}.bias`)}}#m(e){return{dgamma:this.#s(`${e}.weight`),dbeta:this.#s(`${e}.bias`)}}#g(e,t,n,o){let s=this.batch,{prefix:a,outCh:i}=t,c=(l,d)=>this.#a.create(l,`${a}.${d}`),u={spec:t,x:n,tembPre:c([s,i],"tembPre"),temb:c([s,i],"temb"),y1:c([s,i,o,o],"y1"),stats1:c([s,8,2],"stats1"),h:c([s,i,o,o],"h"),y2:c([s,i,o,o],"y2"),stats2:c([s,8,2],"stats2"),skip:t.inCh!==i?c([s,i,o,o],"skip"):null,out:c([s,i,o,o],"out")};return Se(e,{...this.#f(`${a}.time_mlp.0`),x:this.#t.emb,y:u.temb,silu:!0,preact:u.tembPre}),q(e,{...this.#u(`${a}.conv1`),x:n,y:u.y1}),ae(e,{...this.#l(`${a}.norm1`),x:u.y1,stats:u.stats1,y:u.h,groups:8,silu:!0,emb:u.temb}),q(e,{...this.#u(`${a}.conv2`),x:u.h,y:u.y2}),u.skip&&q(e,{...this.#u(`${a}.skip`),x:n,y:u.skip}),ae(e,{...this.#l(`${a}.norm2`),x:u.y2,stats:u.stats2,y:u.out,groups:8,silu:!0,residual:u.skip??n}),this.#e.push({kind:"res",acts:u}),u.out}#w(e,t,n){let[o,s,a,i]=n.shape,c=(f,w)=>this.#a.create(f,`${t}.${w}`),u=a*i,l={prefix:t,x:n,stats:c([o,8,2],"stats"),normed:c([o,s,a,i],"normed"),q:c([o,s,a,i],"q"),k:c([o,s,a,i],"k"),v:c([o,s,a,i],"v"),p:c([o,u,u],"p"),o:c([o,s,a,i],"o"),out:c([o,s,a,i],"out")};ae(e,{...this.#l(`${t}.norm`),x:n,stats:l.stats,y:l.normed,groups:8,silu:!1}),q(e,{...this.#u(`${t}.q`),x:l.normed,y:l.q}),q(e,{...this.#u(`${t}.k`),x:l.normed,y:l.k}),q(e,{...this.#u(`${t}.v`),x:l.normed,y:l.v});let d=f=>se(f,[o,s,u]);return Wt(e,{q:d(l.q),k:d(l.k),v:d(l.v),o:d(l.o),p:l.p}),q(e,{...this.#u(`${t}.proj_out`),x:l.o,y:l.out,residual:n}),this.#e.push({kind:"attn",acts:l}),l.out}#v(){let e=new L(this.gpu,"unet.backward"),t=new Ze((d,f)=>this.#a.create(d,f)),n=this.#a.create(this.eps.shape,"deps"),[o]=t.take(this.#r.y);G(e,{...this.#c("out_conv.2"),...this.#d("out_conv.2"),x:this.#r.y,dy:n,dx:o});let s=this.#r.x,[a,i]=t.take(s);ie(e,{...this.#l("out_conv.0"),...this.#m("out_conv.0"),x:s,stats:this.#r.stats,groups:8,silu:!0,dy:o,dx:a,accumulateDx:i});for(let d=this.#e.length-1;d>=0;d--){let f=this.#e[d];switch(f.kind){case"res":this.#x(e,t,f.acts);break;case"attn":this.#_(e,t,f.acts);break;case"pool":{let[w,h]=t.take(f.x);or(e,{dy:t.get(f.y),dx:w,accumulate:h});break}case"up":{let[w,h]=t.take(f.x);ar(e,{dy:t.get(f.y),dx:w,accumulate:h});break}case"concat":{let[w,h]=t.take(f.a),[_,p]=t.take(f.b);ur(e,{dy:t.get(f.y),da:w,db:_,accumulateA:h,accumulateB:p});break}}}G(e,{...this.#c("init_conv"),...this.#d("init_conv"),x:this.x,dy:t.get(this.#n)});let c=this.#t,u=t.get(c.emb);Xt(e,{dy:u,labels:this.labels,dtable:this.#s("label_emb.weight")});let[l]=t.take(c.t0);return Ce(e,{...this.#f("time_mlp.2"),dw:this.#s("time_mlp.2.weight"),db:this.#s("time_mlp.2.bias"),x:c.t0,silu:!1,dy:u,dx:l}),Ce(e,{...this.#f("time_mlp.0"),dw:this.#s("time_mlp.0.weight"),db:this.#s("time_mlp.0.bias"),x:this.tfrac,silu:!0,preact:c.t0Pre,dy:l}),{program:e,deps:n}}#x(e,t,n){let o=n.spec.prefix,s=g=>this.#a.create(g.shape,`d${g.label}`),a=t.get(n.out),i=s(n.y2),c=n.skip?s(n.skip):null,[u,l]=c?[c,!1]:t.take(n.x);if(ie(e,{...this.#l(`${o}.norm2`),...this.#m(`${o}.norm2`),x:n.y2,stats:n.stats2,groups:8,silu:!0,residual:n.skip??n.x,dy:a,dx:i,dresidual:u,accumulateDresidual:l}),n.skip&&c){let[g,x]=t.take(n.x);G(e,{...this.#c(`${o}.skip`),...this.#d(`${o}.skip`),x:n.x,dy:c,dx:g,accumulateDx:x})}let d=s(n.h);G(e,{...this.#c(`${o}.conv2`),...this.#d(`${o}.conv2`),x:n.h,dy:i,dx:d});let f=s(n.y1),w=s(n.temb);ie(e,{...this.#l(`${o}.norm1`),...this.#m(`${o}.norm1`),x:n.y1,stats:n.stats1,groups:8,silu:!0,dy:d,dx:f,demb:w});let[h,_]=t.take(n.x);G(e,{...this.#c(`${o}.conv1`),...this.#d(`${o}.conv1`),x:n.x,dy:f,dx:h,accumulateDx:_});let[p,v]=t.take(this.#t.emb);Ce(e,{...this.#f(`${o}.time_mlp.0`),dw:this.#s(`${o}.time_mlp.0.weight`),db:this.#s(`${o}.time_mlp.0.bias`),x:this.#t.emb,silu:!0,preact:n.tembPre,dy:w,dx:p,accumulateDx:v})}#_(e,t,n){let o=n.prefix,[s,a,i,c]=n.x.shape,u=i*c,l=m=>this.#a.create(m.shape,`d${m.label}`),d=t.get(n.out),f=l(n.o);G(e,{...this.#c(`${o}.proj_out`),...this.#d(`${o}.proj_out`),x:n.o,dy:d,dx:f});let w=l(n.q),h=l(n.k),_=l(n.v),p=m=>se(m,[s,a,u]);jt(e,{q:p(n.q),k:p(n.k),v:p(n.v),p:n.p,dout:p(f),dq:p(w),dk:p(h),dv:p(_)});let v=l(n.normed);G(e,{...this.#c(`${o}.q`),...this.#d(`${o}.q`),x:n.normed,dy:w,dx:v});for(let m of["k","v"]){let b=m==="k"?h:_;G(e,{...this.#c(`${o}.${m}`),...this.#d(`${o}.${m}`),x:n.normed,dy:b,dx:v,accumulateDx:!0})}let[g,x]=t.take(n.x);ie(e,{...this.#l(`${o}.norm`),...this.#m(`${o}.norm`),x:n.x,stats:n.stats,groups:8,silu:!1,dy:v,dx:g,accumulateDx:x}),dr(e,{dst:g,src:d})}};var $=class extends Error{constructor(e){super(e),this.name=new.target.name}};var Ne=class extends Error{name="SafetensorsError"},pr={F32:4,F16:2,BF16:2,I32:4,I64:8,U8:1},Sn=1e8,Cn=r=>typeof r=="string"&&Object.hasOwn(pr,r),lr=r=>Number.isSafeInteger(r)&&r>=0,et=r=>typeof r=="object"&&r!==null&&!Array.isArray(r);function hr(r,e){function t(h){throw new Ne(`${e}: ${h}`)}r.length<8&&t(`not a safetensors file (${r.length} bytes, too short for a header)`);let o=new DataView(r.buffer,r.byteOffset,r.byteLength).getBigUint64(0,!0);(o<2n||o>BigInt(Sn))&&t(`not a safetensors file (header length ${o} is absurd)`),o>BigInt(r.length-8)&&t(`truncated: the header needs ${o} bytes, the file has ${r.length-8}`);let s=8+Number(o),a;try{a=JSON.parse(new TextDecoder("utf-8",{fatal:!0}).decode(r.subarray(8,s)))}catch(h){t(`not a safetensors file (header is not valid JSON: ${h.message})`)}et(a)||t("not a safetensors file (header is not a JSON object)");let i={},c=a.__metadata__??{};et(c)||t("__metadata__ is not an object");for(let[h,_]of Object.entries(c))typeof _!="string"&&t(`__metadata__.${h} is not a string`),i[h]=_;let u=r.length-s,l=[],d=new Map;for(let[h,_]of Object.entries(a)){if(h==="__metadata__")continue;et(_)||t(`tensor ${h}: entry is not an object`);let{dtype:p,shape:v,data_offsets:g}=_;Cn(p)||t(`tensor ${h}: unknown dtype ${JSON.stringify(p)}`),(!Array.isArray(v)||!v.every(lr))&&t(`tensor ${h}: shape ${JSON.stringify(v)} is not a list of sizes`),(!Array.isArray(g)||g.length!==2||!g.every(lr))&&t(`tensor ${h}: data_offsets ${JSON.stringify(g)} is not [begin, end]`);let[x,m]=g;x>m&&t(`tensor ${h}: data_offsets [${x}, ${m}] are out of order`);let b=v.reduce((S,y)=>S*y,1)*pr[p];m-x!==b&&t(`tensor ${h}: data_offsets [${x}, ${m}] span ${m-x} bytes, but ${p} ${JSON.stringify(v)} needs ${b}`),m>u&&t(`truncated: tensor ${h} ends at data byte ${m}, but the file has ${u} data bytes`),l.push({name:h,begin:x,end:m}),d.set(h,{dtype:p,shape:v,bytes:r.subarray(s+x,s+m)})}l.sort((h,_)=>h.begin-_.begin||h.end-_.end);let f=0,w="";for(let{name:h,begin:_,end:p}of l)_<f&&t(`tensor ${h} overlaps ${w} (data bytes ${_} < ${f})`),_>f&&t(`data bytes ${f}..${_} before tensor ${h} belong to no tensor`),f=p,w=`tensor ${h}`;return f!==u&&t(`${u-f} bytes after the last tensor belong to no tensor`),{tensors:d,metadata:i}}var fr=r=>r.bytes.slice().buffer;function mr(r){switch(r.dtype){case"F32":return new Float32Array(fr(r));case"F16":{let e=new Uint16Array(fr(r)),t=En(),n=new Float32Array(e.length);for(let o=0;o<e.length;o++)n[o]=t[e[o]];return n}case"BF16":{let e=new Uint32Array(r.bytes.length/2);for(let t=0;t<e.length;t++)e[t]=(r.bytes[2*t]|r.bytes[2*t+1]<<8)<<16;return new Float32Array(e.buffer)}default:throw new Ne(`a tensor of dtype ${r.dtype} is not floating point`)}}var de;function En(){if(!de){de=new Float32Array(65536);for(let r=0;r<de.length;r++)de[r]=$n(r)}return de}function $n(r){let e=r&32768?-1:1,t=r>>10&31,n=r&1023;return t===0?e*n*2**-24:t===31?n?NaN:e*(1/0):e*(1+n/1024)*2**(t-15)}var Ae=class{entries;#e=new Map;size;count;constructor(e){let t=0,n=[];for(let o of e){if(this.#e.has(o.name))throw new Error(`duplicate parameter name ${o.name}`);let s={...o,offset:t};n.push(s),this.#e.set(o.name,s),t=I(t+O(o.shape))}this.entries=n,this.size=Math.max(t,64),this.count=e.reduce((o,s)=>o+O(s.shape),0)}get(e){let t=this.#e.get(e);if(!t)throw new Error(`no parameter named ${e}`);return t}has(e){return this.#e.has(e)}},Re=class r{gpu;layout;#e;constructor(e,t,n){this.gpu=e,this.layout=t;let o=t.size*4;if(o>e.maxBinding)throw new RangeError(`parameters need ${o} bytes, over maxStorageBufferBindingSize ${e.maxBinding}`);this.#e=n??new Map}buffer(e){let t=this.#e.get(e);return t||(t=this.gpu.device.createBuffer({label:e,size:this.layout.size*4,usage:Ke}),this.#e.set(e,t)),t}asParams(e){let t=new Map(this.#e);return t.set("param",this.buffer(e)),new r(this.gpu,this.layout,t)}view(e,t="param"){let n=this.layout.get(e);return{buffer:this.buffer(t),offset:n.offset,shape:n.shape,label:`${t}:${e}`}}flat(e){return{buffer:this.buffer(e),offset:0,shape:[this.layout.size],label:e}}destroy(){for(let e of this.#e.values())e.destroy();this.#e.clear()}};var Ie=class extends ${};function Nn(r){return r<=.04045?r/12.92:((r+.055)/1.055)**2.4}function An(r){return r<=.0031308?12.92*r:1.055*r**(1/2.4)-.055}var tt=Float64Array.from({length:256},(r,e)=>Nn(e/255));function Rn(r,e,t){let n=Math.cbrt(.4122214708*r+.5363325363*e+.0514459929*t),o=Math.cbrt(.2119034982*r+.6806995451*e+.1073969566*t),s=Math.cbrt(.0883024619*r+.2817188376*e+.6299787005*t);return[.2104542553*n+.793617785*o-.0040720468*s,1.9779984951*n-2.428592205*o+.4505937099*s,.0259040371*n+.7827717662*o-.808675766*s]}function In(r,e,t){let n=(r+.3963377774*e+.2158037573*t)**3,o=(r-.1055613458*e-.0638541728*t)**3,s=(r-.0894841775*e-1.291485548*t)**3;return[4.0767416621*n-3.3077115913*o+.2309699292*s,-1.2684380046*n+2.6097574011*o-.3413193965*s,-.0041960863*n-.7034186147*o+1.707614701*s]}function M(r,e,t){return Rn(tt[r],tt[e],tt[t])}function gr(r,e,t){let n=i=>Math.round(Math.min(1,Math.max(0,An(i)))*255),[o,s,a]=In(r,e,t);return[n(o),n(s),n(a)]}var le=256;function wr(r){let e=/^#?([0-9a-fA-F]{6})$/.exec(r.trim());if(!e)return;let t=parseInt(e[1],16);return[t>>16,t>>8&255,t&255]}var rt=(r,e,t)=>r<<16|e<<8|t;function fe(r,e,t=r){let n=new Set,o=[];for(let s of e){let a=rt(s[0],s[1],s[2]);n.has(a)||(n.add(a),o.push([s[0],s[1],s[2]]))}if(o.length>le)throw new Ie(`${t}: ${o.length} distinct colours; a palette holds at most ${le}`);return{name:r,colors:o}}function pe(r){let e=new Float64Array(r.colors.length*3);return r.colors.forEach(([t,n,o],s)=>e.set(M(t,n,o),s*3)),e}function J(r,e,t,n){let o=0,s=1/0;for(let a=0;a<r.length;a+=3){let i=r[a]-e,c=r[a+1]-t,u=r[a+2]-n,l=i*i+c*c+u*u;l<s&&(s=l,o=a/3)}return o}function nt(r){let e=new Map(r.map(t=>[t,M(...t)[0]]));return[...r].sort((t,n)=>e.get(t)-e.get(n)||rt(t[0],t[1],t[2])-rt(n[0],n[1],n[2]))}function ot(r){if(r.colors.length===0)throw new RangeError("an empty palette has no darkest colour");let e=pe(r),t=0;for(let n=1;n<r.colors.length;n++)e[n*3]<e[t*3]&&(t=n);return r.colors[t]}var N=class extends ${},On=r=>Array.from({length:r},(e,t)=>`class ${t}`);function Tn(r,e,t=""){let n=l=>r.tensors.get(t+l)?.shape,o=n("init_conv.weight"),s=n("label_emb.weight");if(!o||!s)throw new N(`${e}: not ContextUNet weights: init_conv.weight or label_emb.weight missing`);let a=o[0],i=[],c=[];for(let l=0;n(`downs.${l}.blocks.0.conv1.weight`);l++)i.push(n(`downs.${l}.blocks.0.conv1.weight`)[0]/a),c.push(n(`downs.${l}.attn.norm.weight`)!==void 0);let u=0;for(;n(`downs.0.blocks.${u}.conv1.weight`);)u++;return{in_ch:o[1],base_ch:a,channel_mults:i,num_res_blocks:u,use_attention:c,num_classes:s[0]-1}}function Oe(r,e,t){if(r!==void 0)try{return JSON.parse(r)}catch{throw new N(`${t}: metadata ${e} is not valid JSON`)}}function Pn(r,e,t,n,o=""){let s=new Float32Array(e.size);for(let a of e.entries){let i=r.tensors.get(o+a.name);if(!i)throw new N(`${t}: tensor ${o+a.name} is missing (config ${JSON.stringify(n)})`);if(i.shape.join("x")!==a.shape.join("x"))throw new N(`${t}: ${a.name} has shape [${i.shape}], the config needs [${a.shape}]`);if(i.dtype!=="F32"&&i.dtype!=="F16"&&i.dtype!=="BF16")throw new N(`${t}: ${a.name} has dtype ${i.dtype}; weights must be F32, F16 or BF16`);s.set(mr(i),a.offset)}return s}function Ln(r,e,t=""){let n=Oe(r.metadata.config,"config",e)??Tn(r,e,t);try{Fe(n)}catch(u){throw new N(`${e}: ${u.message}`)}let o=new Ae(Rt(n)),s=Pn(r,o,e,n,t);if(!t){let u=[...r.tensors.keys()].filter(l=>!o.has(l));if(u.length)throw new N(`${e}: unexpected tensors ${u.slice(0,3).join(", ")}\u2026`)}let a=Oe(r.metadata.class_names,"class_names",e)??On(n.num_classes);if(a.length!==n.num_classes)throw new N(`${e}: ${a.length} class names for ${n.num_classes} classes`);let i=Oe(r.metadata.provenance,"provenance",e)??{},c=Un(r.metadata.palette,e);return{config:n,classNames:a,provenance:i,...c&&{palette:c},flat:s,layout:o}}function Un(r,e){let t=Oe(r,"palette",e);if(t===void 0)return;let n=Array.isArray(t)&&t.length>=1&&t.length<=le?t.map(o=>typeof o=="string"&&/^[0-9a-f]{6}$/i.test(o)?wr(o):void 0):[void 0];if(n.some(o=>o===void 0))throw new N(`${e}: metadata palette must be a JSON array of 1\u2013${le} "rrggbb" colours`);return fe("dataset",n.map(o=>o))}function Wn(r,e,t=""){let n;try{n=hr(r,e)}catch(o){throw new N(o.message)}return Ln(n,e,t)}async function vr(r,e){let t="pass a weights file written by 'train'",n;try{n=await e()}catch(o){throw new N(`${r}: cannot read weights (${o.message}); ${t}`)}try{return Wn(n,r)}catch(o){throw o instanceof N?new N(`${o.message}; ${t}`):o}}function xr(r,e,t="param"){let n=new Re(r,e.layout);return z(r,n.flat(t),e.flat),n}var Te=`// Counter-based random numbers shared by the batch and sampling kernels (prepended to each).
//
// A draw is a PCG hash of (seed, step, stream, element), so a training batch or a sampling
// step is a pure function of those: runs reproduce bit for bit, and a resumed training run
// draws exactly what the uninterrupted one would have. Gaussians are Box\u2013Muller on two
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

// cos(2\u03C0\xB7u) to within f32 rounding. Not the built-in cos: WGSL allows it an absolute error
// of 2\u207B\xB9\xB9 (and Chromium's software adapter uses that), which sampling amplifies up to 0.05 in
// the sprites, so one seed would draw different sprites on different adapters. Symmetry
// brings the angle to [0, \u03C0/2], where the Taylor series to x\xB9\xB2 is within 7e-9.
fn cos_2pi(u: f32) -> f32 {
  let r = abs(u - round(u)); // cos(2\u03C0u) = cos(2\u03C0r), r in [0, 1/2]
  let flip = r > 0.25; // cos(2\u03C0r) = \u2212cos(2\u03C0(1/2 \u2212 r))
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
`;var _r=`// Sampling from a known image: the noised start of img2img and the kept region of inpainting.
// (kernels/random.wgsl is prepended: pcg, uniform01, gaussian, flat_index.)
//
// noised_start (N\xB7CHW threads) x = a\xB7known + b\xB7z, z the initial noise of init_noise (step
//   0xffffffff), so strength 1 and ordinary sampling draw the same z
// keep_known   (N\xB7CHW threads) where mask < 0.5: x = keep_a\xB7known + keep_b\xB7z(keep_step); the
//   rest of x is left as it is
// renoise      (N\xB7CHW threads) x = jump_a\xB7x + jump_b\xB7z(jump_step): one forward jump (resampling)
// Each writes rows N\u20262N\u22121 too when CFG (both halves of the model's input stay equal).
//
//   @binding(0) uniform KnownParams { seed, keep_step, keep_a, keep_b, jump_step, jump_a, jump_b }
//               (noised_start reads keep_a, keep_b)
//   @binding(1) known f32 [CHW]     the init image in [\u22121, 1], shared by every sprite
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
`;var Mn={name:"known_image",code:`${Te}
${_r}`},br=D.resample.max;function yr(r,e){return r-Math.round(e*r)}function st(r,e){let t=r+e*1024;return{update:t,keep:1073741824+t,jump:2147483648+t}}var Pe=class{gpu;start;keep;jump;masked;resample;#e;#t;#n;#r;constructor(e,t){this.gpu=e,this.#t=new ArrayBuffer(32);let[,n,o,s]=t.x.shape,a=O(t.x.shape.slice(1));this.masked=t.init.mask!==void 0,this.resample=this.masked?t.init.resample??0:0,this.#n=H(e,[n,o,s],"known"),z(e,this.#n,t.init.image),this.#r=H(e,[o,s],"mask"),z(e,this.#r,t.init.mask??new Float32Array(o*s).fill(1)),this.#e=e.device.createBuffer({size:32,usage:GPUBufferUsage.UNIFORM|GPUBufferUsage.COPY_DST}),new Uint32Array(this.#t)[0]=t.seed>>>0;let i={N:t.n,CHW:a,HW:o*s,CFG:t.cfg},c=Math.ceil(t.n*a/64),u=(l,d)=>{let f=new L(e,`sample.${l}`);return f.add(Mn,l,i,d,c),f};this.start=u("noised_start",[this.#e,this.#n,t.x]),this.keep=u("keep_known",[this.#e,this.#n,t.x,this.#r]),this.jump=u("renoise",[this.#e,void 0,t.x])}setStart(e){this.#o({keepA:e.sqrtAlphaBar,keepB:e.sqrtOneMinusAlphaBar})}setPass(e,t,n){let o=e[t],s=e[t+1],a=s?.sqrtAlphaBar??1,i=s?.sqrtOneMinusAlphaBar??0,c=(o.sqrtAlphaBar/a)**2,u=st(t,n);this.#o({keepStep:u.keep,keepA:a,keepB:i,jumpStep:u.jump,jumpA:Math.sqrt(c),jumpB:Math.sqrt(1-c)})}#o(e){let t=new Uint32Array(this.#t),n=new Float32Array(this.#t);t[1]=e.keepStep??0,n[2]=e.keepA,n[3]=e.keepB,t[4]=e.jumpStep??0,n[5]=e.jumpA??0,n[6]=e.jumpB??0,this.gpu.device.queue.writeBuffer(this.#e,0,this.#t)}destroy(){this.start.destroy(),this.keep.destroy(),this.jump.destroy(),this.#e.destroy(),this.#n.buffer.destroy(),this.#r.buffer.destroy()}};var kr=`// Guided sampling: the initial noise and the reverse (sampling) step.
// (kernels/random.wgsl is prepended: pcg, uniform01, gaussian, flat_index.)
//
// init_noise   (N\xB7CHW threads) x[r] = z for rows r < N, copied into rows N\u20262N\u22121 when CFG
//   @binding(0) uniform StepParams (seed used), @binding(2) x f32 [R, CHW]
//
// sample_step  (N\xB7CHW threads, one per element): x0 clamped to [\u22121, 1]
// sample_step_threshold  (N threads, one per sprite): x0 dynamically thresholded (Imagen):
//   s = max(1, the \`percentile\` quantile of |x0| over the sprite), x0 \u2190 clamp(x0, \u2212s, s) / s
//   @binding(0) uniform StepParams
//   @binding(1) eps     f32 [R, CHW]  model output; with CFG rows 0\u2026N\u22121 conditional, N\u20262N\u22121 unconditional
//   @binding(2) x       f32 [R, CHW]  current sample, updated in place (both halves with CFG)
//   @binding(3) x0      f32 [N, CHW]  in: the previous step's x0 (DPM-Solver++); out: this step's (the preview)
//   @binding(4) x0_raw  f32 [N, CHW]  scratch of sample_step_threshold: x0 before thresholding
//   consts: N, CHW, CFG (bool: R = 2N)
//
// The update: x' = coef_x0\xB7x0 + coef_x\xB7x + coef_prev\xB7x0_prev + sigma\xB7z. With CFG, \`guided\` = 0 takes
// the conditional prediction alone (a step outside the guidance interval), else \u03B5_u + w\xB7(\u03B5_c \u2212 \u03B5_u).

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

// The unclamped prediction of the clean image at element i, from the (guided) \u03B5.
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

// How many of the sprite's |x0_raw| (from \`row\`) have bits \u2264 v (non-negative floats order as u32).
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
// loops here add up to about 34\xB7CHW (CHW \u2264 1024, checked where the kernel is recorded): one
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
`;var at={name:"diffusion",code:`${Te}
${kr}`},ct=(r,e)=>e===0||e===1?r:2*r;function Dn(r,e,t,n){let o=ct(1,t)===2;return r.map(s=>o&&(!n||s.t/e>=n[0]&&s.t/e<=n[1]))}function ut(r){let e=kt(),t=Ct(e,{sampler:r.sampler,steps:r.steps,eta:r.eta});return{steps:t,guided:Dn(t,e.T,r.guidance,r.guidanceInterval),T:e.T}}var it=class{gpu;opts;x0;#e;#t;#n;constructor(e,t){this.gpu=e,this.opts=t,this.#n=new ArrayBuffer(48),this.x0=H(e,[t.n,t.chw],"x0"),this.#e=t.thresholdPercentile===void 0?null:H(e,[t.n,t.chw],"x0.raw"),this.#t=e.device.createBuffer({size:this.#n.byteLength,usage:GPUBufferUsage.UNIFORM|GPUBufferUsage.COPY_DST}),new Uint32Array(this.#n)[0]=t.seed>>>0,new Float32Array(this.#n)[10]=(t.thresholdPercentile??100)/100,e.device.queue.writeBuffer(this.#t,0,this.#n)}programs(e,t,n){let{n:o,chw:s}=this.opts,a=n?2*o:o;if(e.shape[0]!==a||O(e.shape)!==a*s||O(t.shape)!==a*s)throw new RangeError(`update over [${e.shape}] for ${o} sprites of ${s} values (cfg ${n})`);let i={N:o,CHW:s,CFG:n},c=Math.ceil(o*s/64),u=new L(this.gpu,"sample.init");u.add(at,"init_noise",i,[this.#t,void 0,e],c);let l=new L(this.gpu,"sample.update");if(this.#e){if(s>1024)throw new RangeError(`thresholding handles sprites of \u2264 1024 values, not ${s}`);l.add(at,"sample_step_threshold",i,[this.#t,t,e,this.x0,this.#e],Math.ceil(o/64))}else l.add(at,"sample_step",i,[this.#t,t,e,this.x0],c);return{init:u,update:l}}setStep(e,t,n,o=!0){let s=new Uint32Array(this.#n);s[1]=e,s[9]=o?1:0,new Float32Array(this.#n).set([t.sqrtAlphaBar,t.sqrtOneMinusAlphaBar,t.coefX0,t.coefX,t.coefPrevX0,t.sigma,n],2),this.gpu.device.queue.writeBuffer(this.#t,0,this.#n)}destroy(){this.#t.destroy(),this.x0.buffer.destroy(),this.#e?.buffer.destroy()}},F=class extends Error{constructor(){super("sampling cancelled"),this.name="SamplingCancelled"}};function Hn(r,e,t,n){if(r.cfg&&r.cfg.x.shape[0]!==2*t)throw new RangeError(`the guided model runs ${r.cfg.x.shape[0]} rows; this needs ${2*t}`);if(r.single&&r.single.x.shape[0]!==t)throw new RangeError(`the single model runs ${r.single.x.shape[0]} rows; this needs ${t}`);return e.map(o=>{let s=o||n?r.cfg??r.single:r.single??r.cfg;if(!s||o&&s!==r.cfg)throw new RangeError(`a ${o?"guided":"single"} step needs a model`);return s})}async function Sr(r,e,t){let n=performance.now(),o=t.classes.length,{steps:s,guided:a,T:i}=ut(t),c=Hn(e,a,o,t.init!==void 0),u=t.init?yr(s.length,t.init.strength):0,l=c[Math.min(u,s.length-1)],d=O(l.x.shape.slice(1)),f=l.config.num_classes,w=new it(r,{n:o,chw:d,seed:t.seed,thresholdPercentile:t.thresholdPercentile}),h=new Map;for(let p of new Set(c)){let v=p.x.shape[0],g=new Uint32Array(v).map((x,m)=>m>=o||t.guidance===0?f:t.classes[m]);if(z(r,p.labels,g),p.mix){let x=t.guidance===0?void 0:t.mix;z(r,p.mix,zn(g,x,f+1))}h.set(p,w.programs(p.x,p.eps,v===2*o))}let _=t.init&&new Pe(r,{x:l.x,n:o,cfg:l.x.shape[0]===2*o,seed:t.seed,init:t.init});try{h.get(l).init.run(),_&&u>0&&(_.setStart(s[u]??{sqrtAlphaBar:1,sqrtOneMinusAlphaBar:0}),_.start.run());let p=t.previewEvery??0,v=_?.resample??0,g=new Float32Array(2*o);for(let m=u;m<s.length;m++){if(t.signal?.aborted)throw new F;let b=c[m],S=m>u?c[m-1]:b;z(r,b.tfrac,g.fill(s[m].t/i).subarray(0,b.x.shape[0]));for(let W=0;W<=v;W++){let en=m===u||W>0?Et(s[m]):s[m];w.setStep(st(m,W).update,en,t.guidance,a[m]),_?.setPass(s,m,W),r.submit(bt=>{if(W===0&&b!==S){let yt=o*d*4,tn=S.x.offset*4;for(let De=0;De<b.x.shape[0]/o;De++){let rn=b.x.offset*4+De*yt;bt.copyBufferToBuffer(S.x.buffer,tn,b.x.buffer,rn,yt)}}let ne=bt.beginComputePass({label:"sample.step"});b.forward.encode(ne),h.get(b).update.encode(ne),_?.masked&&_.keep.encode(ne),W<v&&_.jump.encode(ne),ne.end()})}let y=m===s.length-1;t.onPreview&&(y||p>0&&(m+1)%p===0)&&t.onPreview(await Qe(r,w.x0),m+1,s.length)}return{images:(await Qe(r,c[s.length-1].x)).slice(0,o*d).map(m=>Math.min(1,Math.max(-1,m))),seconds:(performance.now()-n)/1e3}}finally{w.destroy(),_?.destroy()}}function zn(r,e,t){let n=new Float32Array(r.length*t);return r.forEach((o,s)=>{let a=e?.[s];a?n.set(a,s*t):n[s*t+o]=1}),n}var Cr=(r,e)=>r[e*4+3]>=128;function Er(r,e){let{width:t,height:n,data:o}=r,s=o.slice(),a=(i,c)=>i>=0&&c>=0&&i<t&&c<n&&Cr(o,c*t+i);for(let i=0;i<n;i++)for(let c=0;c<t;c++)a(c,i)||(a(c-1,i)||a(c+1,i)||a(c,i-1)||a(c,i+1))&&s.set([...e,255],(i*t+c)*4);return{width:t,height:n,data:s}}var Gn=[[-1,-1],[0,-1],[1,-1],[-1,0],[1,0],[-1,1],[0,1],[1,1]];function $r(r){let{width:e,height:t,data:n}=r,o=n.slice(),s=a=>Cr(n,a)?n[a*4]<<16|n[a*4+1]<<8|n[a*4+2]:-1;for(let a=0;a<t;a++)for(let i=0;i<e;i++){let c=s(a*e+i),u=new Map,l=!0;for(let[f,w]of Gn){let h=i+f,_=a+w;if(h<0||_<0||h>=e||_>=t)continue;let p=_*e+h,v=s(p);if(v===c){l=!1;break}let g=u.get(v);g?g.count++:u.set(v,{count:1,at:p})}if(!l)continue;let d;for(let f of u.values())(!d||f.count>d.count)&&(d=f);if(d&&d.count>=2){let f=(a*e+i)*4;o.set(n.subarray(d.at*4,d.at*4+4),f)}}return{width:e,height:t,data:o}}function Nr(r){let e=r>>>0;return()=>{e=e+1831565813>>>0;let t=e;return t=Math.imul(t^t>>>15,t|1),t^=t+Math.imul(t^t>>>7,t|61),((t^t>>>14)>>>0)/4294967296}}var Fn=100;function dt(r){let e=new Map;for(let{data:t}of r)for(let n=0;n<t.length;n+=4){if(t[n+3]<128)continue;let o=t[n]<<16|t[n+1]<<8|t[n+2];e.set(o,(e.get(o)??0)+1)}return e}var Ar=r=>[r>>16,r>>8&255,r&255];function lt(r,e,t,n=`auto${e}`){if(!Number.isInteger(e)||e<1)throw new RangeError(`k must be a positive integer, not ${e}`);let o=dt(r),s=[...o.keys()].sort((p,v)=>p-v);if(s.length<=e)return fe(n,nt(s.map(Ar)));let a=s.length,i=Float64Array.from(s,p=>o.get(p)),c=new Float64Array(a*3);s.forEach((p,v)=>c.set(M(...Ar(p)),v*3));let u=(p,v,g)=>(c[p*3]-v[g*3])**2+(c[p*3+1]-v[g*3+1])**2+(c[p*3+2]-v[g*3+2])**2,l=Nr(t),d=new Float64Array(e*3),f=new Float64Array(a).fill(1/0),w=p=>{let v=0;for(let x of p)v+=x;let g=l()*v;for(let x=0;x<a;x++)if((g-=p[x])<0&&p[x]>0)return x;return p.findLastIndex(x=>x>0)};for(let p=0;p<e;p++){let v=w(p===0?i:i.map((g,x)=>g*f[x]));d.set(c.subarray(v*3,v*3+3),p*3);for(let g=0;g<a;g++)f[g]=Math.min(f[g],u(g,d,p))}let h=new Int32Array(a).fill(-1);for(let p=0;p<Fn;p++){let v=!1;for(let m=0;m<a;m++){let b=J(d,c[m*3],c[m*3+1],c[m*3+2]);b!==h[m]&&(h[m]=b,v=!0)}if(!v)break;let g=new Float64Array(e*3),x=new Float64Array(e);for(let m=0;m<a;m++){x[h[m]]+=i[m];for(let b=0;b<3;b++)g[h[m]*3+b]+=i[m]*c[m*3+b]}for(let m=0;m<e;m++){if(x[m]>0){for(let y=0;y<3;y++)d[m*3+y]=g[m*3+y]/x[m];continue}let b=0,S=-1;for(let y=0;y<a;y++){let W=i[y]*u(y,d,h[y]);W>S&&(S=W,b=y)}d.set(c.subarray(b*3,b*3+3),m*3)}}let _=Array.from({length:e},(p,v)=>gr(d[v*3],d[v*3+1],d[v*3+2]));return fe(n,nt(_))}function Rr(r){if(r===1)return[[0]];if(!Number.isInteger(Math.log2(r)))throw new RangeError(`Bayer size ${r} is not a power of 2`);let e=Rr(r/2),t=r/2;return Array.from({length:r},(n,o)=>Array.from({length:r},(s,a)=>4*e[o%t][a%t]+[[0,2],[3,1]][Math.floor(o/t)][Math.floor(a/t)]))}function Kn(r,e,t,n,o){let s=r.slice(),a=new Int32Array(e*t).fill(-1),i=(c,u,l,d)=>{if(c<0||c>=e||u>=t)return;let f=(u*e+c)*3;for(let w=0;w<3;w++)s[f+w]+=l[w]*d/16};for(let c=0;c<t;c++)for(let u=0;u<e;u++){let l=c*e+u;if(!n(l))continue;let d=J(o,s[l*3],s[l*3+1],s[l*3+2]);a[l]=d;let f=[0,1,2].map(w=>s[l*3+w]-o[d*3+w]);i(u+1,c,f,7),i(u-1,c+1,f,3),i(u,c+1,f,5),i(u+1,c+1,f,1)}return a}function Qn(r){let e=r.length/3;if(e<2)return 0;let t=0;for(let n=0;n<e;n++){let o=1/0;for(let s=0;s<e;s++){if(s===n)continue;let a=Math.hypot(r[n*3]-r[s*3],r[n*3+1]-r[s*3+1],r[n*3+2]-r[s*3+2]);o=Math.min(o,a)}t+=o}return t/e}function Ir(r,e,t="none"){let{width:n,height:o}=r,s=r.data,a=new Uint8Array(s.length),i=n*o,c=d=>s[d*4+3]>=128;if(e.colors.length===0){for(let d=0;d<i;d++)if(c(d))throw new RangeError("empty palette");return{width:n,height:o,data:a}}let u=pe(e),l=new Int32Array(i).fill(-1);if(t==="floyd"){let d=new Float64Array(i*3);for(let f=0;f<i;f++)d.set(M(s[f*4],s[f*4+1],s[f*4+2]),f*3);l.set(Kn(d,n,o,c,u))}else{let d=t==="bayer4"?4:t==="bayer8"?8:0,f=d?Rr(d):[[0]],w=d?Qn(u):0;for(let h=0;h<i;h++){if(!c(h))continue;let _=h%n,p=(h-_)/n,v=d?w*((f[p%d][_%d]+.5)/(d*d)-.5):0,[g,x,m]=M(s[h*4],s[h*4+1],s[h*4+2]);l[h]=J(u,g+v,x,m)}}for(let d=0;d<i;d++)l[d]<0||(a.set(e.colors[l[d]],d*4),a[d*4+3]=255);return{width:n,height:o,data:a}}function Vn(r,e){let t=e.palette;if(!t)return r.map(()=>{});if("fixed"in t)return r.map(()=>t.fixed);let n=e.seed??0;if(e.scope==="batch"){let o=lt(r,t.auto,n);return r.map(()=>o)}return r.map((o,s)=>lt([o],t.auto,n+s>>>0))}function Xn(r,e){return e.colors[J(pe(e),...M(...r))]}function Jn(r){let e=[...dt([r]).keys()];return e.length===0?[0,0,0]:ot({name:"",colors:e.map(t=>[t>>16,t>>8&255,t&255])})}function Or(r,e){let t=Vn(r,e);return{images:r.map((o,s)=>{let a=t[s],i=a?Ir(o,a,e.dither??"none"):o;if(e.despeckle&&(i=$r(i)),e.outline){let c=e.outline==="auto"?a&&a.colors.length?ot(a):Jn(i):a&&a.colors.length?Xn(e.outline,a):e.outline;i=Er(i,c)}return i}),palettes:t}}var Yn=r=>r.palette!==void 0||r.despeckle===!0||r.outline!==void 0;function Tr(r,e={}){let t=e.softAlpha?[...r]:r.map(At);return Yn(e)?Or(t,e):{images:t,palettes:t.map(()=>{})}}var Pr=["x","y","xy"],E=class extends ${},Zn=4,Le=class r{gpu;config;classNames;#e;#t;#n;#r;#o;static fromWeights(e,t,{unguidedOnOwnModel:n=!0}={}){let o=xr(e,t);return new r(e,t.config,t.classNames,o,{unguidedOnOwnModel:n})}constructor(e,t,n,o,{ownsStore:s=!0,unguidedOnOwnModel:a=!0}={}){this.gpu=e,this.#r=new Map,this.#o=Promise.resolve(),this.config=t,this.classNames=n,this.#e=o,this.#t=s,this.#n=a}get cachedModels(){return this.#r.size}get channels(){return this.config.in_ch}maxSprites(e){let t=It(this.config,this.gpu.maxBinding);return ct(1,e)===2?Math.floor(t/2):t}generate(e){this.#a(e);let t=this.#o.then(()=>this.gpu.scoped(()=>this.#i(e)));return this.#o=t.catch(()=>{}),t}destroy(){for(let e of this.#r.values())e.destroy();this.#r.clear(),this.#t&&this.#e.destroy()}#a(e){let t=e.classes.length;if(t<1)throw new E("a request draws at least one sprite");if(e.classes.forEach(c=>this.#p(c)),e.init&&this.#h(e.init),e.tile!==void 0&&!Pr.includes(e.tile))throw new E(`tile must be one of ${Pr.join(", ")}, not ${e.tile}`);if(!(e.guidance>=0)||!Number.isFinite(e.guidance))throw new E(`guidance must be a number \u2265 0, not ${e.guidance}`);if(!Y.includes(e.sampler))throw new E(`sampler must be one of ${Y.join(", ")}, not '${e.sampler}'`);let n=e.thresholdPercentile;if(n!==void 0&&!K(n,D.threshold))throw new E(`the threshold is a percentile in (0, 100], not ${n}`);let o=e.guidanceInterval;if(o&&!$t(o))throw new E(`the guidance interval must be lo,hi with 0 \u2264 lo < hi \u2264 1 (fractions of t/T), not ${o}`);let{steps:s,seed:a}=D;if(!K(e.steps,s))throw new E(`steps must be an integer in ${s.min}\u2026${s.max}, not ${e.steps}`);if(!K(e.seed,a))throw new E(`seed must be an integer in ${a.min}\u2026${a.max}, not ${e.seed}`);let i=this.maxSprites(e.guidance);if(t>i)throw new E(`${t} sprites at guidance ${e.guidance} are more than one step fits on this adapter (maxStorageBufferBindingSize ${this.gpu.maxBinding} bytes); draw ${i} or fewer`)}#p(e){let t=this.config.num_classes,n=c=>{if(!Number.isInteger(c)||c<0||c>t)throw new E(`class ${c} is not 0\u2026${t-1} (or ${t}, unconditional)`)};if(typeof e=="number")return n(e),{label:e,mix:null};let o=new Float64Array(t+1);for(let[c,u]of e.mix){if(n(c),!(u>=0)||!Number.isFinite(u))throw new E(`class weight ${u} is not a finite number \u2265 0`);o[c]+=u}let s=o.reduce((c,u)=>c+u,0);if(!(s>0))throw new E("the class weights of a mix sum to 0; give one > 0");let a=[...o.keys()].filter(c=>o[c]>0);return a.length===1?{label:a[0],mix:null}:{label:a.reduce((c,u)=>o[u]>o[c]?u:c),mix:Float32Array.from(o,c=>c/s)}}#h(e){let t=16**2;if(e.image.length!==this.channels*t||!e.image.every(Number.isFinite))throw new E(`the init image must be ${this.channels}\xD7${16}\xD7${16} finite values`);if(!K(e.strength,D.strength))throw new E(`strength must be in (0, 1], not ${e.strength}`);if(e.mask&&(e.mask.length!==t||!e.mask.every(Number.isFinite)))throw new E(`the mask must be ${16}\xD7${16} finite values`);let n=e.resample??0;if(!K(n,D.resample))throw new E(`resample must be an integer in 0\u2026${br}, not ${n}`)}async#i(e){let t=e.classes.length,n=e.classes.map(h=>this.#p(h)),o=n.some(h=>h.mix!==null),s=e.tile&&{x:e.tile.includes("x"),y:e.tile.includes("y")},{guided:a}=ut(e),i={};a.includes(!0)&&(i.cfg=this.#s(2*t,o,s)),(!i.cfg||a.includes(!1)&&this.#n&&!e.init)&&(i.single=this.#s(t,o,s)),i.cfg?.prepare.run(),i.single?.prepare.run();let c=this.config.num_classes,u=h=>new Float32Array(c+1).map((_,p)=>p===h?1:0),l=e.previewEvery??0,{images:d,seconds:f}=await Sr(this.gpu,i,{classes:n.map(h=>h.label),mix:o?n.map(h=>h.mix??u(h.label)):void 0,init:e.init,guidance:e.guidance,steps:e.steps,sampler:e.sampler,eta:e.eta,seed:e.seed,thresholdPercentile:e.thresholdPercentile,guidanceInterval:e.guidanceInterval,signal:e.signal,previewEvery:l,onPreview:e.onPreview&&((h,_,p)=>e.onPreview({x0:h,images:this.toImages(h,t),step:_,total:p}))}),w=Tr(this.toImages(d,t),{seed:e.seed,...e.post});return{raw:d,...w,seconds:f}}toImages(e,t){let n=this.channels*16**2;return Array.from({length:t},(o,s)=>Nt(e,this.channels,16,16,s*n))}#s(e,t,n){let o=`${e}${t?" mix":""}${n?` wrap ${n.x} ${n.y}`:""}`,s=this.#r.get(o);if(s)this.#r.delete(o);else if(s=new $e(this.gpu,this.config,this.#e,e,{staticWeights:!0,classMix:t,wrap:n}),this.#r.size>=Zn){let[a,i]=this.#r.entries().next().value;i.destroy(),this.#r.delete(a)}return this.#r.set(o,s),s}};function Lr(r,e){let t=o=>o===e.length?"unconditional":e[o];if(typeof r=="number")return t(r);let n=r.mix.reduce((o,[,s])=>o+s,0);return r.mix.map(([o,s])=>`${t(o)}:${Number((s/n).toFixed(3))}`).join("+")}var eo=r=>r.toLowerCase().replace(/[^a-z0-9]+/g,"-").replace(/^-|-$/g,"")||"class",Ur=(r,e,t)=>`${eo(r)}-s${e}-${t}`;function he(r){return r.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g,e=>e.replace(/[^\n]/g," "))}function me(r,e){let[t,n]=r[e]==="("?["(",")"]:["{","}"],o=0;for(let s=e;s<r.length;s++)if(r[s]===t)o++;else if(r[s]===n&&--o===0)return s+1;throw new SyntaxError(`unbalanced ${t} at offset ${e}`)}function Ue(r,e,t){let n=0;for(let o=e;o<t;o++)r[o]===`
`&&n++;return n}var to=String.raw`@\w+(?:\((?:[^()]|\([^()]*\))*\))?\s*`,ro=new RegExp(String.raw`(?:${to})*\bfn\s+(\w+)[^{]*\{`,"g");function ft(r){let e=new Map;for(let t of r.matchAll(ro)){let n=t.index+t[0].length-1,o=me(r,n);e.set(t[1],{start:t.index,end:o,body:r.slice(n,o)})}return e}function pt(r,e){let t=new Set,n=o=>{for(let[s]of(r.get(o)?.body??"").matchAll(/(?<![.\w])[A-Za-z_]\w*/g))t.has(s)||(t.add(s),r.has(s)&&n(s))};return n(e),t}function Wr(r,e){let t=he(r),n=ft(t);if(!n.has(e))return r;let o=pt(n,e),s=[...n].filter(([a])=>a!==e&&!o.has(a)).map(([,a])=>a).sort((a,i)=>i.start-a.start);for(let a of s)r=r.slice(0,a.start)+`
`.repeat(Ue(r,a.start,a.end))+r.slice(a.end);return r}var We=/\s*(0x[0-9a-fA-F]+[iu]?|\d+\.?\d*(?:[eE][+-]?\d+)?[fiuh]?|\.\d+(?:[eE][+-]?\d+)?[fh]?|[A-Za-z_]\w*|&&|\|\||[<>=!]=|[-+*/%<>!(),])/y;function no(r){let e=[];for(We.lastIndex=0;We.lastIndex<r.length&&!/^\s*$/.test(r.slice(We.lastIndex));){let t=We.exec(r);if(!t)return;e.push(t[1])}return e}function jr(r,e){let t=no(r);if(!t)return;let n=t,o=0,s=()=>n[o],a=g=>{if(n[o]!==g)throw new SyntaxError(g);o++},i=g=>{if(typeof g.v!="number")throw new TypeError("number expected");return g.v},c=g=>{if(typeof g.v!="boolean")throw new TypeError("bool expected");return g.v},u=(g,x,m)=>{let[b,S,y]=[i(x),i(m),x.float||m.float];switch(g){case"+":return{v:b+S,float:y};case"-":return{v:b-S,float:y};case"*":return{v:b*S,float:y};case"/":if(!y&&S===0)throw new RangeError("division by zero");return{v:y?b/S:Math.trunc(b/S),float:y};default:if(!y&&S===0)throw new RangeError("division by zero");return{v:b%S,float:y}}},l=(g,x,m)=>{if(g==="=="||g==="!="){if(typeof x.v!=typeof m.v)throw new TypeError("mixed comparison");return{v:x.v===m.v==(g==="=="),float:!1}}let[b,S]=[i(x),i(m)];return{v:g==="<"?b<S:g==="<="?b<=S:g===">"?b>S:b>=S,float:!1}};function d(){let g=n[o++];if(g===void 0)throw new SyntaxError("end");if(g==="("){let m=v();return a(")"),m}if(g==="-"){let m=d();return{v:-i(m),float:m.float}}if(g==="!")return{v:!c(d()),float:!1};if(/^[\d.]/.test(g)){let m=/[.eEfh]/.test(g.replace(/^0x.*/,""));return{v:Number(g.replace(/[fiuh]$/,"")),float:m}}if(g==="true"||g==="false")return{v:g==="true",float:!1};if((g==="min"||g==="max")&&s()==="("){a("(");let m=v();a(",");let b=v();return a(")"),{v:g==="min"?Math.min(i(m),i(b)):Math.max(i(m),i(b)),float:m.float||b.float}}let x=e.get(g);if(!x||s()==="(")throw new ReferenceError(g);return x}function f(){let g=d();for(;s()==="*"||s()==="/"||s()==="%";)g=u(n[o++],g,d());return g}function w(){let g=f();for(;s()==="+"||s()==="-";)g=u(n[o++],g,f());return g}function h(){let g=w(),x=s();return x==="<"||x==="<="||x===">"||x===">="||x==="=="||x==="!="?(o++,l(x,g,w())):g}function _(g,x){let m=x();for(;s()===g;){o++;let[b,S]=[c(m),c(x())];m={v:g==="&&"?b&&S:b||S,float:!1}}return m}function p(){return _("&&",h)}function v(){return _("||",p)}try{let g=v();return o===n.length?g:void 0}catch{return}}var je=(r,e)=>{for(;e<r.length&&/\s/.test(r[e]);)e++;return e};function oo(r,e){let t=new Map;for(let[n,o]of Object.entries(e))t.set(n,{v:o,float:typeof o=="number"&&!Number.isInteger(o)});for(let n of r.matchAll(/^const\s+(\w+)\s*=\s*([^;]+);/gm)){let o=jr(n[2],t);o&&t.set(n[1],o)}return t}function qr(r,e){let t=je(r,e+2),n=me(r,t),o=je(r,n);if(r[o]!=="{")throw new SyntaxError(`if without a block at offset ${e}`);let s=[o,me(r,o)],a={end:s[1],condition:r.slice(t+1,n-1),then:s},i=je(r,s[1]);if(/^else\b/.test(r.slice(i,i+5))){let c=je(r,i+4),u=r.startsWith("if",c)&&/\W/.test(r[c+2])?qr(r,c).end:me(r,c);a.otherwise=[c,u],a.end=u}return a}function Mr(r,e){let t=he(r),n=oo(t,e),o=/\bif\b/g,s;for(;(s=o.exec(t))!==null;){let a=s.index,i=qr(t,a),c=jr(i.condition,n);if(c===void 0||typeof c.v!="boolean")continue;let u=c.v?i.then:i.otherwise,[l,d]=u??[a,a],f=!u&&/\belse\s*$/.test(t.slice(0,a))?"{}":"",w=`
`.repeat(Ue(t,a,l)),h=f+`
`.repeat(Ue(t,d,i.end)),_=p=>p.slice(0,a)+w+p.slice(l,d)+h+p.slice(i.end);r=_(r),t=_(t),o.lastIndex=a}return r}function so(r,e){if(typeof e=="boolean")return`const ${r} = ${e};`;if(!Number.isFinite(e))throw new Error(`kernel constant ${r} is not finite: ${e}`);let t=Number.isInteger(e)?String(e):e.toExponential(9);return`const ${r} = ${t};`}function Br(r){return Object.keys(r).sort().map(e=>so(e,r[e])).join(`
`)}var ao=(r,e,t)=>`${Br(e)}
${Wr(Mr(r.code,e),t)}`,io=/@group\(0\)\s*@binding\((\d+)\)\s*var<(storage|uniform)\s*(?:,\s*(read_write|read))?\s*>\s*(\w+)/g;function co(r,e){let t=he(r.code),n=ft(t);if(!n.has(e))throw new Error(`kernel ${r.name} has no function ${e}`);let o=pt(n,e),s=new Map;for(let[,a,i,c,u]of t.matchAll(io)){if(!o.has(u))continue;if(s.has(Number(a)))throw new Error(`kernel ${r.name}:${e} uses two variables of @binding(${a})`);let l=i==="uniform"?"uniform":c==="read_write"?"storage":"read-only-storage";s.set(Number(a),l)}return s}var qe=class{device;onError;#e;#t;#n;#r;#o;constructor(e,t){this.device=e,this.onError=t,this.#e=new Map,this.#t=new Map,this.#n=new Map,this.#r=[],this.#o=[]}get size(){return this.#e.size}get(e,t,n,o){let s=Br(n),a=`${e.name}|${t}|${s}|${o??"auto"}`,i=this.#e.get(a);if(i)return i;let c=s.replaceAll(`
`," ");this.device.pushErrorScope("validation");let u=`${e.name}|${t}|${s}`,l=this.#t.get(u);return l||(l=this.device.createShaderModule({label:`${e.name}:${t} {${c}}`,code:ao(e,n,t)}),this.#t.set(u,l)),i=this.device.createComputePipeline({label:`${e.name}:${t}`,layout:o?this.#a(e,t,o):"auto",compute:{module:l,entryPoint:t}}),this.#o.push(this.device.popErrorScope().then(d=>{if(d){let f=d.message.trim().split(`
`)[0];this.onError(`kernel ${e.name}:${t} {${c}}: ${f}`)}})),this.#e.set(a,i),this.#r.push({source:e,entry:t,consts:n}),i}#a(e,t,n){let o=`${e.name}|${t}|${n}`,s=this.#n.get(o);if(s)return s;let a=co(e,t),i=n.map(c=>{let u=a.get(c);if(!u)throw new Error(`kernel ${e.name}:${t} does not use @binding(${c})`);return{binding:c,visibility:GPUShaderStage.COMPUTE,buffer:{type:u}}});return s=this.device.createPipelineLayout({label:`${e.name}:${t} [${n}]`,bindGroupLayouts:[this.device.createBindGroupLayout({entries:i})]}),this.#n.set(o,s),s}get variants(){return this.#r}async settled(){let e=this.#o;this.#o=[],await Promise.all(e)}};var te=class extends Error{constructor(){super("no WebGPU adapter found: install a Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`, which includes the lavapipe CPU fallback) or run on a machine with a GPU")}},ht=class extends Error{constructor(e){super(`WebGPU error: ${e}`),this.name="GpuError"}},mt=class{device;adapter;kernels;lostReason;firstError;constructor(e,t){this.device=e,this.adapter=t,this.lostReason=null,this.firstError=null,this.kernels=new qe(e,n=>this.firstError??=n),e.addEventListener("uncapturederror",n=>{this.firstError??=n.error.message.trim()}),e.lost.then(n=>{this.lostReason=`${n.reason}: ${n.message}`,n.reason!=="destroyed"&&console.error(`error: WebGPU device lost (${this.lostReason})`)})}get limits(){return this.device.limits}get maxBinding(){return Math.min(this.device.limits.maxStorageBufferBindingSize,this.device.limits.maxBufferSize)}submit(e){this.check();let t=this.device.createCommandEncoder();e(t),this.device.queue.submit([t.finish()])}async sync(){await this.device.queue.onSubmittedWorkDone(),await this.verify()}async verify(){await this.kernels.settled(),this.check()}async scoped(e){this.device.pushErrorScope("out-of-memory"),this.device.pushErrorScope("validation");let t;try{t={value:await e()}}catch(a){t={error:a}}let n=await this.device.popErrorScope(),o=await this.device.popErrorScope(),s=n??o;if(s)throw new ht(s.message.trim());if("error"in t)throw t.error;return t.value}check(){if(this.lostReason)throw new Error(`WebGPU device lost (${this.lostReason})`);if(this.firstError)throw new Error(`WebGPU error: ${this.firstError}`)}destroy(){this.device.destroy()}};async function Dr(r){if(!r)throw new te;let e=await r.requestAdapter({powerPreference:"high-performance"});if(!e)throw new te;let t=e.limits,n=[];e.features.has("timestamp-query")&&n.push("timestamp-query");let o=await e.requestDevice({requiredFeatures:n,requiredLimits:{maxStorageBufferBindingSize:t.maxStorageBufferBindingSize,maxBufferSize:t.maxBufferSize,maxStorageBuffersPerShaderStage:t.maxStorageBuffersPerShaderStage,maxComputeWorkgroupsPerDimension:t.maxComputeWorkgroupsPerDimension,maxComputeInvocationsPerWorkgroup:t.maxComputeInvocationsPerWorkgroup,maxComputeWorkgroupSizeX:t.maxComputeWorkgroupSizeX,maxComputeWorkgroupStorageSize:t.maxComputeWorkgroupStorageSize}}),s=e.info;return new mt(o,{description:s.description||s.device||[s.vendor,s.architecture].filter(Boolean).join(" ")||"unknown adapter",vendor:s.vendor,architecture:s.architecture,isFallbackAdapter:s.isFallbackAdapter??!1,features:[...e.features].sort(),maxStorageBufferBindingSize:t.maxStorageBufferBindingSize,maxBufferSize:t.maxBufferSize,maxStorageBuffersPerShaderStage:t.maxStorageBuffersPerShaderStage,maxComputeWorkgroupsPerDimension:t.maxComputeWorkgroupsPerDimension})}var gt={light:153,dark:102,square:2};function Hr(r){if(!Number.isInteger(r)||r<1)throw new RangeError(`scale must be a positive integer, not ${r}`)}function uo(r,e){Hr(e);let t=r.width*e,n=r.height*e,o=new Uint8Array(t*n*4),s=t*4;for(let a=0;a<r.height;a++){let i=a*e*s;for(let c=0;c<r.width;c++){let u=r.data.subarray((a*r.width+c)*4,(a*r.width+c+1)*4);for(let l=0;l<e;l++)o.set(u,i+(c*e+l)*4)}for(let c=1;c<e;c++)o.copyWithin(i+c*s,i,i+s)}return{width:t,height:n,data:o}}function lo(r,e){let t=new Uint8Array(r.data.length);for(let n=0;n<r.height;n++)for(let o=0;o<r.width;o++){let s=(n*r.width+o)*4,a=r.data[s+3],c=((Math.floor(o/e)+Math.floor(n/e)&1)===0?gt.light:gt.dark)*(255-a);for(let u=0;u<3;u++)t[s+u]=Math.round((r.data[s+u]*a+c)/255);t[s+3]=255}return{width:r.width,height:r.height,data:t}}function fo(r,e,t){let{scale:n,gap:o}=t;if(Hr(n),!Number.isInteger(o)||o<0)throw new RangeError(`gap must be an integer \u2265 0, not ${o}`);let s=Math.max(...r),a=e.width*n,i=e.height*n,c=r.flatMap((u,l)=>Array.from({length:u},(d,f)=>({row:l,column:f,x:f*(a+o),y:l*(i+o),w:a,h:i})));return{width:s*a+(s-1)*o,height:r.length*i+(r.length-1)*o,tiles:c}}function wt(r,e){let{scale:t,checker:n}=e,o=r.find(l=>l.length>0)?.[0];if(!o)throw new RangeError("a sprite sheet needs at least one sprite");for(let l of r.flat())if(l.width!==o.width||l.height!==o.height)throw new RangeError(`sprite sheet tiles differ in size: ${l.width}\xD7${l.height} and ${o.width}\xD7${o.height}`);let{width:s,height:a,tiles:i}=fo(r.map(l=>l.length),o,e),c=new Uint8Array(s*a*4);for(let{row:l,column:d,x:f,y:w,w:h,h:_}of i){let p=uo(r[l][d],t);for(let v=0;v<_;v++)c.set(p.data.subarray(v*h*4,(v+1)*h*4),((w+v)*s+f)*4)}let u={width:s,height:a,data:c};return n?lo(u,gt.square*t):u}function vt(r){return r.querySelector('meta[name="pixel-diffusion-api"]')?.content||null}async function zr(r,e){let t;try{t=await fetch(r,e)}catch(o){throw new Error(`cannot reach the server (${o.message})`)}let n=await t.json().catch(()=>null);if(!t.ok)throw new $(n?.error??`the server answered HTTP ${t.status}`);return n}var xt=r=>zr(`${r}info`),po=r=>Uint8Array.from(atob(r),e=>e.charCodeAt(0));async function ho(r){let e=await createImageBitmap(r,{premultiplyAlpha:"none",colorSpaceConversion:"none"}),n=new OffscreenCanvas(e.width,e.height).getContext("2d");n.drawImage(e,0,0);let{data:o,width:s,height:a}=n.getImageData(0,0,e.width,e.height);return{width:s,height:a,data:new Uint8Array(o.buffer)}}async function Gr(r,e,t,n){let o=await zr(`${r}jobs`,{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify(e)}),s=await new Promise((c,u)=>{let l=new EventSource(`${o.events}?previews=rgba`),d=h=>{l.close(),t.removeEventListener("abort",f),h()},f=()=>d(()=>{fetch(`${r}jobs/${o.id}`,{method:"DELETE"}).catch(()=>{}),u(new F)});if(t.aborted)return f();t.addEventListener("abort",f,{once:!0});let w=h=>JSON.parse(h.data);l.addEventListener("preview",h=>{let{step:_,total:p,width:v,height:g,sprites:x}=w(h);n({step:_,total:p,images:x.map(m=>({width:v,height:g,data:po(m)}))})}),l.addEventListener("done",h=>d(()=>c(w(h)))),l.addEventListener("failed",h=>d(()=>u(new $(w(h).error)))),l.addEventListener("cancelled",()=>d(()=>u(new F))),l.onerror=()=>d(()=>u(new Error("lost the connection to the server")))}),a=s.files.filter(c=>c.kind==="sprite");return{images:await Promise.all(a.map(async c=>{let u=await fetch(c.url);if(!u.ok)throw new Error(`cannot fetch ${c.name}: HTTP ${u.status}`);return ho(await u.blob())})),files:s.files,seconds:s.seconds}}var mo={ddpm:"DDPM, ancestral (ddpm)",ddim:"DDIM (ddim)","dpm++":"DPM-Solver++(2M) (dpm++)","dpm++sde":"DPM-Solver++(2M) SDE (dpm++sde)"},Fr="default.safetensors",Kr=8,go=25,U={gpu:null,generator:null,last:null,served:null};globalThis.pixelDiffusion=U;function A(r){let e=document.getElementById(r);if(!e)throw new Error(`the page has no #${r}`);return e}var k={form:A("controls"),classSelect:A("class"),count:A("count"),guidance:A("guidance"),steps:A("steps"),sampler:A("sampler"),seed:A("seed"),generate:A("generate"),cancel:A("cancel"),weightsName:A("weights-name"),weightsFile:A("weights-file"),canvas:A("sprites"),status:A("status"),downloads:A("downloads"),noWebGpu:A("no-webgpu"),tagline:document.querySelector("header p")},re=null,Be=null,_t=[];function V(r){document.body.dataset.state=r;let e=r==="busy",t=r==="ready"||e,n=re?.kind==="server"||U.generator!==null;k.generate.disabled=!t||e||!n,k.cancel.disabled=!e,k.weightsFile.disabled=!t||e||re?.kind!=="gpu"}function B(r,e=!1){k.status.textContent=r,k.status.className=e?"error":""}function ge(r){r instanceof $||console.error(r),B(`error: ${r instanceof Error?r.message:String(r)}`,!0)}function Me(r,e){let t=r.valueAsNumber;if(!Number.isFinite(t))throw new $(`${e} must be a number`);return t}function Qr(r){let e=[];for(let a=0;a<r.length;a+=Kr)e.push(r.slice(a,a+Kr));let t=wt(e,{scale:1,gap:1,checker:!0}),n=k.canvas;n.width=t.width,n.height=t.height,n.getContext("2d").putImageData(Xr(t),0,0);let o=n.parentElement?.clientWidth||800,s=Math.max(1,Math.min(16,Math.floor(o/t.width)));n.style.width=`${t.width*s}px`,n.style.height=`${t.height*s}px`}var Xr=r=>new ImageData(new Uint8ClampedArray(r.data),r.width,r.height);function wo(r){let e=document.createElement("canvas");return e.width=r.width,e.height=r.height,e.getContext("2d").putImageData(Xr(r),0,0),new Promise((t,n)=>e.toBlob(o=>o?t(o):n(new Error("PNG encoding failed")),"image/png"))}async function vo(r,e,t){for(let a of _t)URL.revokeObjectURL(a);_t=[];let n=async(a,i)=>{let c=URL.createObjectURL(await wo(i));return _t.push(c),{name:a,url:c}},o=wt([r],{scale:4,gap:2,checker:!1}),s=[await n(`sheet-s${t}.png`,o)];for(let[a,i]of r.entries())s.push(await n(`${Ur(e[a],t,a)}.png`,i));return s}function xo(r){let e=r.map(({name:t,url:n})=>{let o=document.createElement("a");return o.href=n,o.download=t,o.textContent=t,o});k.downloads.replaceChildren("Download: ",...e)}function Jr(r,e=!0){let t=[new Option("every class in turn",""),...r.map((n,o)=>new Option(n,String(o))),...e?[new Option("unconditional",String(r.length))]:[]];k.classSelect.replaceChildren(...t)}async function Yr(r,e,t){let n=await vr(r,e);U.generator?.destroy(),U.generator=Le.fromWeights(t,n),k.weightsName.textContent=r,Jr(n.classNames);let{in_ch:o,base_ch:s,num_classes:a}=n.config;B(`Ready: ${r} (${a} classes, ${o} channels, base ${s}).`)}function _o(){let r=Me(k.count,"sprites");if(!Number.isInteger(r)||r<1)throw new $("sprites must be a whole number \u2265 1");let e=Me(k.steps,"steps");return{n:r,fixed:k.classSelect.value===""?null:Number(k.classSelect.value),guidance:Me(k.guidance,"guidance"),steps:e,sampler:Y.find(t=>t===k.sampler.value)??Z.sampler,seed:Me(k.seed,"seed"),previewEvery:Math.max(1,Math.round(e/go))}}function bo(r){return{kind:"gpu",where:r.adapter.description,async run(e,t,n){let o=U.generator;if(!o)throw new $("no weights are loaded");let s=o.config.num_classes,a=Array.from({length:e.n},(l,d)=>e.fixed??d%s),i=await o.generate({classes:a,guidance:e.guidance,steps:e.steps,sampler:e.sampler,eta:Z.eta,seed:e.seed,previewEvery:e.previewEvery,signal:t,onPreview:n});U.last=i;let c=a.map(l=>Lr(l,o.classNames)),u=await vo(i.images,c,e.seed);return{images:i.images,seconds:i.seconds,downloads:u}}}}function yo(r,e){return{kind:"server",where:`the server's ${e}`,async run(t,n,o){let{n:s,fixed:a,guidance:i,steps:c,sampler:u,seed:l,previewEvery:d}=t,w=await Gr(r,{class:a,n:s,guidance:i,steps:c,sampler:u,seed:l,previewEvery:d},n,o);U.served=w;let h=w.files.filter(v=>v.kind==="sheet"),_=w.files.filter(v=>v.kind==="sprite"),p=[...h,..._].map(({name:v,url:g})=>({name:v,url:g}));return{images:w.images,seconds:w.seconds,downloads:p}}}}async function ko(){if(!re)return;let r=_o(),e=r.n>1?"s":"";Be=new AbortController,U.last=U.served=null,V("busy"),B(`Drawing ${r.n} sprite${e}\u2026`);try{let t=await re.run(r,Be.signal,({images:n,step:o,total:s})=>{Qr(n),B(`Step ${o} of ${s}\u2026`)});Qr(t.images),xo(t.downloads),B(`${r.n} sprite${e} (${r.sampler}, ${r.steps} steps, guidance ${r.guidance}, seed ${r.seed}) in ${t.seconds.toFixed(1)} s on ${re.where}.`)}catch(t){t instanceof F?B("Cancelled."):ge(t)}finally{Be=null,V("ready")}}async function Vr(r){let e=U.gpu;if(!e){B("error: the server that sent this page draws with its own weights; opening weights needs a browser with WebGPU",!0);return}if(document.body.dataset.state!=="ready"){B("error: wait for the sprites being drawn (or cancel them) before changing weights",!0);return}V("loading");try{await Yr(r.name,async()=>new Uint8Array(await r.arrayBuffer()),e)}catch(t){ge(t)}finally{V("ready")}}function So(){k.form.addEventListener("submit",r=>{r.preventDefault(),ko().catch(ge)}),k.cancel.addEventListener("click",()=>Be?.abort()),k.weightsFile.addEventListener("change",()=>{let r=k.weightsFile.files?.[0];k.weightsFile.value="",r&&Vr(r)}),document.addEventListener("dragover",r=>{r.preventDefault(),document.body.classList.add("dropping")}),document.addEventListener("dragleave",()=>document.body.classList.remove("dropping")),document.addEventListener("drop",r=>{r.preventDefault(),document.body.classList.remove("dropping");let e=r.dataTransfer?.files[0];e&&Vr(e)})}function Zr(r){re=r,document.body.dataset.backend=r.kind,So()}async function Co(r,e){let t=await xt(r);k.noWebGpu.textContent=`${e}, so the sprites are drawn by the server that sent this page (on its ${t.adapter}), not on your GPU.`,k.noWebGpu.hidden=!1,k.weightsName.textContent=t.weights,k.tagline.textContent="16\xD716 sprites from a diffusion model, drawn by this page's server.",Jr(t.classes,!1),Zr(yo(r,t.adapter)),B(`Ready: ${t.weights} on the server (${t.classes.length} classes).`),V("ready")}async function Eo(){k.guidance.value=String(Z.guidance),k.steps.value=String(Z.steps),k.sampler.replaceChildren(...Y.map(t=>new Option(mo[t],t))),k.sampler.value=Z.sampler;let r=navigator.gpu,e;try{e=await Dr(r)}catch(t){if(!(t instanceof te))throw t;let n=r?"This browser has WebGPU but offers no adapter for it (its GPU or driver may be blocklisted)":"This browser has no WebGPU, which the sprites are drawn with",o=vt(document);if(o)return await Co(o,n);k.noWebGpu.textContent=r?`${n}, so it cannot draw sprites.`:`${n}: use a current Chrome or Edge, or a Firefox or Safari with WebGPU enabled.`,k.noWebGpu.hidden=!1,B(""),V("no-webgpu");return}U.gpu=e,Zr(bo(e));try{let t=vt(document),n=t?(await xt(t)).weights:Fr;await Yr(n,async()=>{let o=await fetch(Fr);if(!o.ok)throw new Error(`HTTP ${o.status} ${o.statusText}`);return new Uint8Array(await o.arrayBuffer())},e)}catch(t){ge(t)}V("ready")}Eo().catch(r=>{ge(r),V("failed")});
