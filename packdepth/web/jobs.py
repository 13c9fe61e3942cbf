"""The page's work: uploads and results in one temporary folder, one sub-folder per job.

Everything the server writes lies in a :class:`tempfile.TemporaryDirectory` that the
:class:`JobStore` owns: an upload streams into its job's folder (refused past the size limit
while it arrives, and deleted once read), the job's results stay there until the store holds
more than ``max_jobs`` jobs (the oldest finished ones go first) or the server stops
(:meth:`JobStore.close` cancels running videos and removes the folder).
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class WebError(Exception):
    """An error for the page: HTTP ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Cancelled(Exception):
    """A job stopped because the server is stopping."""


@dataclass
class Job:
    """One request's work.

    Attributes:
        id: random hex, the job's name in URLs.
        folder: where its upload and results lie.
        kind: ``"image"`` or ``"video"``.
        state: ``"running"``, ``"done"`` or ``"error"`` (``error`` says why, one line).
        done, total: frames processed and expected (``total`` ``None`` while unknown).
        files: the result files served, by name (relative to ``folder``).
        info: the result's description for the page.
    """

    id: str
    folder: Path
    kind: str
    state: str = "running"
    done: int = 0
    total: int | None = None
    error: str | None = None
    files: set[str] = field(default_factory=set)
    info: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False

    def progress(self, done: int, total: int | None) -> None:
        """Record progress (the listener of :class:`packdepth.inference.InferOptions`).

        Raises:
            Cancelled: the server is stopping.
        """
        if self.cancelled:
            raise Cancelled(self.id)
        self.done, self.total = done, total

    def status(self) -> dict[str, Any]:
        """JSON for the page's progress poll."""
        return {"job": self.id, "kind": self.kind, "state": self.state, "done": self.done,
                "total": self.total, "error": self.error, **self.info}


def upload_suffix(name: str | None) -> str:
    """The lower-case suffix of an uploaded file's name, if it is a plain one (``.png``), else
    ``""`` (nothing of the client's name is used but this)."""
    suffix = Path(name or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""


class JobStore:
    """Jobs in a temporary folder (see the module docstring).

    Args:
        max_jobs: jobs kept; older finished ones are deleted when a new one starts.
        max_upload: bytes an upload may have.
    """

    def __init__(self, max_jobs: int = 16, max_upload: int = 50 * 2**20) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="packdepth-serve-")
        self.root = Path(self._tmp.name)
        self.max_jobs, self.max_upload = max_jobs, max_upload
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, "packdepth-video")

    def create(self, kind: str) -> Job:
        """A new job with its own empty folder."""
        with self._lock:
            finished = [j for j in self.jobs.values() if j.state != "running"]
            for old in finished[: max(0, len(self.jobs) + 1 - self.max_jobs)]:
                self._remove(old)
            job_id = secrets.token_hex(8)
            job = Job(job_id, self.root / job_id, kind)
            job.folder.mkdir()
            self.jobs[job.id] = job
        return job

    def _remove(self, job: Job) -> None:
        self.jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def discard(self, job: Job) -> None:
        """Delete a job and its files (a failed request's)."""
        with self._lock:
            self._remove(job)

    def get(self, job_id: str) -> Job:
        """Raises :class:`WebError` 404 for an unknown (or deleted) job."""
        job = self.jobs.get(job_id)
        if job is None:
            raise WebError(404, f"no job {job_id!r} (results are kept for the last "
                           f"{self.max_jobs} requests)")
        return job

    def file(self, job_id: str, name: str) -> Path:
        """A result file of a job; raises :class:`WebError` 404 for any other name."""
        job = self.get(job_id)
        if name not in job.files:
            raise WebError(404, f"job {job_id} has no file {name!r}")
        return job.folder / name

    async def receive(self, job: Job, chunks: AsyncIterator[bytes], name: str | None,
                      length: str | None) -> Path:
        """Stream an upload into ``job``'s folder as ``upload<suffix>``.

        Args:
            chunks: the request body.
            name: the client's file name (only its suffix is used: videos are told by it).
            length: the ``Content-Length`` header, when sent (refused early when too large).

        Raises:
            WebError: 413 past :attr:`max_upload` (nothing kept), 400 for an empty body.
        """
        limit_mb = f"{self.max_upload / 2**20:.3g} MB"
        too_big = WebError(413, f"upload too large: the limit is {limit_mb} (packdepth serve "
                           "--max-upload-mb)")
        if length is not None and length.isdigit() and int(length) > self.max_upload:
            raise too_big
        path, size = job.folder / f"upload{upload_suffix(name)}", 0
        with open(path, "wb") as f:
            async for chunk in chunks:
                size += len(chunk)
                if size > self.max_upload:
                    break
                f.write(chunk)
        if size > self.max_upload:
            path.unlink(missing_ok=True)
            raise too_big
        if size == 0:
            path.unlink(missing_ok=True)
            raise WebError(400, f"{name or 'upload'}: empty file")
        return path

    def start(self, job: Job, work: Callable[[Job], dict[str, Any]],
              describe: Callable[[BaseException], str]) -> None:
        """Run ``work(job)`` in the background (one at a time); its dict becomes ``job.info``,
        an exception ``job.error`` (``describe(exc)``, one line)."""

        def run() -> None:
            try:
                job.info = work(job)
                job.state = "done"
            except BaseException as exc:
                job.error, job.state = describe(exc), "error"

        self._pool.submit(run)

    def close(self) -> None:
        """Cancel running jobs, wait for the worker, delete every file."""
        for job in list(self.jobs.values()):
            job.cancelled = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.jobs.clear()
        self._tmp.cleanup()
