// The pixel-diffusion page: reads the form, submits a job to the JSON API, draws each x0 preview
// from the job's event stream as it arrives, and keeps this session's results in a gallery.
// Plain JavaScript, no build step; everything comes from this server.

const $ = (id) => document.getElementById(id);

/** The JSON field behind each form control, for reading the form and for pointing at a bad one. */
const CONTROLS = {
  class: "class",
  n: "n",
  guidance: "guidance",
  steps: "steps",
  sampler: "sampler",
  eta: "eta",
  seed: "seed",
  scale: "scale",
  previewEvery: "preview-every",
  softAlpha: "soft-alpha",
  palette: "palette",
  paletteScope: "palette-scope",
  dither: "dither",
  outline: "outline",
  despeckle: "despeckle",
  init: "init-file",
  mask: "mask-file",
  resample: "resample",
  resize: "resize",
  tile: "tile",
  threshold: "threshold",
  guidanceInterval: "interval-lo",
};

/** The visitor's uploads as data URLs (the API takes them as they are), or null. */
const uploads = { init: null, mask: null };

/** The job being drawn: its id and its event stream. */
let current = null;

function setStatus(text, progress) {
  $("status").textContent = text;
  if (progress !== undefined) $("progress").value = progress;
}

function showError(message, field) {
  const box = $("form-error");
  box.textContent = message;
  box.hidden = !message;
  for (const id of Object.values(CONTROLS)) $(id).removeAttribute("aria-invalid");
  const control = field && $(CONTROLS[field]);
  if (control) {
    control.setAttribute("aria-invalid", "true");
    control.closest("details")?.setAttribute("open", "");
    control.focus();
  }
}

function setBusy(busy) {
  $("generate").disabled = busy;
  $("cancel").disabled = !busy;
}

async function loadInfo() {
  const info = await (await fetch("/api/info")).json();
  for (const select of [$("class"), $("mix-class")]) {
    info.classes.forEach((name, index) => select.add(new Option(name, String(index))));
  }
  for (const sampler of info.samplers) $("sampler").add(new Option(sampler, sampler));
  for (const p of info.palettes) {
    $("palette").add(new Option(`${p.name} (${p.colors} colours)`, p.name));
  }
  $("palette").add(new Option("auto: k-means colours", "auto"));
  for (const dither of info.dithers) $("dither").add(new Option(dither, dither));
  const d = info.defaults;
  $("guidance").value = String(d.guidance);
  $("guidance-value").value = String(d.guidance);
  $("steps").value = String(d.steps);
  $("sampler").value = d.sampler;
  $("eta").value = String(d.eta);
  $("seed").value = String(d.seed);
  $("scale").value = String(d.scale);
  $("strength").value = $("strength-value").value = String(d.strength);
  $("n").max = String(info.ranges.n.max);
  $("n").value = String(Math.min(info.classes.length, info.ranges.n.max));
  $("model").textContent = `${info.weights} · ${info.model.parameters.toLocaleString("en-US")} ` +
    `parameters · ${info.classes.length} classes · ${info.adapter}`;
}

function readForm() {
  const number = (id) => Number($(id).value);
  const request = {
    class: $("class").value === "" ? null : Number($("class").value),
    n: number("n"),
    guidance: number("guidance"),
    steps: number("steps"),
    sampler: $("sampler").value,
    seed: number("seed"),
    scale: number("scale"),
    softAlpha: $("soft-alpha").checked,
  };
  // A mix: the class above and the second one, by their shares in percent (sample normalises).
  if (request.class !== null && $("mix-class").value !== "") {
    const share = number("mix-weight");
    request.class = { mix: [[request.class, 100 - share], [number("mix-class"), share]] };
  }
  if ($("tile").value) request.tile = $("tile").value;
  if ($("threshold").value !== "") request.threshold = number("threshold");
  if ($("interval-lo").value !== "" || $("interval-hi").value !== "") {
    const lo = $("interval-lo").value === "" ? 0 : number("interval-lo");
    const hi = $("interval-hi").value === "" ? 1 : number("interval-hi");
    request.guidanceInterval = [lo, hi];
  }
  if (uploads.init) {
    request.init = { png: uploads.init, strength: number("strength") };
    if (uploads.mask) {
      request.mask = uploads.mask;
      if (number("resample") !== 0) request.resample = number("resample");
    }
    if ($("resize").checked) request.resize = true;
  }
  // Empty: the server's default cadence, about 20 frames whatever the step count.
  if ($("preview-every").value !== "") request.previewEvery = number("preview-every");
  if (request.sampler === "ddim") request.eta = number("eta");
  const palette = $("palette").value;
  if (palette === "auto") {
    request.palette = `auto:${number("auto-colors")}`;
    request.paletteScope = $("palette-scope").value;
  } else if (palette) request.palette = palette;
  if (palette) request.dither = $("dither").value;
  const outline = $("outline").value;
  if (outline === "auto") request.outline = "auto";
  else if (outline === "colour") request.outline = $("outline-colour").value.slice(1);
  if ($("despeckle").checked) request.despeckle = true;
  return request;
}

