"""owui-dev's own files: where they live, and the record of a running `up`.

A running `up` holds an exclusive lock on `runs/<name>.lock` and writes what it serves into
`runs/<name>.json`, so a second `up` for the same name can say "already running at <url>" instead of
racing for the container, and `status` can show the public URL.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from owui_dev import problems
from owui_dev.errors import OwuiDevError


def state_dir() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("owui-dev", appauthor=False))


def runs_dir() -> Path:
    """Where the run records live. Only what writes there creates it: reading commands write nothing."""
    return state_dir() / "runs"


def ensure_folder(path: Path, *, for_file: Path | None = None) -> Path:
    """Create `path` (0700) if needed; a folder that cannot be made or used is a StorageError naming why
    (and the file it was meant for, if any)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        raise unusable(for_file or path, err) from err
    return path


def write_private(path: Path, text: str) -> None:
    """Write a file only the user can read (0600), never briefly world-readable, and whole or not at all: it is
    written beside its place and then renamed over it, so a process ended halfway (`up` exits at once once it
    has undone its work) never leaves an empty file where the instance's secrets were."""
    ensure_folder(path.parent, for_file=path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if hasattr(os, "fchmod"):  # POSIX: also tighten a file that existed with wider permissions
                os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
        os.replace(partial, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise unusable(path, err) from err


def remove_private(path: Path) -> bool:
    """Remove one of owui-dev's files; False when there was none (also when its folder cannot exist)."""
    try:
        path.unlink()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:
        raise unusable(path, err) from err
    return True


def unusable(path: Path, err: OSError) -> OwuiDevError:
    """The problem to report when `path` cannot be written: under the state folder, or (the only other files
    owui-dev writes) in ngrok's config folder."""
    why = _why(path, err)
    state = state_dir()
    if path == state or state in path.parents:
        return problems.STATE_DIR_UNUSABLE(path=path, why=why, folder=state)
    return problems.CONFIG_DIR_UNUSABLE(path=path, why=why, folder=path.parent)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:
        return False


def _why(path: Path, err: OSError) -> str:
    if err.errno in {errno.ENOTDIR, errno.EEXIST}:
        for step in [*reversed(path.parents), path]:  # from the root down: the first file in the way
            if _exists(step) and not step.is_dir():
                return f"{step} is a file, not a folder"
    if err.errno == errno.EISDIR:
        return f"{path} is a folder, not a file"
    if err.errno in {errno.EACCES, errno.EPERM}:
        folder = next((step for step in [path, *path.parents] if _exists(step)), path)
        return f"permission denied: {folder} is not writable for you"
    if err.errno == errno.EROFS:
        return "the file system is read-only"
    return err.strerror or str(err)


@dataclass(frozen=True)
class RunRecord:
    """What a running `up` serves: enough for `status`, `qr` and `check` to work without starting anything."""

    pid: int
    public_url: str | None = None
    local_url: str | None = None
    call_url: str | None = None
    gated: bool = False
    # Where the models come from (owui_dev.ollama.OllamaSource.as_dict), for the model check's hint.
    model_source: dict[str, Any] | None = None
    # An Open WebUI this run serves but did not start (owui_dev.external): the container's name, or the URL.
    attached: str | None = None
    external_url: str | None = None


def _lock(handle: IO[str]) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the record alone has to do.
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class RunLock:
    """Held for the whole of one `up`; released by the OS even if the process is killed."""

    def __init__(self, name: str, handle: IO[str]) -> None:
        self.name = name
        self._handle = handle
        self._record_path = runs_dir() / f"{name}.json"

    @classmethod
    @contextlib.contextmanager
    def acquire(cls, name: str) -> Iterator[RunLock]:
        path = ensure_folder(runs_dir()) / f"{name}.lock"
        try:
            handle = path.open("a+", encoding="utf-8")
        except OSError as err:
            raise unusable(path, err) from err
        try:
            if not _lock(handle):
                record = read_run_record(name)
                where = f" at {record.public_url}" if record and record.public_url else ""
                pid = f" (pid {record.pid})" if record else ""
                raise problems.ALREADY_RUNNING(name=name, pid=pid, where=where)
            lock = cls(name, handle)
            lock.publish(RunRecord(pid=os.getpid()))
            try:
                yield lock
            finally:
                with contextlib.suppress(OSError):
                    lock._record_path.unlink()
        finally:
            handle.close()

    def publish(self, record: RunRecord) -> None:
        write_private(self._record_path, json.dumps(record.__dict__))


def read_run_record(name: str) -> RunRecord | None:
    """What a running `up` for `name` serves, or None when none runs."""
    path = runs_dir() / f"{name}.json"
    lock_path = runs_dir() / f"{name}.lock"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # No lock file, or one that cannot be probed: trust the record rather than take a live run for a dead one.
    with contextlib.suppress(OSError), lock_path.open("r", encoding="utf-8") as probe:
        if _lock(probe):  # nobody holds it: the record is stale
            return None
    source = data.get("model_source")
    return RunRecord(
        pid=int(data.get("pid", 0)),
        public_url=data.get("public_url"),
        local_url=data.get("local_url"),
        call_url=data.get("call_url"),
        gated=data.get("gated") is True,
        model_source=source if isinstance(source, dict) else None,
        attached=data.get("attached") if isinstance(data.get("attached"), str) else None,
        external_url=data.get("external_url") if isinstance(data.get("external_url"), str) else None,
    )
