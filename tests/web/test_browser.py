"""End to end in headless Chromium (Debian's ``chromium``, driven by Playwright; no browser
download): the page loads, a bundled example gives a depth image, a point cloud drawn with WebGL
(checked on the screenshot's pixels, not only in the DOM) and a hover read-out; a corrupt upload
shows its one-line message; a
short video gives the side-by-side depth video, which the browser decodes.

Without ``/usr/bin/chromium`` (``apt-get install chromium``) or Playwright the test is skipped
with the reason, and fails under CI (``.ci/run`` installs both). The screenshot goes to the test's
temporary folder; to renew the README's, with the demo model::

    PACKDEPTH_WEB_MODEL=demo_out/model PACKDEPTH_SCREENSHOT=docs/web.png \\
        python -m pytest tests/web/test_browser.py
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import on_ci
from tests.web.conftest import running_server, serve_args, server_address

CHROMIUM = Path("/usr/bin/chromium")
#: The brief's flags, plus SwiftShader: WebGL in software without a GPU.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
SHOT_COLOURS, SHOT_WIDTH = 96, 1100


def need(condition: bool, reason: str) -> None:
    if condition:
        return
    if on_ci():
        pytest.fail(f"{reason}; CI=true, so this is a failure (.ci/run installs it)",
                    pytrace=False)
    pytest.skip(reason)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def save_small(png: bytes, path: Path) -> None:
    """The page's screenshot as an adaptive-palette PNG (a few hundred KB at most)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(SHOT_COLOURS, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def test_page_end_to_end(web_models: Path, tmp_path: Path, make_video) -> None:
    need(CHROMIUM.is_file(), f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "needs Playwright (pip install playwright; no `playwright install`)")
    model = os.environ.get("PACKDEPTH_WEB_MODEL") or str(web_models / "a" / "model")
    shot = Path(os.environ.get("PACKDEPTH_SCREENSHOT") or tmp_path / "web.png")
    with running_server(serve_args("--model", model, "--port", "0", "--device", "cpu")) as srv, \
            sync_playwright() as p:
        url = f"http://127.0.0.1:{server_address(srv)[1]}/"
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=FLAGS, headless=True,
            viewport={"width": SHOT_WIDTH, "height": 860})
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            page.wait_for_selector("body[data-state=ready]", timeout=30_000)
            page.click("button[data-example='street.jpg']")
            page.wait_for_selector("body[data-state=done], body[data-state=error]",
                                   timeout=180_000)
            assert page.get_attribute("body", "data-state") == "done", \
                page.text_content("#error")
            assert page.evaluate("document.getElementById('depth').naturalWidth") == 640
            depth = pixels(page.locator("#depth").screenshot())
            assert depth.std() > 3, "the depth image is blank"
            assert int(page.get_attribute("#cloud", "data-points")) > 1000
            assert int(page.get_attribute("#cloud", "data-rendered")) >= 1
            cloud = pixels(page.locator("#cloud").screenshot())
            drawn = np.abs(cloud - np.array([17, 17, 17])).sum(-1) > 30  # not the background
            assert drawn.mean() > 0.05, f"the point cloud drew {drawn.mean():.1%} of its canvas"
            box = page.locator("#depth").bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)
            readout = page.text_content("#readout")
            assert re.fullmatch(r"\(\d+, \d+\): [0-9.e+-]+ (m|relative units)", readout), readout
            page.evaluate("window.scrollTo(0, 0)")
            save_small(page.screenshot(full_page=True), shot)

            page.set_input_files("#file", files=[{"name": "broken.png", "mimeType": "image/png",
                                                  "buffer": b"not a png at all"}])
            page.wait_for_selector("body[data-state=error]", timeout=60_000)
            assert page.text_content("#error").startswith("broken.png: not a readable image")

            clip = make_video(tmp_path / "clip.mp4", frames=8, width=96, height=64)
            page.set_input_files("#file", str(clip))
            page.wait_for_selector("body[data-state=done], body[data-state=error]",
                                   timeout=180_000)
            assert page.get_attribute("body", "data-state") == "done", \
                page.text_content("#error")
            assert page.text_content("#video-summary").startswith("clip.mp4: 8 frames")
            size = page.evaluate("""() => new Promise((ok) => { const v = $video();
                if (v.readyState >= 1) ok([v.videoWidth, v.videoHeight]);
                v.onloadedmetadata = () => ok([v.videoWidth, v.videoHeight]);
                v.onerror = () => ok(String(v.error && v.error.message)); })"""
                                 .replace("$video()", "document.getElementById('video')"))
            assert size == [2 * 96 + 2, 64], size  # the side-by-side video plays here
            assert errors == []
        finally:
            browser.close()
    assert shot.stat().st_size < 300_000
