"""The fake registry in ``tests/fake_registry``, checked over raw HTTP and through real ``docker pull``s.

The engine tests pull from ``127.0.0.1:<port>`` (insecure/plain HTTP by default for 127.0.0.0/8) with
``client.api.pull(..., stream=True, decode=True)`` — the same call owui-dev uses for its progress bar.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import pytest
from fake_registry import MANIFEST_V2, FakeRegistry, ServedImage, make_tar, sha256_digest

# The engine counts a retry down once a second ("Retrying in 5 seconds", "... 4 seconds", ...), but it hands
# each watcher only the latest progress of a transfer: on a loaded machine the first notices can be skipped.
RETRY_NOTICE = re.compile(r"Retrying in [1-5] seconds?")

# --------------------------------------------------------------------------- helpers


def short_id(digest: str) -> str:
    """The layer id the engine uses in progress events (first 12 hex digits of the blob digest)."""
    return digest.split(":", 1)[1][:12]


@dataclass
class PullResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    #: Text of the first ``{"error": ...}`` item in the stream, or of the exception ``pull()`` raised.
    error: str | None = None
    exception: docker.errors.APIError | None = None

    def statuses(self, layer: str | None = None) -> list[str]:
        return [e.get("status", "") for e in self.events if layer is None or e.get("id") == layer]


def run_pull(client: docker.DockerClient, repository: str, tag: str) -> PullResult:
    result = PullResult()
    try:
        for event in client.api.pull(repository, tag=tag, stream=True, decode=True):
            result.events.append(event)
            if "error" in event and result.error is None:
                result.error = str(event["error"])
    except docker.errors.APIError as exc:
        result.exception = exc
        result.error = str(exc.explanation or exc)
    return result


def http(method: str, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def image_exists(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except docker.errors.DockerException as exc:
        message = f"Docker engine not reachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture(scope="module")
def source_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """A throwaway one-file image made with ``docker import`` (never run, so no base image needed).

    The file holds a random token, so the image ID is unique to this test session.
    """
    token = uuid.uuid4().hex
    repository, tag = "owui-dev-test/fake-registry-src", token[:12]
    docker_client.api.import_image(
        src=make_tar({"hello.txt": f"hello from the fake registry test {token}\n".encode()}),
        repository=repository,
        tag=tag,
    )
    image = docker_client.images.get(f"{repository}:{tag}")
    yield f"{repository}:{tag}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(image.id, force=True)


@pytest.fixture
def registry_cleanup(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """Append a registry ``host`` to the list: every image tag pulled from it is removed afterwards."""
    hosts: list[str] = []
    yield hosts
    for image in docker_client.images.list():
        for tag in image.tags:
            if any(tag.startswith(f"{host}/") for host in hosts):
                with contextlib.suppress(docker.errors.ImageNotFound):
                    docker_client.images.remove(tag)


# --------------------------------------------------------------------------- raw HTTP (no engine)


def _handmade_image(reg: FakeRegistry) -> ServedImage:
    layer = make_tar({"etc/greeting": b"hello\n"})
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256_digest(layer)]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "handmade"}],
    }
    return reg.add_image("x/y", "t", config, [layer])


def test_http_api_serves_consistent_manifest_and_blobs() -> None:
    with FakeRegistry() as reg:
        served = _handmade_image(reg)
        base = reg.url

        status, headers, _ = http("GET", f"{base}/v2/")
        assert status == 200
        assert headers["docker-distribution-api-version"] == "registry/2.0"

        status, headers, body = http("GET", f"{base}/v2/x/y/manifests/t", {"Accept": MANIFEST_V2})
        assert status == 200
        assert headers["content-type"] == MANIFEST_V2
        assert headers["docker-content-digest"] == served.manifest_digest == sha256_digest(body)
        assert int(headers["content-length"]) == len(body)
        manifest = json.loads(body)
        assert manifest["schemaVersion"] == 2
        assert manifest["mediaType"] == MANIFEST_V2
        assert manifest["config"]["digest"] == served.config_digest

        status, headers, head_body = http("HEAD", f"{base}/v2/x/y/manifests/{served.manifest_digest}")
        assert (status, head_body) == (200, b"")
        assert headers["docker-content-digest"] == served.manifest_digest
        assert int(headers["content-length"]) == len(body)

        for descriptor in [manifest["config"], *manifest["layers"]]:
            url = f"{base}/v2/x/y/blobs/{descriptor['digest']}"
            status, headers, blob = http("GET", url)
            assert status == 200
            assert len(blob) == descriptor["size"] == int(headers["content-length"])
            assert sha256_digest(blob) == descriptor["digest"] == headers["docker-content-digest"]
            status, headers, _ = http("HEAD", url)
            assert (status, int(headers["content-length"])) == (200, descriptor["size"])

        layer_blob = http("GET", f"{base}/v2/x/y/blobs/{served.layer_digests[0]}")[2]
        assert sha256_digest(gzip.decompress(layer_blob)) == served.diff_ids[0]
        status, headers, part = http("GET", f"{base}/v2/x/y/blobs/{served.layer_digests[0]}", {"Range": "bytes=10-"})
        assert status == 206
        assert part == layer_blob[10:]
        assert headers["content-range"] == f"bytes 10-{len(layer_blob) - 1}/{len(layer_blob)}"

        status, _, body = http("GET", f"{base}/v2/x/y/tags/list")
        assert (status, json.loads(body)) == (200, {"name": "x/y", "tags": ["t"]})


def test_http_api_errors() -> None:
    with FakeRegistry(deny={"x/secret"}) as reg:
        served = _handmade_image(reg)
        base = reg.url

        status, headers, body = http("GET", f"{base}/v2/x/y/manifests/nope")
        assert status == 404
        assert headers["content-type"].startswith("application/json")
        error = json.loads(body)["errors"][0]
        assert (error["code"], error["message"]) == ("MANIFEST_UNKNOWN", "manifest unknown")

        status, _, body = http("GET", f"{base}/v2/x/unknown/manifests/t")
        assert status == 404
        assert json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"

        status, _, body = http("GET", f"{base}/v2/x/y/blobs/sha256:{'0' * 64}")
        assert status == 404
        assert json.loads(body)["errors"][0]["code"] == "BLOB_UNKNOWN"

        status, headers, body = http("GET", f"{base}/v2/x/secret/manifests/t")
        assert status == 401
        assert 'error="insufficient_scope"' in headers["www-authenticate"]
        assert json.loads(body)["errors"][0]["code"] == "DENIED"

        # Blobs are only reachable through a repository that holds them.
        status, _, _ = http("GET", f"{base}/v2/x/other/blobs/{served.config_digest}")
        assert status == 404


# --------------------------------------------------------------------------- real engine pulls


@pytest.mark.timeout(60)
def test_pull_streams_download_progress_and_creates_the_image(
    docker_client: docker.DockerClient, source_image: str, registry_cleanup: list[str]
) -> None:
    with FakeRegistry(throttle_bytes_per_sec=3_000_000) as reg:
        registry_cleanup.append(reg.host)
        served = reg.add_image_from_engine(docker_client, source_image, "x/y", "t", extra_layer_bytes=3_000_000)
        assert len(served.layer_digests) == 2
        padding = short_id(served.layer_digests[-1])

        result = run_pull(docker_client, served.repository, "t")

        assert result.error is None, result.events
        assert result.events[0] == {"status": "Pulling from x/y", "id": "t"}
        downloading = [e for e in result.events if e.get("status") == "Downloading" and e.get("id") == padding]
        assert len(downloading) >= 3, result.events  # ~1 s at 3 MB/s, at most one update per 100 ms
        for event in downloading:
            detail = event["progressDetail"]
            assert detail["total"] == served.layer_sizes[-1]
            assert 0 < detail["current"] <= detail["total"]
        currents = [e["progressDetail"]["current"] for e in downloading]
        assert currents == sorted(currents)
        assert "Pull complete" in result.statuses(padding)
        # The base layer may be "Already exists" if an earlier pull already registered that blob.
        base = result.statuses(short_id(served.layer_digests[0]))
        assert "Pull complete" in base or "Already exists" in base
        assert f"Digest: {served.manifest_digest}" in result.statuses()
        assert result.statuses()[-1] == f"Status: Downloaded newer image for {served.reference}"

        image = docker_client.images.get(served.reference)
        assert image.id == served.image_id
        assert image.attrs["RootFS"]["Layers"] == list(served.diff_ids)
        assert image.attrs["Size"] >= 3_000_000
        assert any("random padding" in (h.get("CreatedBy") or "") for h in image.history())

        again = run_pull(docker_client, served.repository, "t")
        assert again.error is None
        assert again.statuses()[-1] == f"Status: Image is up to date for {served.reference}"


@pytest.mark.timeout(60)
def test_served_unchanged_image_keeps_the_source_image_id(
    docker_client: docker.DockerClient, source_image: str, registry_cleanup: list[str]
) -> None:
    with FakeRegistry() as reg:
        registry_cleanup.append(reg.host)
        served = reg.add_image_from_engine(docker_client, source_image, "owui/src", "v1")
        assert served.image_id == docker_client.images.get(source_image).id

        result = run_pull(docker_client, served.repository, "v1")

        assert result.error is None, result.events
        assert docker_client.images.get(served.reference).id == served.image_id


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "tag", "expected"),
    [
        pytest.param("x/y", "nope", "manifest unknown", id="unknown-tag"),
        pytest.param("x/nothing-here", "t", "not found", id="unknown-repository"),
    ],
)
def test_pull_of_something_missing_fails_with_not_found(
    docker_client: docker.DockerClient,
    source_image: str,
    registry_cleanup: list[str],
    name: str,
    tag: str,
    expected: str,
) -> None:
    with FakeRegistry() as reg:
        registry_cleanup.append(reg.host)
        reg.add_image_from_engine(docker_client, source_image, "x/y", "t")

        result = run_pull(docker_client, f"{reg.host}/{name}", tag)

        assert result.error is not None, result.events
        assert expected in result.error
        assert "not found" in result.error
        # The engine fails before streaming anything, so docker-py raises from pull() itself.
        assert isinstance(result.exception, docker.errors.NotFound)
        assert not image_exists(docker_client, f"{reg.host}/{name}:{tag}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("deny_code", "expected"),
    [
        pytest.param("DENIED", "pull access denied", id="denied"),
        pytest.param("UNAUTHORIZED", "unauthorized", id="unauthorized"),
    ],
)
def test_pull_of_a_denied_repository_fails(
    docker_client: docker.DockerClient,
    source_image: str,
    registry_cleanup: list[str],
    deny_code: str,
    expected: str,
) -> None:
    with FakeRegistry(deny={"x/private"}, deny_code=deny_code) as reg:
        registry_cleanup.append(reg.host)
        served = reg.add_image_from_engine(docker_client, source_image, "x/private", "t")

        result = run_pull(docker_client, served.repository, "t")

        assert result.error is not None, result.events
        assert expected in result.error
        assert isinstance(result.exception, docker.errors.APIError)
        assert not image_exists(docker_client, served.reference)


@pytest.mark.timeout(60)
def test_corrupted_layer_fails_the_pull_mid_download(
    docker_client: docker.DockerClient, source_image: str, registry_cleanup: list[str]
) -> None:
    with FakeRegistry(corrupt_blobs=True, throttle_bytes_per_sec=4_000_000) as reg:
        registry_cleanup.append(reg.host)
        served = reg.add_image_from_engine(docker_client, source_image, "x/y", "t", extra_layer_bytes=2_000_000)
        padding = short_id(served.layer_digests[-1])

        result = run_pull(docker_client, served.repository, "t")

        assert result.exception is None  # the failure arrives as an {"error": ...} item in the stream
        assert result.error is not None, result.events
        assert "filesystem layer verification failed" in result.error
        assert "Downloading" in result.statuses(padding)
        assert "errorDetail" in result.events[-1]
        assert not image_exists(docker_client, served.reference)


@pytest.mark.timeout(60)
def test_dropped_connection_is_retried_and_resumed(
    docker_client: docker.DockerClient, source_image: str, registry_cleanup: list[str]
) -> None:
    """One cut mid-blob: the engine counts down 'Retrying in 5 seconds'…, resumes with a Range request."""
    with FakeRegistry(fail_blob_after_bytes=1_000_000, fail_blob_attempts=1) as reg:
        registry_cleanup.append(reg.host)
        served = reg.add_image_from_engine(docker_client, source_image, "x/y", "t", extra_layer_bytes=2_000_000)
        padding = short_id(served.layer_digests[-1])

        started = time.monotonic()
        result = run_pull(docker_client, served.repository, "t")

        assert result.error is None, result.events
        statuses = result.statuses(padding)
        retries = [i for i, status in enumerate(statuses) if RETRY_NOTICE.fullmatch(status)]
        assert retries, statuses
        assert retries[0] < statuses.index("Pull complete")
        assert time.monotonic() - started >= 4
        assert docker_client.images.get(served.reference).id == served.image_id
        blob_path = f"/v2/x/y/blobs/{served.layer_digests[-1]}"
        resumed = [r for r in reg.requests if r.path == blob_path and r.status == 206]
        assert resumed
        assert resumed[0].headers["range"] == "bytes=1000000-"


@pytest.mark.timeout(60)
def test_persistent_drop_makes_the_engine_retry(
    docker_client: docker.DockerClient, source_image: str, registry_cleanup: list[str]
) -> None:
    """A blob that is always cut: the engine retries (5 times, 5 s..25 s apart, ~75 s in all, then
    streams ``{"error": "unexpected EOF"}``).  Far too slow to wait for, so the test stops at the
    first retry notice and abandons the pull — closing the stream makes the engine cancel it."""
    with FakeRegistry(fail_blob_after_bytes=500_000) as reg:
        registry_cleanup.append(reg.host)
        served = reg.add_image_from_engine(docker_client, source_image, "x/y", "t", extra_layer_bytes=2_000_000)
        padding = short_id(served.layer_digests[-1])

        client = docker.from_env(timeout=30)  # its own connection, so that closing it aborts the pull
        seen: list[dict[str, Any]] = []
        try:
            stream = client.api.pull(served.repository, tag="t", stream=True, decode=True)
            for event in stream:
                seen.append(event)
                if "error" in event or str(event.get("status", "")).startswith("Retrying in"):
                    break
            stream.close()
        finally:
            client.close()

        assert RETRY_NOTICE.fullmatch(seen[-1].get("status", "")), seen
        assert seen[-1]["id"] == padding, seen
        cut = [r for r in reg.requests if r.path == f"/v2/x/y/blobs/{served.layer_digests[-1]}" and r.method == "GET"]
        assert len(cut) == 1
        assert not image_exists(docker_client, served.reference)


def test_add_image_rejects_inconsistent_diff_ids() -> None:
    layer = make_tar({"a": b"a"})
    config = {"rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(b"other").hexdigest()]}}
    with FakeRegistry() as reg, pytest.raises(ValueError, match="diff_ids"):
        reg.add_image("x/y", "t", config, [layer])