/** One canvas per sprite, 16×16, scaled up by CSS without smoothing. */
function makeCanvases(count, width, height) {
  const box = $("previews");
  box.replaceChildren();
  return Array.from({ length: count }, (_, i) => {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.className = "sprite";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `sprite ${i + 1}, in progress`);
    box.append(canvas);
    return canvas;
  });
}

const fromBase64 = (text) => Uint8ClampedArray.from(atob(text), (c) => c.charCodeAt(0));

function drawPreview(canvases, preview) {
  preview.sprites.forEach((rgba, i) => {
    const image = new ImageData(fromBase64(rgba), preview.width, preview.height);
    canvases[i].getContext("2d").putImageData(image, 0, 0);
  });
}

const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];

/** Variations of sprite `i` of `job`: the form's settings, its class, a new seed, from that sprite. */
function vary(job, i) {
  if (current) return;
  $("seed").value = String(randomSeed());
  const request = readForm();
  // The sprite's own class (or the job's mix); an uploaded mask belongs to the uploaded init.
  request.class = job.request.class ?? job.request.classes[i];
  for (const field of ["mask", "resample", "resize"]) delete request[field];
  request.init = { job: job.id, sprite: i, strength: Number($("strength").value) };
  submit(request);
}

async function submit(request) {
  showError("");
  setBusy(true);
  setStatus("submitting…", 0);
  let response;
  try {
    response = await fetch("/api/jobs", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
  } catch (err) {
    setBusy(false);
    setStatus("idle");
    return showError(`the server cannot be reached (${err.message})`);
  }
  const body = await response.json();
  if (!response.ok) {
    setBusy(false);
    setStatus("idle");
    const retry = response.headers.get("retry-after");
    return showError(retry ? `${body.error} (try again in ${retry} s)` : body.error, body.field);
  }
  follow(body);
}

/** Follows `job`'s event stream until it ends: previews drawn, the result added to the gallery. */
function follow(job) {
  const canvases = makeCanvases(job.request.n, 16, 16);
  const source = new EventSource(`${job.events}?previews=rgba`);
  current = { id: job.id, source };
  const end = (text) => {
    source.close();
    current = null;
    setBusy(false);
    setStatus(text);
  };
  source.addEventListener("queued", (e) => {
    setStatus(`waiting: place ${JSON.parse(e.data).position} in the queue`, 0);
  });
  source.addEventListener("started", (e) => {
    setStatus(`step 0 / ${JSON.parse(e.data).total}`, 0);
  });
  source.addEventListener("preview", (e) => {
    const preview = JSON.parse(e.data);
    drawPreview(canvases, preview);
    setStatus(`step ${preview.step} / ${preview.total}`, preview.step / preview.total);
  });
  source.addEventListener("done", (e) => {
    const result = JSON.parse(e.data);
    end(`done in ${result.seconds.toFixed(1)} s`);
    addToGallery(result);
  });
  source.addEventListener("failed", (e) => end(`failed: ${JSON.parse(e.data).error}`));
  source.addEventListener("cancelled", () => end("cancelled"));
  source.onerror = () => {
    if (current?.source === source) end("the connection to the server was lost");
  };
}

/** What a batch file's download link says. */
const FILE_LABELS = {
  sheet: "Sheet PNG",
  "sheet-json": "Sheet JSON",
  gif: "Fade-in GIF",
  gpl: "Palette .gpl",
  hex: "Palette .hex",
};

function link(text, file, label) {
  const a = document.createElement("a");
  a.href = file.url;
  a.download = file.name;
  a.textContent = text;
  if (label) a.setAttribute("aria-label", label);
  return a;
}

function addToGallery(job) {
  const r = job.request;
  const card = document.createElement("li");
  card.className = "card";
  const sprites = document.createElement("div");
  sprites.className = "sprites";
  for (let i = 0; i < r.n; i++) {
    const native = job.files.find((f) => f.kind === "sprite" && f.sprite === i);
    const upscaled = job.files.find((f) => f.kind === "upscaled" && f.sprite === i);
    // A tile is shown repeated 3×3 (the sprite in the middle), so a seam would show at once.
    const tile = job.files.find((f) => f.kind === "tile3x3" && f.sprite === i);
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.className = tile ? "tile3x3" : "sprite";
    const name = `${r.classes[i]} sprite ${i + 1}, seed ${r.seed}`;
    img.alt = tile ? `${name}, repeated 3×3` : name;
    img.src = (tile ?? native).url;
    const caption = document.createElement("figcaption");
    caption.append(
      link("PNG", native, `download ${native.name}`),
      link(`×${r.scale}`, upscaled, `download ${upscaled.name}`),
      ...job.files.filter((f) => f.kind === "gpl" && f.sprite === i)
        .map((f) => link(".gpl", f, `download ${f.name}`)),
    );
    const variations = document.createElement("button");
    variations.type = "button";
    variations.className = "small";
    variations.textContent = "Variations";
    variations.setAttribute("aria-label", `variations of ${name}`);
    variations.addEventListener("click", () => vary(job, i));
    if (tile) caption.append(link("3×3", tile, `download ${tile.name}`));
    figure.append(img, caption, variations);
    sprites.append(figure);
  }
  const meta = document.createElement("p");
  meta.className = "meta muted";
  const palette = r.palette
    ? ` · palette ${r.palette}${r.dither === "none" ? "" : `, ${r.dither}`}`
    : "";
  const what = r.class === null
    ? "one of each class"
    : typeof r.class === "string"
    ? r.class
    : r.classes[0].replaceAll("+", " + ");
  const creative = [
    r.tile && `tiles ${r.tile}`,
    r.init && (r.mask ? "inpainted" : `variation ${r.init.strength} of ${r.init.file}`),
  ].filter(Boolean).map((text) => ` · ${text}`).join("");
  meta.textContent = `${what} · seed ${r.seed} · guidance ${r.guidance} · ` +
    `${r.sampler} ${r.steps} steps${palette}${creative} · ${job.seconds.toFixed(1)} s`;
  const downloads = document.createElement("div");
  downloads.className = "downloads";
  const batchFiles = job.files.filter((f) => f.kind in FILE_LABELS && f.sprite === null);
  downloads.append(...batchFiles.map((f) => link(FILE_LABELS[f.kind], f)));
  const command = document.createElement("div");
  command.className = "command";
  const code = document.createElement("code");
  job.command.split(" ").forEach((word, i) => {
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = word;
    code.append(...(i ? [" ", span] : [span]));
  });
  const copy = document.createElement("button");
  copy.type = "button";
  copy.textContent = "Copy";
  copy.setAttribute("aria-label", "copy the sample command line");
  copy.addEventListener("click", async () => {
    await navigator.clipboard.writeText(job.command);
    copy.textContent = "Copied";
  });
  command.append(code, copy);
  card.append(sprites, meta, downloads, command);
  if (r.init?.upload) {
    const note = document.createElement("p");
    note.className = "upload-note muted";
    note.textContent = `The command reads your upload${r.mask ? "s" : ""} as ` +
      `${r.mask ? "init.png and mask.png" : "init.png"}: save ${r.mask ? "them" : "it"} under ` +
      `${r.mask ? "those names" : "that name"} first.`;
    card.append(note);
  }
  $("gallery").prepend(card);
  $("gallery-empty").hidden = true;
}

$("controls").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!current) submit(readForm());
});
$("cancel").addEventListener("click", () => {
  if (current) fetch(`/api/jobs/${current.id}`, { method: "DELETE" });
});
$("randomise").addEventListener("click", () => {
  $("seed").value = String(randomSeed());
});
$("guidance").addEventListener("input", () => {
  $("guidance-value").value = $("guidance").value;
});
$("strength").addEventListener("input", () => {
  $("strength-value").value = $("strength").value;
});
/** The mix controls only mean something once a class is chosen, and the share with a second one. */
function updateMix() {
  $("mix-class").disabled = $("class").value === "";
  $("mix-weight").disabled = $("mix-class").disabled || $("mix-class").value === "";
}
$("class").addEventListener("change", updateMix);
$("mix-class").addEventListener("change", updateMix);
$("mix-weight").addEventListener("input", () => {
  $("mix-weight-value").value = $("mix-weight").value;
});

