"""A tiny in-process Docker registry (Registry HTTP API V2 / OCI distribution, pull side only).

It exists so that tests can drive the *real* Docker engine through a real ``docker pull``
(progress stream, errors, retries) without reaching any real registry.  Standard library only.

The engine treats registries on ``127.0.0.0/8`` as insecure (plain HTTP) by default, so
``docker pull 127.0.0.1:PORT/name:tag`` works against this server with no daemon configuration.

Example::

    with FakeRegistry(throttle_bytes_per_sec=2_000_000) as reg:
        served = reg.add_image_from_engine(client, "some-local-image:tag", "x/y", "t",
                                           extra_layer_bytes=3_000_000)
        for event in client.api.pull(f"{reg.host}/x/y", tag="t", stream=True, decode=True):
            ...
        assert client.images.get(served.reference).id == served.image_id
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import socket
import tarfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

_MANIFEST_RE = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")
_BLOB_RE = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
_TAGS_RE = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_RANGE_RE = re.compile(r"^bytes=(\d+)-(\d*)$")


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``, the form registries use for digests."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_tar(files: Mapping[str, bytes], *, mtime: int = 0) -> bytes:
    """An uncompressed tar holding ``files`` (path -> content), deterministic for a given input.

    Handy both as a layer and as the input of ``client.api.import_image(src=...)``.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            info.mtime = mtime
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


@dataclass(frozen=True)
class ServedImage:
    """What the registry serves for one ``name:tag`` (returned by the ``add_image*`` methods)."""

    registry_host: str
    name: str
    tag: str
    manifest_digest: str
    #: Digest of the config blob == the image ID the engine reports after the pull.
    config_digest: str
    layer_digests: tuple[str, ...]
    layer_sizes: tuple[int, ...]
    diff_ids: tuple[str, ...]

    @property
    def repository(self) -> str:
        """``127.0.0.1:PORT/name`` — what to pass as ``repository`` to ``client.api.pull``."""
        return f"{self.registry_host}/{self.name}"

    @property
    def reference(self) -> str:
        """``127.0.0.1:PORT/name:tag``."""
        return f"{self.repository}:{self.tag}"

    @property
    def image_id(self) -> str:
        return self.config_digest

    @property
    def total_layer_bytes(self) -> int:
        """Sum of the compressed layer sizes (what the progress bars add up to)."""
        return sum(self.layer_sizes)


@dataclass
class _Blob:
    data: bytes
    is_layer: bool


@dataclass
class _Repo:
    tags: dict[str, str] = field(default_factory=dict)  # tag -> manifest digest
    manifests: dict[str, bytes] = field(default_factory=dict)  # digest -> manifest bytes
    blobs: set[str] = field(default_factory=set)  # digests linked into this repository


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    status: int
    headers: dict[str, str]


