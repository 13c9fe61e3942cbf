"""The web page of ``packdepth serve``: a FastAPI app (:func:`create_app`) and its JSON API.

=========================================  ==================================================
route                                      what
=========================================  ==================================================
``GET /``                                  the page (``static/index.html``)
``GET /static/...``                        its scripts, three.js (vendored), the examples
``GET /api/info``                          models, examples, limits
``POST /api/image?name=&model=&...``       body: an image file → depth, cloud, map (JSON)
``POST /api/examples/{name}?model=&...``   the same for a bundled example
``POST /api/video?name=&model=&...``       body: a video file → ``{"job": id}`` (202)
``GET /api/jobs/{id}``                     a job's state, progress and results
``GET /api/jobs/{id}/files/{file}``        a result file (:mod:`packdepth.web.analyse`)
=========================================  ==================================================

Options of the POSTs: ``model`` (a name from ``/api/info``; default the first),
``camera_height`` (metres: relative depth made metric by the ground plane) and ``fx`` (focal
length in pixels; default: the examples' own intrinsics, else a guess). Uploads are the raw
request body (``fetch(url, {method: "POST", body: file})``), streamed into the app's temporary
folder and refused past ``max_upload_mb`` (:class:`~packdepth.web.jobs.JobStore`).

Errors reach the page as ``{"error": "one line"}`` with a 4xx status (bad file, too large, bad
option, unknown name) or 500 (anything else: its traceback is logged on the server, never sent).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware

from packdepth import __version__
from packdepth.errors import PackdepthError
from packdepth.web.examples import list_examples
from packdepth.web.jobs import Job, JobStore, WebError
from packdepth.web.models import ModelShelf

STATIC = Path(__file__).parent / "static"
LOG = logging.getLogger("packdepth.web")
VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}


def one_line(exc: BaseException, upload: Path | None = None, name: str | None = None) -> str:
    """An exception as one line, the upload's temporary path replaced by the client's name."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if upload is not None:
        text = text.replace(str(upload), name or "upload")
    return text


