"""The fake Open WebUI image behaves like Open WebUI where owui-dev touches it.

Runs real containers on the local Docker engine (skipped without one, failing in CI).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_openwebui.build import IMAGE_REPOSITORY, build_image, build_rootfs_tar

LABEL = "owui-dev-test"
DATA = "/app/backend/data"
REAL_VERSION = "0.12.4"  # open-webui wheel the fake was modelled on

ACCESS_PROHIBITED = (
    "You do not have permission to access this resource. Please contact your administrator for assistance."
)
EMAIL_TAKEN = (
    "Uh-oh! This email is already registered. Sign in with your existing account or choose another email to start anew."
)
INVALID_CRED = "The email or password provided is incorrect. Please check for typos and try logging in again."
EXISTING_USERS = (
    "You can't turn off authentication because there are existing users. If you want to disable WEBUI_AUTH, "
    "make sure your web interface doesn't have any existing users and is a fresh installation."
)


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as err:
        message = f"no Docker engine answers ({err})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs a Docker engine: {message}")
        pytest.skip(message)
    yield client
    client.close()


@pytest.fixture(scope="module")
def image(engine: Any) -> str:
    return build_image(engine)


@dataclass
class Fake:
    container: Any
    port: int | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.get(self.url + path, headers=headers, timeout=5, allow_redirects=False, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, json=body, timeout=5, **kwargs)

    def signup(self, email: str, password: str = "pw-secret", name: str = "Someone") -> requests.Response:
        return self.post("/api/v1/auths/signup", {"name": name, "email": email, "password": password})

    def signin(self, email: str, password: str) -> requests.Response:
        return self.post("/api/v1/auths/signin", {"email": email, "password": password})

    def config(self, token: str | None = None) -> dict[str, Any]:
        response = self.get("/api/config", token)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def logs(self) -> str:
        return self.container.logs().decode("utf-8", "replace")  # type: ignore[no-any-return]

    def last_log_line(self) -> str:
        lines = [line for line in self.logs().splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def healthy(self) -> bool:
        try:
            return requests.get(self.url + "/health", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def wait_healthy(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            self.container.reload()
            assert self.container.status in ("created", "running"), self.logs()
            time.sleep(0.05)
        raise AssertionError(f"not healthy after {timeout}s:\n{self.logs()}")

    def wait_exit(self, timeout: float = 15) -> int:
        return int(self.container.wait(timeout=timeout)["StatusCode"])

    def exec(self, *cmd: str) -> tuple[int, str]:
        code, out = self.container.exec_run(list(cmd))
        return code, out.decode()


@dataclass
class Fakes:
    start: Callable[..., Fake]
    volume: Callable[[], str]


@pytest.fixture
def fakes(engine: Any, image: str) -> Iterator[Fakes]:
    import docker.errors

    containers: list[Any] = []
    volumes: list[Any] = []

    def start(
        env: dict[str, str] | None = None,
        volume: str | None = None,
        wait: bool = True,
        extra_hosts: dict[str, str] | None = None,
    ) -> Fake:
        container = engine.containers.run(
            image,
            detach=True,
            environment=env or {},
            labels={LABEL: "1"},
            ports={"8080/tcp": ("127.0.0.1", None)},
            volumes={volume: {"bind": DATA, "mode": "rw"}} if volume else None,
            extra_hosts=extra_hosts,
        )
        containers.append(container)
        container.reload()
        bindings = (container.ports or {}).get("8080/tcp") or []
        fake = Fake(container, int(bindings[0]["HostPort"]) if bindings else None)
        if wait:
            fake.wait_healthy()
        return fake

    def volume() -> str:
        vol = engine.volumes.create(name=f"owui-dev-test-fake-{secrets.token_hex(4)}", labels={LABEL: "1"})
        volumes.append(vol)
        return vol.name  # type: ignore[no-any-return]

    yield Fakes(start, volume)

    for container in containers:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
    for vol in volumes:
        with contextlib.suppress(docker.errors.NotFound):
            vol.remove(force=True)


# ---------------------------------------------------------------------------------------------- image


def test_image_is_tagged_by_content_and_cached(engine: Any) -> None:
    first = build_image(engine)
    assert re.fullmatch(re.escape(IMAGE_REPOSITORY) + r":[0-9a-f]{12}", first)
    started = time.monotonic()
    assert build_image(engine) == first
    assert time.monotonic() - started < 3
    config = engine.images.get(first).attrs["Config"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["WorkingDir"] == "/app/backend"


@pytest.mark.parametrize("busybox", ["/nonexistent/busybox", sys.executable], ids=["missing", "not-busybox"])
def test_build_needs_a_static_busybox(busybox: str) -> None:
    with pytest.raises(RuntimeError, match="apt-get install busybox-static"):
        build_rootfs_tar(Path(busybox))


# ---------------------------------------------------------------------------------------------- start-up


def test_start_delay_logs_progress_then_serves(fakes: Fakes) -> None:
    fake = fakes.start({"FAKE_START_DELAY": "2"}, wait=False)
    started = time.monotonic()
    seen: list[str] = []
    while not fake.healthy():
        line = fake.last_log_line()
        if line and (not seen or seen[-1] != line):
            seen.append(line)
        assert time.monotonic() - started < 10, fake.logs()
        time.sleep(0.25)
    assert time.monotonic() - started > 1.5
    assert len(seen) >= 3, seen
    assert any("[alembic.runtime.migration]" in line for line in seen), seen

    logs = fake.logs()
    assert "No WEBUI_SECRET_KEY environment variable set, loading from file." in logs
    assert f"v{REAL_VERSION} - building the best AI user interface." in logs
    assert "Application startup complete." in logs
    assert "Uvicorn running on http://0.0.0.0:8080" in logs

    health = fake.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": True})
    assert health.headers["Content-Type"] == "application/json"
    assert health.headers["Content-Length"] == str(len(health.content))
    assert fake.get("/ready").json() == {"status": True}
    page = fake.get("/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<title>Open WebUI</title>" in page.text
    missing = fake.get("/no/such/page")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert fake.get("/api/version").json() == {"version": REAL_VERSION, "deployment_id": ""}
    assert fake.post("/health").status_code == 405


def test_secret_key_file_is_written_when_unset(fakes: Fakes) -> None:
    volume = fakes.volume()
    first = fakes.start(volume=volume)
    code, key = first.exec("cat", f"{DATA}/.webui_secret_key")
    assert code == 0
    assert re.fullmatch(r"[A-Za-z0-9+/=]{32}", key.strip()), key
    assert "Generating new WEBUI_SECRET_KEY..." in first.logs()
    first.container.stop()

    second = fakes.start(volume=volume)
    assert second.exec("cat", f"{DATA}/.webui_secret_key")[1] == key
    assert "Generating new WEBUI_SECRET_KEY" not in second.logs()

    explicit = fakes.start({"WEBUI_SECRET_KEY": "from-env"})
    assert explicit.exec("test", "-e", f"{DATA}/.webui_secret_key")[0] != 0
    assert "loading from file" not in explicit.logs()


def test_access_log_like_uvicorn_without_health(fakes: Fakes) -> None:
    fake = fakes.start()
    fake.get("/api/config")
    fake.get("/health")
    time.sleep(0.2)
    logs = fake.logs()
    assert re.search(r'INFO +\| uvicorn\.\S+ - \d+\.\d+\.\d+\.\d+:\d+ - "GET /api/config HTTP/1\.1" 200$', logs, re.M)
    assert '"GET /health' not in logs  # Open WebUI's EndpointFilter drops /health from the access log

    verbose = fakes.start({"FAKE_LOG_HEALTH": "true"})
    verbose.get("/health")
    time.sleep(0.2)
    assert '"GET /health HTTP/1.1" 200' in verbose.logs()


# ---------------------------------------------------------------------------------------------- failures


def test_crash_at_start_exits_with_a_traceback(fakes: Fakes) -> None:
    fake = fakes.start({"FAKE_CRASH": "start", "FAKE_EXIT_CODE": "3", "FAKE_START_DELAY": "0.6"}, wait=False)
    assert fake.wait_exit() == 3
    logs = fake.logs()
    assert "Traceback (most recent call last):" in logs
    assert fake.last_log_line() == (
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file"
    )
    assert "Uvicorn running" not in logs

    custom = fakes.start({"FAKE_CRASH": "start", "FAKE_CRASH_MESSAGE": "ValueError: boom"}, wait=False)
    assert custom.wait_exit() == 1
    assert custom.last_log_line() == "ValueError: boom"


def test_crash_after_becoming_healthy(fakes: Fakes) -> None:
    fake = fakes.start({"FAKE_CRASH_AFTER": "1"})
    healthy_at = time.monotonic()
    assert fake.wait_exit(timeout=10) == 1
    assert time.monotonic() - healthy_at > 0.7
    assert "FAKE_CRASH_AFTER=1s elapsed" in fake.logs()


def test_crash_endpoint_exits_at_once(fakes: Fakes) -> None:
    fake = fakes.start({"FAKE_EXIT_CODE": "7"})
    response = fake.post("/__fake__/crash")
    assert response.status_code == 200
    started = time.monotonic()
    assert fake.wait_exit(timeout=10) == 7
    assert time.monotonic() - started < 2
    assert "POST /__fake__/crash" in fake.logs()


def test_never_healthy(fakes: Fakes) -> None:
    fake = fakes.start({"FAKE_HEALTH_STATUS": "500"}, wait=False)
    deadline = time.monotonic() + 10
    while True:
        try:
            if fake.get("/api/config").status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, fake.logs()
        time.sleep(0.1)
    for _ in range(4):
        assert fake.get("/health").status_code == 500
        time.sleep(0.25)
    assert fake.get("/ready").status_code == 500


@pytest.mark.parametrize("env", [{}, {"FAKE_START_DELAY": "30"}], ids=["serving", "starting"])
def test_stops_fast(fakes: Fakes, env: dict[str, str]) -> None:
    fake = fakes.start(env, wait=not env)
    time.sleep(0.3)
    started = time.monotonic()
    fake.container.stop(timeout=10)
    assert time.monotonic() - started < 3
    assert fake.wait_exit() == 0
    if not env:
        assert "Finished server process [1]" in fake.logs()


def test_concurrent_requests_while_polling_health(fakes: Fakes) -> None:
    fake = fakes.start()
    stop = threading.Event()
    health_codes: list[int] = []

    def poll() -> None:
        while not stop.is_set():
            health_codes.append(requests.get(fake.url + "/health", timeout=5).status_code)
            time.sleep(0.25)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        paths = ["/api/config", "/", "/ready", "/api/version"] * 15
        with ThreadPoolExecutor(max_workers=20) as pool:
            codes = list(pool.map(lambda path: fake.get(path).status_code, paths))
    finally:
        stop.set()
        poller.join()
    assert codes == [200] * len(paths)
    assert health_codes
    assert set(health_codes) == {200}


# ---------------------------------------------------------------------------------------------- auth


def test_first_signup_becomes_admin_and_closes_signup(fakes: Fakes) -> None:
    fake = fakes.start()
    config = fake.config()
    assert config["onboarding"] is True
    assert config["status"] is True
    assert config["name"] == "Open WebUI"
    assert config["version"] == REAL_VERSION
    assert config["features"] == {
        "slim": False,
        "auth": True,
        "auth_trusted_header": False,
        "enable_signup_password_confirmation": False,
        "enable_ldap": False,
        "enable_signup": True,
        "enable_login_form": True,
        "enable_websocket": True,
    }

    owner = fake.signup("Owner@Example.com", "s3cret", "The Owner")
    assert owner.status_code == 200, owner.text
    body = owner.json()
    assert body["token_type"] == "Bearer"
    assert (body["email"], body["name"], body["role"]) == ("owner@example.com", "The Owner", "admin")
    assert body["token"].count(".") == 2
    assert isinstance(body["expires_at"], int)
    assert {"id", "profile_image_url", "permissions"} <= body.keys()

    config = fake.config()
    assert "onboarding" not in config
    assert config["features"]["enable_signup"] is False

    closed = fake.signup("second@example.com")
    assert (closed.status_code, closed.json()) == (403, {"detail": ACCESS_PROHIBITED})

    signin = fake.signin("OWNER@example.com", "s3cret")
    assert signin.status_code == 200
    assert signin.json()["role"] == "admin"
    token = signin.json()["token"]
    bad = fake.signin("owner@example.com", "wrong")
    assert (bad.status_code, bad.json()) == (400, {"detail": INVALID_CRED})
    assert fake.signin("nobody@example.com", "s3cret").status_code == 400

    me = fake.get("/api/v1/auths/", token)
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["role"], me.json()["id"]) == ("owner@example.com", "admin", body["id"])
    assert fake.get("/api/v1/auths/").status_code == 401
    assert fake.get("/api/v1/auths/", "not-a-token").status_code == 401
    authed = fake.config(token)
    assert "onboarding" not in authed
    assert "enable_api_keys" in authed["features"]

    assert fake.post("/api/v1/auths/signout", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert fake.get("/api/v1/auths/", token).status_code == 401


def test_signup_validation(fakes: Fakes) -> None:
    fake = fakes.start()
    assert fake.post("/api/v1/auths/signup", {"email": "a@example.com"}).status_code == 422
    bad_json = requests.post(fake.url + "/api/v1/auths/signup", data="{nope", timeout=5)
    assert bad_json.status_code == 422
    invalid = fake.signup("not-an-email")
    assert invalid.status_code == 400
    assert invalid.json()["detail"].startswith("The email format you entered is invalid.")
    quoted = fake.signup('quote"d@example.com', 'pa"ss\\word', 'Name "with" quotes')
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["name"] == 'Name "with" quotes'
    assert fake.signin('quote"d@example.com', 'pa"ss\\word').status_code == 200


def test_webui_admin_env_bootstraps_the_owner(fakes: Fakes) -> None:
    env = {"WEBUI_ADMIN_EMAIL": "Boss@Example.com", "WEBUI_ADMIN_PASSWORD": "hunter2", "WEBUI_ADMIN_NAME": "Boss"}
    fake = fakes.start(env)
    logs = fake.logs()
    assert "Creating admin account from environment variables: Boss@Example.com" in logs
    assert "Admin account created successfully: Boss@Example.com" in logs
    config = fake.config()
    assert "onboarding" not in config
    assert config["features"]["enable_signup"] is False
    signin = fake.signin("boss@example.com", "hunter2")
    assert signin.status_code == 200
    assert (signin.json()["name"], signin.json()["role"]) == ("Boss", "admin")
    assert fake.signup("intruder@example.com").status_code == 403

    old = fakes.start({**env, "FAKE_OWUI_VERSION": "0.6.40"})
    assert "Creating admin account" not in old.logs()
    config = old.config()
    assert (config["version"], config.get("onboarding")) == ("0.6.40", True)
    assert old.signin("boss@example.com", "hunter2").status_code == 400


def test_enable_signup_false_and_the_first_admin(fakes: Fakes) -> None:
    current = fakes.start({"ENABLE_SIGNUP": "False"})
    assert current.config()["features"]["enable_signup"] is False
    assert current.signup("owner@example.com").json()["role"] == "admin"  # 0.9.6+: not gated

    old = fakes.start({"ENABLE_SIGNUP": "False", "FAKE_OWUI_VERSION": "0.6.40"})
    assert old.signup("owner@example.com").status_code == 403


def test_users_and_config_persist_on_the_volume(fakes: Fakes) -> None:
    volume = fakes.volume()
    first = fakes.start(volume=volume)
    assert first.signup("owner@example.com", "pw").json()["role"] == "admin"
    token = first.signin("owner@example.com", "pw").json()["token"]
    first.container.stop()

    # ENABLE_SIGNUP is a persisted setting: the env value only seeds it on the first start.
    second = fakes.start({"ENABLE_SIGNUP": "True"}, volume=volume)
    config = second.config()
    assert "onboarding" not in config
    assert config["features"]["enable_signup"] is False
    assert second.signin("owner@example.com", "pw").status_code == 200
    assert second.get("/api/v1/auths/", token).json()["email"] == "owner@example.com"
    assert second.signup("late@example.com").status_code == 403
    second.container.stop()

    # ENABLE_PERSISTENT_CONFIG=False: the env wins again (and users keep their accounts).
    third = fakes.start({"ENABLE_SIGNUP": "True", "ENABLE_PERSISTENT_CONFIG": "False"}, volume=volume)
    assert third.config()["features"]["enable_signup"] is True
    duplicate = third.signup("OWNER@example.com")
    assert (duplicate.status_code, duplicate.json()) == (400, {"detail": EMAIL_TAKEN})
    late = third.signup("late@example.com")
    assert late.status_code == 200
    assert late.json()["role"] == "pending"
    third.container.stop()

    # Sessions are signed with WEBUI_SECRET_KEY (by default the key file on the volume).
    rekeyed = fakes.start({"WEBUI_SECRET_KEY": "another-key"}, volume=volume)
    assert rekeyed.get("/api/v1/auths/", token).status_code == 401
    assert rekeyed.signin("owner@example.com", "pw").status_code == 200


def test_webui_auth_false(fakes: Fakes) -> None:
    fake = fakes.start({"WEBUI_AUTH": "False"})
    config = fake.config()
    assert config["onboarding"] is True
    assert config["features"]["auth"] is False
    assert config["features"]["enable_signup"] is False
    signin = fake.signin("", "")
    assert signin.status_code == 200, signin.text
    user = signin.json()
    assert (user["email"], user["name"], user["role"]) == ("admin@localhost", "User", "admin")
    assert fake.signin("anyone@example.com", "whatever").json()["id"] == user["id"]
    assert "onboarding" not in fake.config()
    assert fake.signup("x@example.com").status_code == 403

    volume = fakes.volume()
    owned = fakes.start({"WEBUI_ADMIN_EMAIL": "o@example.com", "WEBUI_ADMIN_PASSWORD": "pw"}, volume=volume)
    owned.container.stop()
    no_auth = fakes.start({"WEBUI_AUTH": "False"}, volume=volume)
    refused = no_auth.signin("", "")
    assert (refused.status_code, refused.json()) == (400, {"detail": EXISTING_USERS})


def test_concurrent_first_signups_make_one_admin(fakes: Fakes) -> None:
    fake = fakes.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda i: fake.signup(f"user{i}@example.com"), range(8)))
    assert {r.status_code for r in responses} <= {200, 403}
    roles = [r.json()["role"] for r in responses if r.status_code == 200]
    assert roles.count("admin") == 1
    assert set(roles) <= {"admin", "pending"}


# ---------------------------------------------------------------------------------------------- voice-call path
# The shapes shared with the real Open WebUI are asserted in test_openwebui_contract.py (fake and real image);
# here: the fake's own knobs and what the real image cannot be made to show in a test.

ADMIN_ENV = {"WEBUI_ADMIN_EMAIL": "admin@example.com", "WEBUI_ADMIN_PASSWORD": "pw"}


def admin_token(fake: Fake) -> str:
    response = fake.signin("admin@example.com", "pw")
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def transcribe(
    fake: Fake, token: str, data: bytes, name: str = "clip.wav", ctype: str = "audio/wav"
) -> requests.Response:
    return requests.post(
        fake.url + "/api/v1/audio/transcriptions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, data, ctype)},
        timeout=30,
    )


def wav(seconds: float = 0.5, level: int = 0) -> bytes:
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16000)
        clip.writeframes(level.to_bytes(2, "little", signed=True) * int(16000 * seconds))
    return buffer.getvalue()


def test_transcripts_come_from_the_table_by_sha256(fakes: Fakes) -> None:
    import hashlib

    known, other, unknown = wav(0.5, 1), wav(0.5, 2), wav(0.5, 3)
    table = f"{hashlib.sha256(known).hexdigest()}=Hello from the fake; it has a semicolon? no"
    fake = fakes.start({**ADMIN_ENV, "FAKE_TRANSCRIPTS": table.split(";")[0]})
    code, _ = fake.exec(
        "sh", "-c", f"echo '{hashlib.sha256(other).hexdigest()}=Said with \"quotes\"' > /app/fake/transcripts"
    )
    assert code == 0
    token = admin_token(fake)

    heard = transcribe(fake, token, known)
    assert heard.status_code == 200, heard.text
    assert heard.json()["text"] == "Hello from the fake"
    stem = heard.json()["filename"].removesuffix(".wav")
    assert fake.exec("cat", f"{DATA}/cache/audio/transcriptions/{stem}.json")[1] == '{"text":"Hello from the fake"}'
    saved = fake.exec("sha256sum", f"{DATA}/cache/audio/transcriptions/{stem}.wav")[1]
    assert saved.startswith(hashlib.sha256(known).hexdigest())  # the upload is kept byte for byte

    assert transcribe(fake, token, other).json()["text"] == 'Said with "quotes"'
    assert transcribe(fake, token, unknown, "clip.webm", "audio/webm;codecs=opus").json()["text"] == ""


def test_stt_engines_the_fake_does_not_act_out(fakes: Fakes) -> None:
    deepgram = fakes.start({**ADMIN_ENV, "AUDIO_STT_ENGINE": "deepgram"})
    refused = transcribe(deepgram, admin_token(deepgram), wav())
    assert refused.status_code == 501
    assert "not acted out" in refused.json()["detail"]
    unknown = fakes.start({**ADMIN_ENV, "AUDIO_STT_ENGINE": "nonsense"})
    failed = transcribe(unknown, admin_token(unknown), wav())
    assert (failed.status_code, failed.json()) == (400, {"detail": "Transcription failed."})
    no_model = fakes.start({**ADMIN_ENV, "WHISPER_MODEL": ""})
    none = transcribe(no_model, admin_token(no_model), wav())
    assert (none.status_code, none.json()) == (
        500,
        {"detail": "Error transcribing chunk: 'NoneType' object has no attribute 'transcribe'"},
    )


def ollama_urls(fake: Fake) -> list[str]:
    response = fake.get("/ollama/config", admin_token(fake))
    assert response.status_code == 200, response.text
    return list(response.json()["OLLAMA_BASE_URLS"])


def test_ollama_url_resolution_like_config_py(fakes: Fakes) -> None:
    assert ollama_urls(fakes.start(ADMIN_ENV)) == ["http://host.docker.internal:11434"]  # image default /ollama
    assert ollama_urls(fakes.start({**ADMIN_ENV, "USE_OLLAMA_DOCKER": "true"})) == ["http://localhost:11434"]
    assert ollama_urls(fakes.start({**ADMIN_ENV, "ENV": "dev"})) == ["/ollama"]
    listed = fakes.start({**ADMIN_ENV, "OLLAMA_BASE_URLS": "http://a:1; http://b:2", "OLLAMA_BASE_URL": "http://c:3"})
    assert ollama_urls(listed) == ["http://a:1", "http://b:2"]
    old_style = fakes.start({**ADMIN_ENV, "OLLAMA_BASE_URL": "", "OLLAMA_API_BASE_URL": "http://d:4/api"})
    assert ollama_urls(old_style) == ["http://d:4"]

    # Seeded at the first start: a later OLLAMA_BASE_URL is ignored unless ENABLE_PERSISTENT_CONFIG=False.
    volume = fakes.volume()
    first = fakes.start({**ADMIN_ENV, "OLLAMA_BASE_URL": "http://first:11434/"}, volume=volume)
    assert ollama_urls(first) == ["http://first:11434"]
    first.container.stop()
    second = fakes.start({**ADMIN_ENV, "OLLAMA_BASE_URL": "http://second:11434"}, volume=volume)
    assert ollama_urls(second) == ["http://first:11434"]
    second.container.stop()
    third = fakes.start(
        {**ADMIN_ENV, "OLLAMA_BASE_URL": "http://second:11434", "ENABLE_PERSISTENT_CONFIG": "False"}, volume=volume
    )
    assert ollama_urls(third) == ["http://second:11434"]


def test_ollama_port_falls_back_to_12434_when_only_that_answers(fakes: Fakes) -> None:
    # Something on 12434 (and nothing on 11434) behind host.docker.internal: another fake, listening there.
    runner = fakes.start({"PORT": "12434"}, wait=False)
    runner.container.reload()
    address = runner.container.attrs["NetworkSettings"]["IPAddress"]
    deadline = time.monotonic() + 15
    while runner.exec("wget", "-q", "-O", "-", "http://127.0.0.1:12434/health")[0] != 0:
        assert time.monotonic() < deadline, runner.logs()
        time.sleep(0.1)
    fake = fakes.start(ADMIN_ENV, extra_hosts={"host.docker.internal": address})
    assert ollama_urls(fake) == ["http://host.docker.internal:12434"]
    explicit = fakes.start(
        {**ADMIN_ENV, "OLLAMA_BASE_URL": "http://host.docker.internal:11434"},
        extra_hosts={"host.docker.internal": address},
    )
    assert ollama_urls(explicit) == ["http://host.docker.internal:11434"]  # an explicit URL is not probed


def test_a_silent_ollama_costs_the_model_list_timeout(fakes: Fakes) -> None:
    import socket

    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        port = listener.getsockname()[1]
        env = {
            **ADMIN_ENV,
            "OLLAMA_BASE_URL": f"http://host.docker.internal:{port}",
            "AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST": "2",
            "ENABLE_OPENAI_API": "false",
        }
        fake = fakes.start(env, extra_hosts={"host.docker.internal": "host-gateway"})
        token = admin_token(fake)
        started = time.monotonic()
        response = fake.get("/api/models", token)
        elapsed = time.monotonic() - started
        assert (response.status_code, response.json()) == (200, {"data": []})
        assert 1.5 < elapsed < 6, elapsed
    finally:
        listener.close()


def test_slim_shows_in_the_app_config(fakes: Fakes) -> None:
    assert fakes.start().config()["features"]["slim"] is False
    assert fakes.start({"USE_SLIM_DOCKER": "true"}).config()["features"]["slim"] is True


def test_user_settings_persist_on_the_volume(fakes: Fakes) -> None:
    volume = fakes.volume()
    first = fakes.start(volume=volume)
    first.signup("owner@example.com", "pw")
    token = first.signin("owner@example.com", "pw").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    saved = first.post("/api/v1/users/user/settings/update", {"ui": {"version": "0.12.4"}}, headers=headers)
    assert saved.json() == {"ui": {"version": "0.12.4"}}
    first.container.stop()

    second = fakes.start(volume=volume)
    token = second.signin("owner@example.com", "pw").json()["token"]
    assert second.get("/api/v1/users/user/settings", token).json() == {"ui": {"version": "0.12.4"}}