class FakeRegistry:
    """A pull-only registry on ``127.0.0.1:<ephemeral port>`` served from a background thread.

    Behaviour knobs (all may also be changed on the instance while it runs):

    ``deny``
        Repository names (e.g. ``{"x/secret"}``) for which every manifest/blob/tags request gets
        ``401`` with a Bearer ``error="insufficient_scope"`` challenge and a ``DENIED`` error body
        (no token dance: the ``/v2/`` ping answers 200).  The engine reports it exactly like Docker
        Hub's answer for a private or non-existent repository: ``pull access denied for <repo>,
        repository does not exist or may require 'docker login': denied: requested access to the
        resource is denied`` (docker-py raises ``ImageNotFound`` from ``pull()``).
    ``deny_code``
        ``"DENIED"`` (default, as above) or ``"UNAUTHORIZED"`` (a plain ``401`` with an
        ``UNAUTHORIZED`` body and no challenge; the engine reports ``unauthorized: ...``).
    ``throttle_bytes_per_sec``
        Rate limit for each blob response, so that a pull lasts long enough for several progress
        updates (the engine emits at most one ``Downloading`` event per layer every ~100 ms).
    ``fail_blob_after_bytes``
        Cut every *layer* blob GET (config blobs are never cut) by closing the connection once
        ``N`` bytes of the blob have been sent (counted from the blob start, so a ranged resume
        request that starts at or beyond ``N`` is cut right after its headers).
    ``fail_blob_attempts``
        With ``fail_blob_after_bytes``: only the first ``K`` GETs of each blob are cut, later ones
        are served in full (``None``: every GET is cut, the pull can never succeed).
    ``corrupt_blobs``
        Serve layer blobs with the right length but a flipped byte after the first half, so the
        engine fails the digest check ("filesystem layer verification failed") without retrying.

    Ranged GETs (``Range: bytes=N-``) are answered with ``206``, so the engine's resume logic works.
    """

    def __init__(
        self,
        *,
        deny: Iterable[str] = (),
        deny_code: str = "DENIED",
        throttle_bytes_per_sec: int | None = None,
        fail_blob_after_bytes: int | None = None,
        fail_blob_attempts: int | None = None,
        corrupt_blobs: bool = False,
        bind_host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if deny_code not in ("DENIED", "UNAUTHORIZED"):
            raise ValueError("deny_code must be 'DENIED' or 'UNAUTHORIZED'")
        self.deny: set[str] = set(deny)
        self.deny_code = deny_code
        self.throttle_bytes_per_sec = throttle_bytes_per_sec
        self.fail_blob_after_bytes = fail_blob_after_bytes
        self.fail_blob_attempts = fail_blob_attempts
        self.corrupt_blobs = corrupt_blobs
        self._bind = (bind_host, port)
        self._lock = threading.Lock()
        self._repos: dict[str, _Repo] = {}
        self._blobs: dict[str, _Blob] = {}
        self._blob_get_counts: dict[str, int] = {}
        self.requests: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeRegistry:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(self._bind, _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-registry", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # in-flight (throttled) blob responses are cut short
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeRegistry:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeRegistry is not running (use start() or a with-block)")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` — the registry part of an image reference."""
        return f"{self._bind[0]}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def reference(self, name: str, tag: str) -> str:
        return f"{self.host}/{name}:{tag}"

    def blob_get_count(self, digest: str) -> int:
        """How many GET requests the blob ``digest`` received so far."""
        with self._lock:
            return self._blob_get_counts.get(digest, 0)

    # ------------------------------------------------------------------ content
    def add_image(
        self,
        name: str,
        tag: str,
        config: bytes | Mapping[str, Any],
        layers: Iterable[bytes],
    ) -> ServedImage:
        """Serve an image made of ``config`` (JSON bytes, served byte-for-byte, or a mapping) and
        ``layers`` (tar bytes, bottom-most first; plain tars are gzipped, gzip data is kept as is).

        The config's ``rootfs.diff_ids`` must match the uncompressed layers; this is checked.
        The registry must be running (the returned references contain its port).
        """
        host = self.host
        config_bytes = config if isinstance(config, bytes) else json.dumps(config).encode()
        config_digest = sha256_digest(config_bytes)
        diff_ids: list[str] = []
        compressed_layers: list[bytes] = []
        for layer in layers:
            if layer[:2] == b"\x1f\x8b":
                compressed, raw = layer, gzip.decompress(layer)
            else:
                raw, compressed = layer, gzip.compress(layer, compresslevel=6, mtime=0)
            diff_ids.append(sha256_digest(raw))
            compressed_layers.append(compressed)
        declared = json.loads(config_bytes).get("rootfs", {}).get("diff_ids", [])
        if declared != diff_ids:
            raise ValueError(f"config rootfs.diff_ids {declared} do not match the layers {diff_ids}")

        layer_digests = [sha256_digest(data) for data in compressed_layers]
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": CONFIG_V1, "size": len(config_bytes), "digest": config_digest},
            "layers": [
                {"mediaType": LAYER_TAR_GZIP, "size": len(data), "digest": digest}
                for data, digest in zip(compressed_layers, layer_digests, strict=True)
            ],
        }
        manifest_bytes = json.dumps(manifest, indent=3).encode()
        manifest_digest = sha256_digest(manifest_bytes)

        with self._lock:
            repo = self._repos.setdefault(name, _Repo())
            self._blobs[config_digest] = _Blob(config_bytes, is_layer=False)
            repo.blobs.add(config_digest)
            for data, digest in zip(compressed_layers, layer_digests, strict=True):
                self._blobs[digest] = _Blob(data, is_layer=True)
                repo.blobs.add(digest)
            repo.manifests[manifest_digest] = manifest_bytes
            repo.tags[tag] = manifest_digest

        return ServedImage(
            registry_host=host,
            name=name,
            tag=tag,
            manifest_digest=manifest_digest,
            config_digest=config_digest,
            layer_digests=tuple(layer_digests),
            layer_sizes=tuple(len(data) for data in compressed_layers),
            diff_ids=tuple(diff_ids),
        )

    def add_image_from_engine(
        self,
        client: Any,
        source_ref: str,
        name: str,
        tag: str,
        *,
        extra_layer_bytes: int = 0,
    ) -> ServedImage:
        """Serve the local engine image ``source_ref`` as ``name:tag``.

        ``client`` is a ``docker.DockerClient``.  The image is read with ``docker save``; its
        config is served unchanged (so the pulled image gets the same ID as the source) unless
        ``extra_layer_bytes`` > 0, in which case a layer holding one file of that many random
        (incompressible) bytes is appended and ``rootfs.diff_ids``/``history`` are extended.
        """
        config_bytes, layers = _read_docker_save(b"".join(client.images.get(source_ref).save()))
        if extra_layer_bytes > 0:
            extra = make_tar({"fake-registry-padding.bin": os.urandom(extra_layer_bytes)})
            config = json.loads(config_bytes)
            rootfs = config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
            rootfs.setdefault("diff_ids", []).append(sha256_digest(extra))
            config.setdefault("history", []).append(
                {
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "created_by": f"fake-registry: {extra_layer_bytes} bytes of random padding",
                }
            )
            config_bytes = json.dumps(config).encode()
            layers = [*layers, extra]
        return self.add_image(name, tag, config_bytes, layers)

    # ------------------------------------------------------------------ request helpers
    def _lookup_manifest(self, name: str, ref: str) -> tuple[str, bytes] | tuple[str, None]:
        with self._lock:
            repo = self._repos.get(name)
            if repo is None:
                return "NAME_UNKNOWN", None
            digest = ref if ref.startswith("sha256:") else repo.tags.get(ref)
            if digest is None or digest not in repo.manifests:
                return "MANIFEST_UNKNOWN", None
            return digest, repo.manifests[digest]

    def _lookup_blob(self, name: str, digest: str, *, count_get: bool) -> tuple[_Blob | None, int]:
        with self._lock:
            repo = self._repos.get(name)
            if repo is None or digest not in repo.blobs or digest not in self._blobs:
                return None, 0
            attempt = self._blob_get_counts.get(digest, 0) + 1 if count_get else 0
            if count_get:
                self._blob_get_counts[digest] = attempt
            return self._blobs[digest], attempt

    def _tags(self, name: str) -> list[str] | None:
        with self._lock:
            repo = self._repos.get(name)
            return None if repo is None else sorted(repo.tags)


def _read_docker_save(tar_bytes: bytes) -> tuple[bytes, list[bytes]]:
    """(config bytes, layer tars) of the single image in a ``docker save`` tarball.

    Handles the classic layout (``<id>.json``, ``<id>/layer.tar``) and the OCI-layout one of
    newer engines (``blobs/sha256/<hex>``); symlinked layer files are followed.
    """
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:

        def read(member_name: str) -> bytes:
            f = tar.extractfile(member_name)
            if f is None:
                raise ValueError(f"{member_name} is not a regular file in the docker-save tarball")
            return f.read()

        manifest = json.loads(read("manifest.json"))
        if len(manifest) != 1:
            raise ValueError(f"expected exactly one image in the docker-save tarball, got {len(manifest)}")
        entry = manifest[0]
        return read(entry["Config"]), [read(layer) for layer in entry["Layers"]]


def _error_body(code: str, message: str, detail: object = None) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()


def _make_handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-registry/1.0"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep pytest output clean; see registry.requests instead

        # -------------------------------------------------------------- plumbing
        def _record(self, status: int) -> None:
            registry.requests.append(
                RequestRecord(self.command, self.path, status, {k.lower(): v for k, v in self.headers.items()})
            )

        def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
            self._record(status)
            self.send_response(status)
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            hdrs = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
            for key, value in hdrs.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, detail: object = None, **headers: str) -> None:
            self._send(status, _error_body(code, message, detail), headers)

        def _denied(self, name: str) -> None:
            detail = [{"Type": "repository", "Class": "", "Name": name, "Action": "pull"}]
            if registry.deny_code == "DENIED":
                challenge = (
                    f'Bearer realm="{registry.url}/token",service="fake-registry",'
                    f'scope="repository:{name}:pull",error="insufficient_scope"'
                )
                self._error(
                    401,
                    "DENIED",
                    "requested access to the resource is denied",
                    detail,
                    **{"WWW-Authenticate": challenge},
                )
            else:
                self._error(401, "UNAUTHORIZED", "authentication required", detail)

        # -------------------------------------------------------------- routes
        def do_GET(self) -> None:
            self._route()

        def do_HEAD(self) -> None:
            self._route()

        def _route(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/v2", "/v2/"):
                self._send(200, b"{}")
                return
            for regex, handler in (
                (_MANIFEST_RE, self._manifest),
                (_BLOB_RE, self._blob),
                (_TAGS_RE, self._tags_list),
            ):
                match = regex.match(path)
                if match:
                    name = match.group("name")
                    if name in registry.deny:
                        self._denied(name)
                    else:
                        handler(name, *match.groups()[1:])
                    return
            self._error(404, "NOT_FOUND", "not found", {"path": path})

        def _manifest(self, name: str, ref: str) -> None:
            digest, body = registry._lookup_manifest(name, ref)
            if body is None:
                if digest == "NAME_UNKNOWN":
                    self._error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
                else:
                    self._error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Tag": ref})
                return
            self._send(
                200,
                body,
                {"Content-Type": MANIFEST_V2, "Docker-Content-Digest": digest, "Etag": f'"{digest}"'},
            )

        def _tags_list(self, name: str) -> None:
            tags = registry._tags(name)
            if tags is None:
                self._error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
            else:
                self._send(200, json.dumps({"name": name, "tags": tags}).encode())

        def _blob(self, name: str, digest: str) -> None:
            blob, attempt = registry._lookup_blob(name, digest, count_get=self.command == "GET")
            if blob is None:
                self._error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest)
                return
            data = blob.data
            headers = {
                "Content-Type": "application/octet-stream",
                "Docker-Content-Digest": digest,
                "Etag": f'"{digest}"',
                "Accept-Ranges": "bytes",
                "Cache-Control": "max-age=31536000",
            }
            start, end = 0, len(data)  # end is exclusive
            status = 200
            range_header = self.headers.get("Range")
            if range_header and self.command == "GET":
                m = _RANGE_RE.match(range_header.strip())
                if m is None or int(m.group(1)) >= len(data):
                    self._error(
                        416,
                        "RANGE_INVALID",
                        "invalid content range",
                        range_header,
                        **{"Content-Range": f"bytes */{len(data)}"},
                    )
                    return
                start = int(m.group(1))
                if m.group(2):
                    end = min(len(data), int(m.group(2)) + 1)
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"

            self._record(status)
            self.send_response(status)
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(end - start))
            self.end_headers()
            if self.command == "HEAD":
                return

            cut_at = end
            fail_after = registry.fail_blob_after_bytes
            max_failures = registry.fail_blob_attempts
            if blob.is_layer and fail_after is not None and (max_failures is None or attempt <= max_failures):
                cut_at = max(start, min(end, fail_after))
            if blob.is_layer and registry.corrupt_blobs:
                mid = len(data) // 2
                data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
            self._write_body(data, start, end, cut_at)

        def _write_body(self, data: bytes, start: int, end: int, cut_at: int) -> None:
            rate = registry.throttle_bytes_per_sec
            chunk = 64 * 1024 if not rate else max(1024, min(64 * 1024, rate // 20))
            began = time.monotonic()
            sent = 0
            pos = start
            try:
                while pos < cut_at and not registry._stopping.is_set():
                    piece = data[pos : min(pos + chunk, cut_at)]
                    self.wfile.write(piece)
                    self.wfile.flush()
                    pos += len(piece)
                    sent += len(piece)
                    if rate:
                        ahead = sent / rate - (time.monotonic() - began)
                        if ahead > 0:
                            time.sleep(ahead)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
                return
            if pos < end:
                self._drop_connection()

        def _drop_connection(self) -> None:
            """Abort the response mid-body: the client sees an unexpected EOF / reset."""
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    return Handler
