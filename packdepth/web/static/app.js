// The page: choose an image / video / example, call the JSON API (packdepth/web/app.py), show
// the results. Errors from the server arrive as {"error": "one line"} and are shown as they are.
const $ = (id) => document.getElementById(id);
let info = null, viewer = null, hover = null;

function setState(state) { document.body.dataset.state = state; }

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
  if (message) setState("error");
}

function busy(on, text = "") {
  $("busy").hidden = !on;
  $("progress-text").textContent = text;
  if (on) $("progress").removeAttribute("value");
}

async function api(url, options = {}) {
  const response = await fetch(url, options);
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) throw new Error(body?.error || `${response.status} ${response.statusText}`);
  return body;
}

// The query of a POST: the model, the camera height, the focal length (not for the examples,
// whose intrinsics are known) and `extra`.
function options(extra = {}, focal = true) {
  const params = new URLSearchParams(extra);
  params.set("model", $("model").value);
  if ($("camera-height").value) params.set("camera_height", $("camera-height").value);
  if ($("fx").value && focal) params.set("fx", $("fx").value);
  return params.toString();
}

const fileUrl = (job, name) => `/api/jobs/${job.job}/files/${name}`;

async function showImage(job, inputUrl) {
  $("video-result").hidden = true;
  $("image-result").hidden = false;
  $("input").src = inputUrl;
  const depthLoaded = new Promise((ok) => { $("depth").onload = ok; });
  $("depth").src = fileUrl(job, job.image);
  const range = job.depth_range ? ` · depth ${job.depth_range[0].toFixed(2)}–` +
    `${job.depth_range[2].toFixed(2)} ${job.units} (median ${job.depth_range[1].toFixed(2)})` : "";
  $("summary").textContent = `${job.name}: ${job.width}×${job.height}, model ${job.model}, ` +
    `${job.metric ? "metric" : "relative"} depth${range} · intrinsics ${job.intrinsics}` +
    (job.notes.length ? ` · ${job.notes.join(" · ")}` : "");
  hover = { ...job.hover, units: job.units,
            values: new Float32Array(await (await fetch(fileUrl(job, job.hover.url))).arrayBuffer()) };
  const nav = job.navmap;
  $("navmap").hidden = !nav.url;
  if (nav.url) $("navmap").src = fileUrl(job, nav.url);
  $("navmap-message").textContent = nav.message;
  const links = Object.entries({ "depth .npz": job.downloads.npz, "depth PNG16": job.downloads.png16,
    "point cloud .ply": job.downloads.ply, "colours .png": job.downloads.colours,
    "path .json": nav.path });
  $("downloads").replaceChildren("downloads: ", ...links.filter(([, f]) => f).map(([label, f]) => {
    const a = document.createElement("a");
    a.href = fileUrl(job, f); a.download = f; a.textContent = label;
    return a;
  }));
  await depthLoaded;
  await showCloud(job);
  setState("done");
}

async function showCloud(job) {
  const buffer = await (await fetch(fileUrl(job, job.cloud.url))).arrayBuffer();
  try {
    if (!viewer) {
      const { CloudViewer } = await import("./cloud.js");
      viewer = new CloudViewer($("cloud"));
    }
    const n = viewer.show(buffer);
    $("cloud").dataset.points = n;
    $("cloud-info").textContent = `${n.toLocaleString()} points in ${job.units} (` +
      (job.cloud.step > 1 ? `every ${job.cloud.step}th pixel a side, ` : "") +
      "flying pixels dropped; the .ply has every pixel)";
  } catch (e) {
    $("cloud-info").textContent = `no 3D view in this browser (${e.message}); the .ply download works`;
  }
}

function readout(event) {
  if (!hover) return;
  const img = event.target, box = img.getBoundingClientRect();
  const x = Math.floor((event.clientX - box.left) / box.width * img.naturalWidth);
  const y = Math.floor((event.clientY - box.top) / box.height * img.naturalHeight);
  const i = Math.floor(y / hover.stride) * hover.width + Math.floor(x / hover.stride);
  const d = hover.values[i];
  if (d === undefined) return;
  const value = hover.units === "m" ? `${d.toFixed(2)} m` : `${d.toPrecision(3)} ${hover.units}`;
  $("readout").textContent = `(${x}, ${y}): ${value}`;
}

async function pollVideo(job) {
  for (;;) {
    const status = await api(`/api/jobs/${job.job}`);
    if (status.state === "error") throw new Error(status.error);
    if (status.state === "done") return status;
    if (status.total) {
      $("progress").max = status.total;
      $("progress").value = status.done;
    }
    $("progress-text").textContent = `${status.done}${status.total ? " / " + status.total : ""} frames`;
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

async function run(task) {
  showError("");
  setState("busy");
  busy(true);
  try { await task(); } catch (e) { showError(e.message); } finally { busy(false); }
}

function upload(file) {
  run(async () => {
    const suffix = file.name.slice(file.name.lastIndexOf(".")).toLowerCase();
    const video = file.type.startsWith("video/") || info.video_suffixes.includes(suffix);
    const url = `/api/${video ? "video" : "image"}?` + options({ name: file.name });
    const job = await api(url, { method: "POST", body: file });
    if (!video) return showImage(job, URL.createObjectURL(file));
    busy(true, "0 frames");
    const done = await pollVideo(job);
    $("image-result").hidden = true;
    $("video-result").hidden = false;
    $("video").src = $("video-download").href = fileUrl(done, done.video);
    $("video-summary").textContent = `${done.name}: ${done.frames} frames in ${done.seconds} s, ` +
      `${done.metric ? "metric" : "relative"} depth (image | depth side by side)`;
    setState("done");
  });
}

function example(e) {
  if (!$("camera-height").value) $("camera-height").value = e.camera_height;
  run(async () => {
    const job = await api(`/api/examples/${e.name}?` + options({}, false), { method: "POST" });
    await showImage(job, e.url);
  });
}

async function start() {
  info = await api("/api/info");
  $("model").replaceChildren(...info.models.map((m) => new Option(m, m, m === info.default)));
  $("examples").replaceChildren(...info.examples.map((e) => {
    const b = document.createElement("button");
    b.dataset.example = e.name;
    b.innerHTML = `<img alt=""><span></span>`;
    b.querySelector("img").src = e.url;
    b.querySelector("span").textContent = e.title;
    b.onclick = () => example(e);
    return b;
  }));
  $("file").onchange = () => $("file").files[0] && upload($("file").files[0]);
  const drop = $("drop");
  drop.ondragover = (e) => { e.preventDefault(); drop.classList.add("over"); };
  drop.ondragleave = () => drop.classList.remove("over");
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  };
  for (const id of ["input", "depth"]) $(id).onmousemove = readout;
  setState("ready");
}

start().catch((e) => showError(`cannot reach the server: ${e.message}`));