/** Shows the uploads and enables what needs them (a mask needs an init, resampling a mask). */
function updateUploads() {
  for (const kind of ["init", "mask"]) {
    const img = $(`${kind}-preview`);
    img.closest("figure").hidden = !uploads[kind];
    if (uploads[kind]) img.src = uploads[kind];
  }
  $("uploads").hidden = !uploads.init;
  $("mask-file").disabled = $("resize").disabled = !uploads.init;
  $("resample").disabled = !uploads.mask;
  $("clear-uploads").disabled = !uploads.init;
}

for (const kind of ["init", "mask"]) {
  $(`${kind}-file`).addEventListener("change", () => {
    const file = $(`${kind}-file`).files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.addEventListener("load", () => {
      uploads[kind] = reader.result;
      // Inpainting regenerates the masked region from noise, as sample's default strength does.
      if (kind === "mask") $("strength").value = $("strength-value").value = "1";
      updateUploads();
    });
    reader.readAsDataURL(file);
  });
}
$("clear-uploads").addEventListener("click", () => {
  uploads.init = uploads.mask = null;
  $("init-file").value = $("mask-file").value = "";
  updateUploads();
});

$("sampler").addEventListener("change", () => {
  $("eta").disabled = $("sampler").value !== "ddim";
});
// Controls that only mean something with another choice are disabled without it.
$("palette").addEventListener("change", () => {
  const palette = $("palette").value;
  $("auto-colors").disabled = $("palette-scope").disabled = palette !== "auto";
  $("dither").disabled = $("despeckle").disabled = !palette;
  if (!palette) $("despeckle").checked = false;
  // Palette sprites are opaque or clear: soft alpha does not go with a palette.
  $("soft-alpha").disabled = Boolean(palette);
  if (palette) $("soft-alpha").checked = false;
});
$("outline").addEventListener("change", () => {
  $("outline-colour").disabled = $("outline").value !== "colour";
});

loadInfo().catch((err) => showError(`cannot load the model's description: ${err.message}`));