def create_app(model: str | Path | None = None, models_dir: str | Path | None = None, *,
               device: str = "auto", max_upload_mb: float = 50.0, max_pixels: float = 12e6,
               max_jobs: int = 16, max_video_frames: int = 300,
               allowed_hosts: list[str] | None = None) -> FastAPI:
    """The page's app.

    Args:
        model: a model folder or file to offer (any form :func:`packdepth.load` takes).
        models_dir: a folder whose models are offered too (:func:`~packdepth.web.models.
            find_models`).
        device: where the networks run.
        max_upload_mb: largest upload (MB, 2**20 bytes); larger → 413.
        max_pixels: largest image (pixels); larger → 413.
        max_jobs: results kept (older ones are deleted).
        max_video_frames: frames of a video processed (the first ones).
        allowed_hosts: the ``Host`` headers answered (``None``: any); ``packdepth serve`` on a
            loopback address answers only its own names, so that no other web site can reach the
            page through DNS rebinding.

    Raises:
        PackdepthError: no model found.
    """
    shelf = ModelShelf(model, models_dir, device)
    store = JobStore(max_jobs, int(max_upload_mb * 2**20))
    examples = list_examples()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="packdepth", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.store, app.state.shelf = store, shelf
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_option(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return JSONResponse({"error": f"{where}: {first.get('msg', 'invalid')}"}, 422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        LOG.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}): see the server's "
                                      "log"}, 500)

    def get_model(name: str | None):
        try:
            return shelf.get(name)
        except KeyError:
            raise WebError(404, f"no model {name!r} (models: {', '.join(shelf.names())})") \
                from None
        except PackdepthError as exc:
            raise WebError(500, f"model {name or shelf.default}: {one_line(exc)}") from None

    def image_job(job: Job, name: str, model_name: str | None, upload: Path | None = None,
                  **options) -> dict:
        """Run :func:`analyse_image` on an upload (or an example's path) for ``job``."""
        import numpy as np
        from PIL import Image

        from packdepth.data.images import image_size, read_image
        from packdepth.web.analyse import analyse_image

        net = get_model(model_name)
        source = upload or options.pop("path")
        try:
            w, h = image_size(source)
            if w * h > max_pixels:
                raise WebError(413, f"{name}: {w}x{h} is larger than this page's "
                               f"{max_pixels / 1e6:g} megapixels (use packdepth infer)")
            rgb = np.asarray(read_image(source, np.uint8))
        except (PackdepthError, Image.DecompressionBombError) as exc:
            raise WebError(400, one_line(exc, upload, name)) from None
        finally:
            if upload is not None:
                upload.unlink(missing_ok=True)
        info = analyse_image(net, rgb, job.folder, **options)
        job.files = {p.name for p in job.folder.iterdir()}
        job.info = {"name": name, "model": model_name or shelf.default, **info}
        job.state = "done"
        return job.status()

    async def run_image(job: Job, *args, **kwargs) -> dict:
        try:
            return await run_in_threadpool(image_job, job, *args, **kwargs)
        except PackdepthError as exc:
            store.discard(job)
            raise WebError(400, one_line(exc)) from None
        except BaseException:
            store.discard(job)
            raise

    def positive():  # a new Query each time: FastAPI binds one instance to one parameter
        return Query(None, gt=0, le=1e5)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/info")
    async def info() -> dict:
        return {"version": __version__, "models": shelf.names(), "default": shelf.default,
                "examples": [e.as_dict() for e in examples.values()],
                "max_upload_mb": store.max_upload / 2**20, "max_video_frames": max_video_frames,
                "video_suffixes": sorted(VIDEO_SUFFIXES)}

    async def receive(job: Job, request: Request, name: str) -> Path:
        """The request body saved into ``job``'s folder; the job is dropped if that fails."""
        try:
            return await store.receive(job, request.stream(), name,
                                       request.headers.get("content-length"))
        except BaseException:
            store.discard(job)
            raise

    @app.post("/api/image")
    async def upload_image(request: Request, name: str = "image", model: str | None = None,
                           camera_height: float | None = positive(),
                           fx: float | None = positive()) -> dict:
        job = store.create("image")
        upload = await receive(job, request, name)
        return await run_image(job, name, model, upload, fx=fx, camera_height=camera_height)

    @app.post("/api/examples/{example}")
    async def run_example(example: str, model: str | None = None,
                          camera_height: float | None = positive()) -> dict:
        if example not in examples:
            raise WebError(404, f"no example {example!r} (examples: {', '.join(examples)})")
        e = examples[example]
        return await run_image(store.create("image"), example, model, path=e.path, K=e.K,
                               camera_height=camera_height)

    @app.post("/api/video", status_code=202)
    async def upload_video(request: Request, name: str = "video", model: str | None = None,
                           camera_height: float | None = positive(),
                           fx: float | None = positive()) -> dict:
        from packdepth.web.analyse import depth_video

        if Path(name).suffix.lower() not in VIDEO_SUFFIXES:
            raise WebError(400, f"{name}: not a video file name (expected one of "
                           f"{', '.join(sorted(VIDEO_SUFFIXES))})")
        net = get_model(model)
        job = store.create("video")
        upload = await receive(job, request, name)

        def work(job: Job) -> dict:
            info = depth_video(net, job, upload, fx=fx, camera_height=camera_height,
                               max_frames=max_video_frames)
            job.files = {"depth.mp4"}
            return {"name": name, **info}

        store.start(job, work, lambda exc: one_line(exc, upload, name))
        return job.status()

    @app.get("/api/jobs/{job_id}")
    async def job_status(job_id: str) -> dict:
        return store.get(job_id).status()

    @app.get("/api/jobs/{job_id}/files/{file}")
    async def job_file(job_id: str, file: str) -> FileResponse:
        return FileResponse(store.file(job_id, file))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
