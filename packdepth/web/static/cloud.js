// The point-cloud viewer: three.js Points (vendored three.module.min.js, r170) with a small orbit:
// drag turns the view around the cloud's centre, the wheel zooms, a double-click resets the
// view. Points arrive as cloud.bin (packdepth/web/analyse.py): N x 3 float32
// x right, y down, z ahead (camera frame), then N x 3 uint8 RGB.
import * as THREE from "./vendor/three.module.min.js";

THREE.ColorManagement.enabled = false; // the colours are the image's sRGB bytes: show them as is

export class CloudViewer {
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    this.renderer.outputColorSpace = THREE.LinearSRGBColorSpace;
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    this.renderer.setClearColor(0x111111);
    container.replaceChildren(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(55, 4 / 3, 0.01, 5000);
    this.points = null;
    this.orbit = { yaw: 0, pitch: 0, radius: 1, target: new THREE.Vector3() };
    this.home = { ...this.orbit };
    this.listen();
    new ResizeObserver(() => this.resize()).observe(container);
  }

  // Show the points of a cloud.bin buffer; returns their count.
  show(buffer) {
    const n = buffer.byteLength / 15;
    const xyz = new Float32Array(buffer, 0, n * 3);
    const rgb = new Uint8Array(buffer, n * 12, n * 3);
    const positions = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) { // camera frame -> three.js (y up, looking along -z)
      positions[3 * i] = xyz[3 * i];
      positions[3 * i + 1] = -xyz[3 * i + 1];
      positions[3 * i + 2] = -xyz[3 * i + 2];
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute("color", new THREE.BufferAttribute(rgb, 3, true));
    if (this.points) { this.scene.remove(this.points); this.points.geometry.dispose(); }
    this.points = new THREE.Points(geometry, new THREE.PointsMaterial(
      { size: 2, sizeAttenuation: false, vertexColors: true }));
    this.scene.add(this.points);
    this.frame(positions, n);
    this.resize();
    return n;
  }

  // Orbit around the median depth straight ahead; start raised and to the left of the camera's own
// position (the 3D shape shows at once; a double-click returns here).
  frame(positions, n) {
    const depths = [];
    for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 5000))) depths.push(-positions[3 * i + 2]);
    depths.sort((a, b) => a - b);
    const median = depths.length ? depths[Math.floor(depths.length / 2)] : 1;
    this.orbit = { yaw: -0.5, pitch: 0.45, radius: 1.6 * median,
                   target: new THREE.Vector3(0, 0, -median) };
    this.home = { ...this.orbit, target: this.orbit.target.clone() };
    this.camera.near = median / 1000;
    this.camera.far = median * 100;
  }

  place() {
    const { yaw, pitch, radius, target } = this.orbit;
    const offset = new THREE.Vector3(
      radius * Math.sin(yaw) * Math.cos(pitch), radius * Math.sin(pitch),
      radius * Math.cos(yaw) * Math.cos(pitch));
    this.camera.position.copy(target).add(offset);
    this.camera.lookAt(target);
    this.camera.updateProjectionMatrix();
  }

  render() {
    this.place();
    this.renderer.render(this.scene, this.camera);
    this.container.dataset.rendered = String(Number(this.container.dataset.rendered || 0) + 1);
  }

  resize() {
    const w = this.container.clientWidth, h = this.container.clientHeight;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.render();
  }

  listen() {
    const el = this.renderer.domElement;
    let last = null;
    el.addEventListener("pointerdown", (e) => { last = [e.clientX, e.clientY];
                                               el.setPointerCapture(e.pointerId); });
    el.addEventListener("pointerup", () => { last = null; });
    el.addEventListener("pointermove", (e) => {
      if (!last) return;
      const [dx, dy] = [e.clientX - last[0], e.clientY - last[1]];
      last = [e.clientX, e.clientY];
      this.orbit.yaw -= dx * 0.008;
      this.orbit.pitch = Math.max(-1.5, Math.min(1.5, this.orbit.pitch + dy * 0.008));
      this.render();
    });
    el.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.orbit.radius *= Math.exp(e.deltaY * 0.001);
      this.render();
    }, { passive: false });
    el.addEventListener("dblclick", () => {
      this.orbit = { ...this.home, target: this.home.target.clone() };
      this.render();
    });
  }
}
