"""The page's JSON API through FastAPI's TestClient: outputs equal to packdepth.predict, bad and
oversized uploads refused with a one-line message, nothing left behind."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from PIL import Image

import packdepth
from packdepth.apps.pointcloud import read_ply
from tests.inference.conftest import image_pixels


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def get(client, job: dict, name: str) -> bytes:
    response = client.get(f"/api/jobs/{job['job']}/files/{name}")
    assert response.status_code == 200, response.text
    return response.content


def leftovers(client) -> list:
    return sorted(p.name for p in client.app.state.store.root.rglob("*"))


def test_image_outputs_equal_predict(client, web_models) -> None:
    pixels = image_pixels(45, 70, seed=3)  # odd sizes: depth comes back at the image's own
    response = client.post("/api/image?name=street.png&model=a/model", content=png_bytes(pixels))
    assert response.status_code == 200, response.text
    job = response.json()
    expected = packdepth.predict(packdepth.load(web_models / "a" / "model", device="cpu"), pixels)
    assert (job["width"], job["height"], job["metric"]) == (70, 45, False)
    assert job["units"] == "relative units"

    with np.load(io.BytesIO(get(client, job, job["downloads"]["npz"]))) as npz:
        np.testing.assert_allclose(npz["depth"], expected.depth, rtol=1e-5)
        assert not bool(npz["metric"])
        K = npz["K"]
    f = 1.2 * 70  # the documented guess: fx = fy = 1.2 max(W, H), centred principal point
    np.testing.assert_allclose(K, [[f, 0, 34.5], [0, f, 22.0], [0, 0, 1]])

    png16 = np.asarray(Image.open(io.BytesIO(get(client, job, job["downloads"]["png16"]))))
    assert png16.dtype == np.uint16 and png16.shape == (45, 70)
    np.testing.assert_allclose(png16 / 256.0, np.minimum(expected.depth, 65535 / 256),
                               atol=0.5 / 256 + 1e-6)

    ply_path = client.app.state.store.root / job["job"] / job["downloads"]["ply"]
    cloud = read_ply(ply_path)
    v, u = np.mgrid[0:45, 0:70]
    d = expected.depth
    points = np.stack([(u - 34.5) * d / f, (v - 22.0) * d / f, d], -1).reshape(-1, 3)
    np.testing.assert_allclose(cloud.points, points, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(cloud.colors, pixels.reshape(-1, 3))

    colours = np.asarray(Image.open(io.BytesIO(get(client, job, job["image"]))))
    assert colours.shape == (45, 70, 3) and colours.std() > 1
    hover = np.frombuffer(get(client, job, job["hover"]["url"]), "<f4")
    np.testing.assert_allclose(hover.reshape(45, 70), expected.depth, rtol=1e-6)
    view = get(client, job, job["cloud"]["url"])
    assert len(view) == 15 * job["cloud"]["points"] and 0 < job["cloud"]["points"] <= 45 * 70
    assert "camera height" in job["navmap"]["message"] and "url" not in job["navmap"]
    assert not (client.app.state.store.root / job["job"] / "upload.png").exists()


def test_camera_height_scales_relative_depth(client, web_models) -> None:
    response = client.post("/api/examples/street.jpg?camera_height=1.65&model=a/model")
    assert response.status_code == 200, response.text
    job = response.json()
    model = packdepth.load(web_models / "a" / "model", device="cpu")
    with np.load(io.BytesIO(get(client, job, "depth.npz"))) as npz:
        depth, metric = npz["depth"], bool(npz["metric"])
        scale = float(npz["scale"]) if "scale" in npz.files else None
    from packdepth.web.examples import list_examples

    plain = packdepth.predict(model, list_examples()["street.jpg"].path).depth
    if metric:  # a ground plane was found: one factor for every pixel
        np.testing.assert_allclose(depth, plain * scale, rtol=1e-4)
        assert job["units"] == "m" and job["notes"] == []
    else:
        np.testing.assert_allclose(depth, plain, rtol=1e-5)
        assert job["notes"] and job["notes"][0].startswith("no ground plane")


def test_metric_model_gets_a_map_and_path(client) -> None:
    response = client.post("/api/examples/traffic.jpg?model=b")
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["metric"] and job["units"] == "m"
    nav = job["navmap"]
    picture = Image.open(io.BytesIO(get(client, job, nav["url"])))
    assert picture.mode == "RGB" and picture.width > picture.height
    record = json.loads(get(client, job, nav["path"]))
    assert record["metric_input"] is True
    assert (record["route"] is None) == (record["problem"] is not None) == (not nav["route"])
    if record["route"]:
        assert record["route"]["path_m"][0] == [0.0, 0.1]  # the camera's cell (x 0, z 0.1 m)
        assert nav["message"].startswith("route of")
    else:
        assert nav["message"] == record["problem"]


def test_corrupt_upload_is_a_4xx_with_one_line(client) -> None:
    response = client.post("/api/image?name=broken.png", content=b"\x89PNG\r\n\x1a\n not a png")
    assert response.status_code == 400
    message = response.json()["error"]
    assert message.startswith("broken.png: not a readable image")
    assert "\n" not in message and "Traceback" not in message and "/tmp" not in message
    assert leftovers(client) == []


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_upload_is_refused(client, chunked: bool) -> None:
    body = bytes(1024 * 1024 + 1)  # the fixture's limit is 1 MB
    content = iter([body[:600_000], body[600_000:]]) if chunked else body
    response = client.post("/api/image?name=big.png", content=content)
    assert response.status_code == 413
    assert response.json()["error"].startswith("upload too large: the limit is 1 MB")
    assert leftovers(client) == []


def test_bad_options_and_names(client) -> None:
    bad = client.post("/api/examples/street.jpg?camera_height=-1")
    assert bad.status_code == 422 and bad.json()["error"].startswith("camera_height: ")
    assert client.post("/api/examples/nope.jpg").json()["error"].startswith("no example 'nope")
    missing = client.post("/api/examples/street.jpg?model=zzz")
    assert missing.status_code == 404 and "a/model, b" in missing.json()["error"]
    assert client.get("/api/jobs/0123/files/depth.npz").status_code == 404
    assert client.post("/api/video?name=clip.txt", content=b"x").status_code == 400
    assert client.post("/api/image?name=empty.png", content=b"").json()["error"] == \
        "empty.png: empty file"


def test_info_lists_models_and_examples(client) -> None:
    info = client.get("/api/info").json()
    assert info["models"] == ["a/model", "b"]  # not the hidden .c
    assert [e["name"] for e in info["examples"]] == ["street.jpg", "traffic.jpg", "dusk.jpg"]
    for example in info["examples"]:
        image = client.get(example["url"])
        assert image.status_code == 200 and len(image.content) < 100_000
        assert Image.open(io.BytesIO(image.content)).size == (640, 192)
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert client.get("/static/vendor/three.module.min.js").status_code == 200


def test_video_progress_and_depth_video(client, make_video, tmp_path) -> None:
    av = pytest.importorskip("av")
    video = make_video(tmp_path / "clip.mp4", frames=12, width=96, height=64)
    response = client.post("/api/video?name=clip.mp4&model=a/model", content=video.read_bytes())
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]
    seen = []
    for _ in range(1200):
        status = client.get(f"/api/jobs/{job_id}").json()
        seen.append(status["done"])
        if status["state"] != "running":
            break
        time.sleep(0.05)
    assert status["state"] == "done", status
    assert (status["done"], status["total"], status["frames"]) == (12, 12, 12)
    assert seen == sorted(seen)
    with av.open(io.BytesIO(get(client, status, status["video"]))) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 12 and frames[0].shape == (64, 2 * 96 + 2, 3)
    assert sorted(p.name for p in (client.app.state.store.root / job_id).iterdir()) == \
        ["depth.mp4"]  # the upload and infer's output folder are gone


def test_temporary_folder_goes_with_the_app(web_models) -> None:
    from fastapi.testclient import TestClient

    from packdepth.web.app import create_app

    app = create_app(models_dir=web_models, device="cpu")
    with TestClient(app) as c:
        assert c.post("/api/examples/dusk.jpg").status_code == 200
        root = app.state.store.root
        assert any(root.rglob("depth.npz"))
    assert not root.exists()


def test_broken_model_is_a_500_with_one_line(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from packdepth.web.app import create_app

    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "depth_net.safetensors").write_bytes(b"not safetensors")
    with TestClient(create_app(tmp_path / "bad", device="cpu")) as c:
        response = c.post("/api/examples/street.jpg")
        assert response.status_code == 500
        message = response.json()["error"]
        assert message.startswith(f"model {(tmp_path / 'bad').as_posix()}: ")
        assert "\n" not in message and "Traceback" not in message
        assert leftovers(c) == []


def test_focal_length_and_camera_height_reach_their_own_options(client) -> None:
    pixels = image_pixels(40, 60, seed=5)
    job = client.post("/api/image?name=f.png&fx=50&camera_height=1.65",
                      content=png_bytes(pixels)).json()
    assert job["intrinsics"] == "focal length 50 px"
    with np.load(io.BytesIO(get(client, job, "depth.npz"))) as npz:
        np.testing.assert_allclose(npz["K"], [[50, 0, 29.5], [0, 50, 19.5], [0, 0, 1]])
