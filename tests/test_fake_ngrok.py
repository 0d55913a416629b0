"""The stand-in ngrok agent (tests/fake_ngrok/ngrok), driven through pyngrok the way owui_dev drives ngrok.

No Docker and no network: the agent's "cloud" is a TLS listener on 127.0.0.1 per endpoint, with a
certificate from a throwaway CA (trustme).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pyngrok import ngrok, process
from pyngrok.conf import PyngrokConfig
from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError

try:
    from tests.fake_ngrok.support import (
        AGENT_PATH,
        make_tls_files,
        read_records,
        write_agent_config,
    )
except ImportError:  # pytest run without the repository root on sys.path
    from fake_ngrok.support import (
        AGENT_PATH,
        make_tls_files,
        read_records,
        write_agent_config,
    )

try:
    from tests.conftest import free_port
except ImportError:
    from conftest import free_port

OWNED_DOMAIN = "owui.example.test"
TOKEN = "2fakeTokenFromConfig_abcdefghijklmnopqrstuv"


# ------------------------------------------------------------------------------------------- fixtures


@dataclass
class AgentEnv:
    root: Path
    record: Path
    ca: str
    messages: list[str] = field(default_factory=list)

    def config(self, *, authtoken: str | None = TOKEN, web_addr: str | None = "free", **kwargs: Any) -> Any:
        """A PyngrokConfig as production builds it: token in a private config file, never on argv."""
        if web_addr == "free":
            web_addr = f"127.0.0.1:{free_port()}"
        path = write_agent_config(
            self.root / f"ngrok-{len(self.messages)}-{time.monotonic_ns()}.yml", authtoken=authtoken, web_addr=web_addr
        )
        kwargs.setdefault("startup_timeout", 10)
        kwargs.setdefault("log_event_callback", lambda log: self.messages.append(str(log.msg)))
        config = PyngrokConfig(ngrok_path=AGENT_PATH, config_path=path, auth_token=None, **kwargs)
        config.api_key = None
        return config

    def wait_for(self, message: str, count: int = 1, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.messages.count(message) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"agent never logged {message!r} x{count}; got {self.messages}")
            time.sleep(0.02)

    def pids(self) -> list[int]:
        return [int(entry["pid"]) for entry in read_records(self.record)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_tls_files(tmp_path_factory.mktemp("fake-ngrok-tls"), extra_hosts=[OWNED_DOMAIN])


@pytest.fixture
def agent_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls_files: dict[str, str]) -> Iterator[AgentEnv]:
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    home.mkdir()
    xdg.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    for name in list(os.environ):
        if name.startswith("FAKE_NGROK_") or name in ("NGROK_AUTHTOKEN", "NGROK_API_KEY", "PYNGROK_NGROK_PATH"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FAKE_NGROK_TLS_CERT", tls_files["FAKE_NGROK_TLS_CERT"])
    monkeypatch.setenv("FAKE_NGROK_TLS_KEY", tls_files["FAKE_NGROK_TLS_KEY"])
    record = tmp_path / "agent-starts.jsonl"
    monkeypatch.setenv("FAKE_NGROK_RECORD", str(record))
    env = AgentEnv(tmp_path, record, tls_files["SSL_CERT_FILE"])
    try:
        yield env
    finally:
        # pyngrok keeps module-level state keyed by ngrok_path: clear it, then kill anything left over.
        ngrok.kill(PyngrokConfig(ngrok_path=AGENT_PATH))
        leftovers = [pid for pid in env.pids() if alive(pid)]
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 2
        while any(alive(pid) for pid in leftovers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not [pid for pid in leftovers if alive(pid)], "an agent process survived the test"


class Upstream:
    """A small local web service standing in for Open WebUI; it records each request's headers."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b""):
                                pass
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self) -> None:
                body = self._body()
                upstream.seen.append(dict(self.headers.items()))
                if self.path == "/slow":
                    time.sleep(0.5)
                payload = json.dumps(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body.decode(),
                        "headers": dict(self.headers.items()),
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.close()


def get(url: str, ca: str, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    context = ssl.create_default_context(cafile=ca)
    try:
        with urllib.request.urlopen(url, context=context, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


def tls_socket(public_url: str, ca: str) -> ssl.SSLSocket:
    """A verified TLS connection to the public URL's port on 127.0.0.1, with SNI = the URL's host."""
    parts = urlsplit(public_url)
    raw = socket.create_connection(("127.0.0.1", parts.port), timeout=5)
    return ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname=parts.hostname)


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def agent_pid(config: Any) -> int:
    return int(ngrok.get_ngrok_process(config).proc.pid)


# -------------------------------------------------------------------------------------------- the CLI


def run_agent(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AGENT_PATH, *args], capture_output=True, text=True, timeout=10, env=env, check=False)


@pytest.mark.usefixtures("agent_env")
def test_version_and_cli_errors() -> None:
    assert run_agent("--version").stdout == "ngrok version 3.24.0\n"
    config = PyngrokConfig(
        ngrok_path=AGENT_PATH, config_path=write_agent_config(Path(os.environ["HOME"]) / "v.yml", authtoken=TOKEN)
    )
    assert ngrok.get_version(config)[0] == "3.24.0"

    unknown = run_agent("frobnicate")
    assert unknown.returncode == 1
    assert unknown.stderr == 'ERROR:  unknown command "frobnicate" for "ngrok"\n'
    bad_flag = run_agent("start", "--none", "--frob")
    assert bad_flag.returncode == 1
    assert "ERROR:  unknown flag: --frob" in bad_flag.stderr
    missing = run_agent("start", "--none", "--config")
    assert missing.returncode == 1
    assert "flag needs an argument: --config" in missing.stderr

    with pytest.raises(PyngrokNgrokError, match="no such host"):
        ngrok.update(config)


def test_add_authtoken_through_pyngrok(agent_env: AgentEnv) -> None:
    path = agent_env.root / "cfg" / "ngrok.yml"
    config = PyngrokConfig(ngrok_path=AGENT_PATH, config_path=str(path))
    ngrok.set_auth_token("tok_one", config)  # pyngrok checks for "Authtoken saved" in the output
    assert yaml.safe_load(path.read_text()) == {"version": "3", "agent": {"authtoken": "tok_one"}}
    assert path.stat().st_mode & 0o777 == 0o600

    path.write_text('version: "3"\nagent:\n    web_addr: 127.0.0.1:4999  # keep me\nendpoints: []\n')
    result = run_agent("config", "add-authtoken", "tok_two", "--config", str(path), "--log", "stdout")
    assert result.stdout == f"Authtoken saved to configuration file: {path}\n"
    assert "# keep me" in path.read_text()
    assert yaml.safe_load(path.read_text())["agent"] == {"web_addr": "127.0.0.1:4999", "authtoken": "tok_two"}
    assert path.stat().st_mode & 0o777 == 0o600

    assert run_agent("config", "add-authtoken").returncode == 1


def test_default_config_paths(agent_env: AgentEnv) -> None:
    xdg_file = Path(os.environ["XDG_CONFIG_HOME"]) / "ngrok" / "ngrok.yml"
    legacy = Path(os.environ["HOME"]) / ".ngrok2" / "ngrok.yml"
    legacy.parent.mkdir()
    legacy.write_text("version: 2\nauthtoken: legacy\n")
    assert run_agent("config", "check").stdout == f"Valid configuration file at {legacy}\n"

    saved = run_agent("config", "add-authtoken", "tok_default")
    assert saved.returncode == 0, saved.stderr
    assert "legacy" not in legacy.read_text()  # the legacy file is the one in use until a v3 one exists
    legacy.unlink()
    assert run_agent("config", "add-authtoken", "tok_xdg").stdout.endswith(f"{xdg_file}\n")
    assert yaml.safe_load(xdg_file.read_text())["agent"]["authtoken"] == "tok_xdg"
    assert run_agent("config", "check").stdout == f"Valid configuration file at {xdg_file}\n"

    broken = agent_env.root / "broken.yml"
    broken.write_text('version: "3"\nagent:\n  authtoken: x\n   bad: indent\n')
    check = run_agent("config", "check", "--config", str(broken))
    assert check.returncode == 1
    assert check.stderr.startswith("ERROR:  Error reading configuration file")


# ----------------------------------------------------------------------------------- the happy path


def test_connect_serves_https_with_forwarded_headers(agent_env: AgentEnv, upstream: Upstream) -> None:
    config = agent_env.config()
    tunnel = ngrok.connect(f"http://localhost:{upstream.port}", name="owui-dev", pyngrok_config=config)
    assert tunnel.public_url.startswith("https://127.0.0.1:")
    assert tunnel.upstream == {"url": f"http://localhost:{upstream.port}", "protocol": "http1"}
    assert tunnel.uri == "/api/endpoints/owui-dev"
    assert {"starting web service", "client session established", "tunnel session started"} <= set(agent_env.messages)

    status, _, body = get(tunnel.public_url + "/hello?x=1", agent_env.ca)
    assert status == 200
    seen = json.loads(body)
    assert seen["path"] == "/hello?x=1"
    headers = {key.lower(): value for key, value in seen["headers"].items()}
    assert headers["x-forwarded-proto"] == "https"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-host"] == urlsplit(tunnel.public_url).netloc
    assert headers["host"] == urlsplit(tunnel.public_url).netloc  # ngrok keeps the public Host

    assert [t.public_url for t in ngrok.get_tunnels(config)] == [tunnel.public_url]
    tunnel.refresh_metrics()
    assert tunnel.metrics["http"]["count"] == 1

    [entry] = read_records(agent_env.record)
    assert entry["authtoken_source"] == "config"
    assert TOKEN not in json.dumps(entry["argv"])
    assert entry["argv"][1:4] == ["start", "--none", "--log"]

    ngrok.disconnect(tunnel.public_url, config)
    assert ngrok.get_tunnels(config) == []
    with pytest.raises(urllib.error.URLError):
        get(tunnel.public_url, agent_env.ca, timeout=2)


def test_every_request_on_a_kept_alive_connection_is_forwarded(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    sock = tls_socket(tunnel.public_url, agent_env.ca)
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(tunnel.public_url).port, timeout=5)
    conn.sock = sock
    conn.request("POST", "/one", body=b'{"a": 1}', headers={"Content-Type": "application/json"})
    first = json.loads(conn.getresponse().read())
    conn.request("POST", "/two", body=iter([b"chunk-", b"ed"]), encode_chunked=True)
    second = json.loads(conn.getresponse().read())
    conn.request("GET", "/three", headers={"X-Forwarded-For": "203.0.113.7"})
    third = json.loads(conn.getresponse().read())
    conn.close()
    assert (first["body"], second["body"], third["path"]) == ('{"a": 1}', "chunk-ed", "/three")
    assert [h.get("X-Forwarded-Proto") for h in upstream.seen] == ["https"] * 3
    assert upstream.seen[2]["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"


def test_concurrent_requests(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    results: list[int] = []

    def fetch() -> None:
        results.append(get(tunnel.public_url + "/slow", agent_env.ca)[0])

    started = time.monotonic()
    workers = [threading.Thread(target=fetch) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert results == [200] * 6
    assert time.monotonic() - started < 2.5  # six 0.5 s requests, served side by side


def test_websocket_upgrade_passes_through_byte_for_byte(agent_env: AgentEnv) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def echo_after_101() -> None:
        conn, _ = listener.accept()
        with conn:
            heads.append(read_until(conn, b"\r\n\r\n"))
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            )
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=echo_after_101, daemon=True).start()
    tunnel = ngrok.connect(listener.getsockname()[1], pyngrok_config=agent_env.config())
    with tls_socket(tunnel.public_url, agent_env.ca) as sock:
        host = urlsplit(tunnel.public_url).netloc
        sock.sendall(
            f"GET /ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode()
        )
        response = read_until(sock, b"\r\n\r\n")
        assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
        # After the upgrade even bytes that look like an HTTP request must pass untouched.
        payload = b"GET /fake HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(50_000) + b"\x81\x05hello"
        sock.sendall(payload)
        echoed = b""
        while len(echoed) < len(payload):
            chunk = sock.recv(65536)
            assert chunk, "connection closed early"
            echoed += chunk
    listener.close()
    assert echoed == payload
    assert b"\r\nX-Forwarded-Proto: https\r\n" in heads[0]
    assert b"\r\nUpgrade: websocket\r\n" in heads[0]


def test_upstream_down_is_ngrok_8012(agent_env: AgentEnv) -> None:
    tunnel = ngrok.connect(f"http://127.0.0.1:{free_port()}", pyngrok_config=agent_env.config())
    status, headers, body = get(tunnel.public_url, agent_env.ca)
    assert status == 502
    assert headers["Ngrok-Error-Code"] == "ERR_NGROK_8012"
    assert b"ERR_NGROK_8012" in body
    assert b"connection refused" in body


def test_legacy_tunnels_api_and_status(agent_env: AgentEnv, upstream: Upstream) -> None:
    config = agent_env.config()

    def call(method: str, path: str, data: Any = None) -> tuple[int, Any]:
        return agent_api(config, method, path, data)

    status, created = call("POST", "/api/tunnels", {"name": "legacy", "addr": str(upstream.port), "proto": "http"})
    assert status == 201
    assert created["proto"] == "https"
    assert created["config"] == {"addr": f"http://localhost:{upstream.port}", "inspect": True}
    assert created["uri"] == "/api/tunnels/legacy"
    assert get(created["public_url"], agent_env.ca)[0] == 200
    assert call("GET", "/api/tunnels")[1]["tunnels"][0]["public_url"] == created["public_url"]
    assert call("GET", "/api/endpoints")[1]["endpoints"][0]["url"] == created["public_url"]

    status, error = call("POST", "/api/tunnels", {"name": "legacy", "addr": "1"})
    assert (status, error["error_code"], error["details"]["err"]) == (400, 102, 'tunnel "legacy" already exists')
    status, error = call("POST", "/api/endpoints", {"name": "x", "domain": "a.b", "upstream": {"url": "1"}})
    assert status == 400
    assert "field domain not found" in error["details"]["err"]

    assert call("DELETE", "/api/tunnels/legacy") == (204, None)
    status, error = call("GET", "/api/tunnels/legacy")
    assert (status, error["status_code"]) == (404, 404)
    status, info = call("GET", "/api/status")
    assert (status, info["status"], info["agent_version"]) == (200, "online", "3.24.0")


# ------------------------------------------------------------------------------------- traffic policy

OAUTH_HEADER = "X-Fake-Ngrok-Oauth-Email"
PRODUCT_POLICY = json.dumps(
    {
        "on_http_request": [
            {"actions": [{"type": "oauth", "config": {"provider": "google"}}]},
            {
                "expressions": [
                    "!((actions.ngrok.oauth.identity.email in ['a@b.com']) || "
                    "actions.ngrok.oauth.identity.email.endsWith('@example.com'))"
                ],
                "actions": [{"type": "deny", "config": {"status_code": 403}}],
            },
            {"actions": [{"type": "restrict-ips", "config": {"enforce": True, "allow": ["127.0.0.0/8"]}}]},
        ]
    }
)


def restrict_ips(**config: Any) -> str:
    return json.dumps({"on_http_request": [{"actions": [{"type": "restrict-ips", "config": config}]}]})


def fetch(
    public_url: str, ca: str, path: str = "/", headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request that does not follow redirects (urllib would chase the 302 to idp.ngrok.com)."""
    parts = urlsplit(public_url)
    conn = http.client.HTTPSConnection(
        "127.0.0.1", parts.port, timeout=5, context=ssl.create_default_context(cafile=ca)
    )
    try:
        conn.request(method, path, headers={"Host": parts.netloc, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def agent_api(config: Any, method: str, path: str, data: Any = None) -> tuple[int, Any]:
    api_url = ngrok.get_ngrok_process(config).api_url
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(
        api_url + path, data=body, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_traffic_policy_is_echoed(agent_env: AgentEnv, upstream: Upstream) -> None:
    config = agent_env.config()
    tunnel = ngrok.connect(
        f"http://127.0.0.1:{upstream.port}", name="owui-dev", pyngrok_config=config, traffic_policy=PRODUCT_POLICY
    )
    assert tunnel.data["traffic_policy"] == PRODUCT_POLICY
    [listed] = ngrok.get_tunnels(config)
    assert listed.data["traffic_policy"] == PRODUCT_POLICY
    assert agent_api(config, "GET", "/api/endpoints/owui-dev")[1]["traffic_policy"] == PRODUCT_POLICY

    as_yaml = (
        "on_http_request:\n  - actions:\n      - type: restrict-ips\n        config:\n          allow: [127.0.0.0/8]\n"
    )
    assert (
        ngrok.connect(upstream.port, name="yaml", pyngrok_config=config, traffic_policy=as_yaml).data["traffic_policy"]
        == as_yaml
    )
    as_map = json.loads(restrict_ips(allow=["127.0.0.1/32"]))
    echoed = ngrok.connect(upstream.port, name="map", pyngrok_config=config, traffic_policy=as_map).data
    assert json.loads(echoed["traffic_policy"]) == as_map
    without = ngrok.connect(upstream.port, name="none", pyngrok_config=config).data
    assert without["traffic_policy"] == ""


def test_restrict_ips_allowing_loopback_passes(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(
        upstream.port, pyngrok_config=agent_env.config(), traffic_policy=restrict_ips(allow=["127.0.0.0/8"])
    )
    status, _, body = get(tunnel.public_url + "/allowed", agent_env.ca)
    assert (status, json.loads(body)["path"]) == (200, "/allowed")
    assert upstream.seen[0]["X-Forwarded-For"] == "127.0.0.1"


@pytest.mark.parametrize(
    "config",
    [
        {"enforce": True, "allow": ["10.0.0.0/8", "192.168.1.0/24"]},
        {"allow": ["0.0.0.0/0"], "deny": ["127.0.0.1/32"]},
        {"deny": ["10.0.0.0/8"]},  # no allow list: nothing is allowed
    ],
)
def test_restrict_ips_not_allowing_loopback_is_ngrok_3205(
    agent_env: AgentEnv, upstream: Upstream, config: dict[str, Any]
) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=restrict_ips(**config))
    status, headers, body = get(tunnel.public_url + "/secret", agent_env.ca)
    assert (status, headers["Ngrok-Error-Code"]) == (403, "ERR_NGROK_3205")
    assert b"ERR_NGROK_3205" in body
    assert b"127.0.0.1" in body
    # X-Forwarded-For is never consulted, and the request never reaches the agent or the upstream.
    assert get(tunnel.public_url, agent_env.ca)[0] == 403
    assert fetch(tunnel.public_url, agent_env.ca, headers={"X-Forwarded-For": "10.1.2.3"})[0] == 403
    assert upstream.seen == []
    tunnel.refresh_metrics()
    assert tunnel.metrics["http"]["count"] == 0


def test_restrict_ips_not_enforced_only_observes(agent_env: AgentEnv, upstream: Upstream) -> None:
    policy = restrict_ips(enforce=False, allow=["10.0.0.0/8"])
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=policy)
    assert get(tunnel.public_url, agent_env.ca)[0] == 200


def test_restrict_ips_on_tcp_connect_closes_the_connection(agent_env: AgentEnv, upstream: Upstream) -> None:
    policy = json.dumps(
        {"on_tcp_connect": [{"actions": [{"type": "restrict-ips", "config": {"allow": ["10.0.0.0/8"]}}]}]}
    )
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=policy)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        fetch(tunnel.public_url, agent_env.ca)
    assert upstream.seen == []


def test_oauth_without_a_session_redirects_to_ngrok(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=PRODUCT_POLICY)
    status, headers, _ = fetch(tunnel.public_url, agent_env.ca, "/c/chat?x=1")
    assert status == 302
    location = urlsplit(headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "idp.ngrok.com", "/oauth2/authn")
    query = dict(part.split("=", 1) for part in location.query.split("&"))
    assert query["force_authn"] == "false"
    assert len(query["state"]) > 100
    assert "Ngrok-Error-Code" not in headers
    assert fetch(tunnel.public_url, agent_env.ca, method="POST")[0] == 302
    assert upstream.seen == []


@pytest.mark.parametrize("email", ["a@b.com", "someone@example.com"])
def test_oauth_identity_allowed_by_the_expression_reaches_upstream(
    agent_env: AgentEnv, upstream: Upstream, email: str
) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=PRODUCT_POLICY)
    status, _, body = fetch(tunnel.public_url, agent_env.ca, "/api/v1/auths", {OAUTH_HEADER: email})
    assert status == 200
    assert json.loads(body)["path"] == "/api/v1/auths"
    assert OAUTH_HEADER not in upstream.seen[0]  # the test hook stands for ngrok's session: upstream never sees it


@pytest.mark.parametrize("email", ["mallory@evil.test", "a@b.com.evil.test", "x@example.com.evil"])
def test_oauth_identity_refused_by_the_expression_is_denied(
    agent_env: AgentEnv, upstream: Upstream, email: str
) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=PRODUCT_POLICY)
    status, headers, body = fetch(tunnel.public_url, agent_env.ca, headers={OAUTH_HEADER: email})
    assert (status, body) == (403, b"")  # the deny action sends no body
    assert "Ngrok-Error-Code" not in headers
    assert upstream.seen == []


def test_policy_rules_run_in_document_order(agent_env: AgentEnv, upstream: Upstream) -> None:
    """A signed-in, allowed identity still meets the later restrict-ips rule; without a session the oauth
    redirect comes first (so the product should put restrict-ips first if blocked IPs must never see it)."""
    policy = json.loads(PRODUCT_POLICY)
    policy["on_http_request"][2]["actions"][0]["config"]["allow"] = ["10.0.0.0/8"]
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=json.dumps(policy))
    assert fetch(tunnel.public_url, agent_env.ca)[0] == 302
    status, headers, _ = fetch(tunnel.public_url, agent_env.ca, headers={OAUTH_HEADER: "a@b.com"})
    assert (status, headers["Ngrok-Error-Code"]) == (403, "ERR_NGROK_3205")


def test_policy_is_enforced_per_request_on_a_kept_alive_connection(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=PRODUCT_POLICY)
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(tunnel.public_url).port, timeout=5)
    conn.sock = tls_socket(tunnel.public_url, agent_env.ca)
    conn.request("GET", "/one", headers={OAUTH_HEADER: "a@b.com"})
    assert json.loads(conn.getresponse().read())["path"] == "/one"
    conn.request("GET", "/two")
    second = conn.getresponse()
    assert second.status == 302
    assert second.getheader("Location", "").startswith("https://idp.ngrok.com/oauth2/authn?")
    conn.close()
    assert [h.get("X-Forwarded-Proto") for h in upstream.seen] == ["https"]


def test_websocket_upgrade_passes_the_policy(agent_env: AgentEnv) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def echo_after_101() -> None:
        conn, _ = listener.accept()
        with conn:
            heads.append(read_until(conn, b"\r\n\r\n"))
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            while data := conn.recv(65536):
                conn.sendall(data)

    threading.Thread(target=echo_after_101, daemon=True).start()
    tunnel = ngrok.connect(listener.getsockname()[1], pyngrok_config=agent_env.config(), traffic_policy=PRODUCT_POLICY)
    with tls_socket(tunnel.public_url, agent_env.ca) as sock:
        sock.sendall(
            f"GET /ws/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {urlsplit(tunnel.public_url).netloc}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\n{OAUTH_HEADER}: a@b.com\r\n\r\n".encode()
        )
        assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 101 ")
        frames = b"GET /not-a-request HTTP/1.1\r\n\r\n\x81\x05hello"  # after the upgrade: no parsing, no policy
        sock.sendall(frames)
        echoed = b""
        while len(echoed) < len(frames):
            chunk = sock.recv(65536)
            assert chunk, "connection closed early"
            echoed += chunk
    listener.close()
    assert echoed == frames
    assert OAUTH_HEADER.encode() not in heads[0]


INVALID_POLICIES = [
    ("on_http_request: [", "The traffic policy was not able to be parsed"),
    ('{"on_http_request": {"actions": []}}', "received invalid value of type 'map' for traffic policy rule array"),
    ('{"on_request": []}', "Invalid Traffic Policy phase on_request for protocol https."),
    ('{"on_http_request": [{"actions": [{"type": "frobnicate"}]}]}', "Invalid policy action type frobnicate."),
    ('{"on_http_request": [{"actions": []}]}', "A policy must define at least one action."),
    (restrict_ips(allow=["10.0.0.0/33"]), "invalid CIDR address: 10.0.0.0/33"),
    (restrict_ips(allow=["10.0.0.1"]), "invalid CIDR address: 10.0.0.1"),
    ('{"on_http_request": [{"actions": [{"type": "oauth"}]}]}', "missing required element provider"),
    ('{"on_http_request": [{"actions": [{"type": "oauth", "config": {"provider": "myspace"}}]}]}', "value: provider"),
    (
        '{"on_tcp_connect": [{"actions": [{"type": "oauth", "config": {"provider": "google"}}]}]}',
        "Action type oauth is not supported for on_tcp_connect traffic policy rule.",
    ),
    (
        json.dumps({"on_http_request": [{"expressions": ["req.url.path == '/x'"], "actions": [{"type": "deny"}]}]}),
        "Invalid policy expression.",
    ),
    (
        json.dumps(
            {"on_http_request": [{"expressions": ["actions.ngrok.oauth.identity.email in ['a'"], "actions": []}]}
        ),
        "Invalid policy expression.",
    ),
]


def test_invalid_policies_fail_like_the_real_agent(agent_env: AgentEnv, upstream: Upstream) -> None:
    config = agent_env.config()
    for policy, detail in INVALID_POLICIES:
        with pytest.raises(PyngrokNgrokHTTPError) as info:
            ngrok.connect(upstream.port, name="owui-dev", pyngrok_config=config, traffic_policy=policy)
        error = json.loads(info.value.body)
        assert (info.value.status_code, error["error_code"], error["msg"]) == (502, 103, "failed to start tunnel")
        assert error["details"]["err"].startswith("The TrafficPolicy you provided is invalid: ")
        assert error["details"]["err"].endswith("\r\n\r\nERR_NGROK_9026\r\n")
        assert detail in error["details"]["err"], policy
    assert ngrok.get_tunnels(config) == []
    assert "failed to start tunnel" in agent_env.messages


def test_legacy_tunnels_api_takes_a_policy(agent_env: AgentEnv, upstream: Upstream) -> None:
    config = agent_env.config()
    spec = {"name": "legacy", "addr": str(upstream.port), "proto": "http", "traffic_policy": PRODUCT_POLICY}
    status, created = agent_api(config, "POST", "/api/tunnels", spec)
    assert status == 201
    assert agent_api(config, "GET", "/api/endpoints/legacy")[1]["traffic_policy"] == PRODUCT_POLICY
    assert fetch(created["public_url"], agent_env.ca)[0] == 302
    status, error = agent_api(config, "POST", "/api/tunnels", {**spec, "name": "bad", "traffic_policy": "on_x: []"})
    assert (status, error["error_code"]) == (502, 103)
    assert "ERR_NGROK_9026" in error["details"]["err"]
    assert agent_api(config, "GET", "/api/tunnels/bad")[0] == 404


# -------------------------------------------------------------------------------------------- domains


def test_owned_domain(agent_env: AgentEnv, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NGROK_DOMAINS", OWNED_DOMAIN)
    config = agent_env.config()
    tunnel = ngrok.connect(
        f"http://127.0.0.1:{upstream.port}", name="owui-dev", pyngrok_config=config, url=f"https://{OWNED_DOMAIN}"
    )
    assert tunnel.public_url.startswith(f"https://{OWNED_DOMAIN}:")
    with tls_socket(tunnel.public_url, agent_env.ca) as sock:  # the certificate is checked for the domain
        sock.sendall(f"GET /d HTTP/1.1\r\nHost: {OWNED_DOMAIN}\r\nConnection: close\r\n\r\n".encode())
        assert read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 200 OK\r\n")
    assert upstream.seen[-1]["X-Forwarded-Host"] == OWNED_DOMAIN

    with pytest.raises(PyngrokNgrokHTTPError) as info:
        ngrok.connect(upstream.port, name="other", pyngrok_config=config, url="https://not-mine.example.test")
    assert info.value.status_code == 502
    assert "ERR_NGROK_320" in info.value.body
    assert json.loads(info.value.body)["msg"] == "failed to start tunnel"


def test_public_host_override(agent_env: AgentEnv, upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NGROK_PUBLIC_HOST", "localhost")
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    assert tunnel.public_url.startswith("https://localhost:")
    assert get(tunnel.public_url, agent_env.ca)[0] == 200


def test_duplicate_name_is_rejected(agent_env: AgentEnv, upstream: Upstream) -> None:
    config = agent_env.config()
    ngrok.connect(upstream.port, name="owui-dev", pyngrok_config=config)
    with pytest.raises(PyngrokNgrokHTTPError) as info:
        ngrok.connect(upstream.port, name="owui-dev", pyngrok_config=config)
    assert info.value.status_code == 400
    assert json.loads(info.value.body)["details"]["err"] == 'endpoint "owui-dev" already exists'


# ---------------------------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("fail", "token", "code"),
    [
        (None, None, "ERR_NGROK_4018"),
        ("no_authtoken", TOKEN, "ERR_NGROK_4018"),
        ("auth_invalid", TOKEN, "ERR_NGROK_105"),
        ("auth_revoked", TOKEN, "ERR_NGROK_107"),
        ("session_limit", TOKEN, "ERR_NGROK_108"),
        ("too_old", TOKEN, "ERR_NGROK_121"),
    ],
)
def test_session_failures_end_the_agent(
    agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch, fail: str | None, token: str | None, code: str
) -> None:
    if fail:
        monkeypatch.setenv("FAKE_NGROK_FAIL", fail)
    started = time.monotonic()
    with pytest.raises(PyngrokNgrokError) as info:
        ngrok.connect(8080, pyngrok_config=agent_env.config(authtoken=token))
    assert time.monotonic() - started < 5
    assert info.value.ngrok_error_code == code
    assert str(info.value).startswith("The ngrok process errored on start: ")
    assert [log.lvl for log in info.value.ngrok_logs][-4:] == ["ERROR", "ERROR", "ERROR", "CRITICAL"]
    # The real agent quotes the token back in ERR_NGROK_105/107: callers must redact it.
    assert (TOKEN in str(info.value.ngrok_error)) is (code in ("ERR_NGROK_105", "ERR_NGROK_107"))
    assert not process.is_process_running(AGENT_PATH)
    [pid] = agent_env.pids()
    assert not alive(pid)


def test_endpoint_already_online(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch, upstream: Upstream) -> None:
    monkeypatch.setenv("FAKE_NGROK_FAIL", "endpoint_online")
    config = agent_env.config()
    with pytest.raises(PyngrokNgrokHTTPError) as info:
        ngrok.connect(upstream.port, name="owui-dev", pyngrok_config=config)
    assert info.value.status_code == 502
    assert "ERR_NGROK_334" in info.value.body
    assert info.value.ngrok_error_code is None  # pyngrok does not parse API error bodies
    assert process.is_process_running(AGENT_PATH)  # the agent stays up
    pooled = ngrok.connect(upstream.port, name="pooled", pyngrok_config=config, pooling_enabled=True)
    assert get(pooled.public_url, agent_env.ca)[0] == 200


def test_usage_limit_is_served_as_ngrok_725(
    agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch, upstream: Upstream
) -> None:
    monkeypatch.setenv("FAKE_NGROK_FAIL", "usage_limit")
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    status, headers, body = get(tunnel.public_url, agent_env.ca)
    assert (status, headers["Ngrok-Error-Code"]) == (403, "ERR_NGROK_725")
    assert b"bandwidth limit" in body
    assert upstream.seen == []


def test_no_route_never_connects(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NGROK_FAIL", "no_route")
    started = time.monotonic()
    with pytest.raises(PyngrokNgrokError) as info:
        ngrok.connect(8080, pyngrok_config=agent_env.config(startup_timeout=2))
    assert 1.8 < time.monotonic() - started < 5
    assert info.value.ngrok_error_code is None
    assert "failed to dial ngrok server" in str(info.value)
    assert "client session established" not in agent_env.messages
    assert agent_env.messages.count("failed to reconnect session") >= 1
    [pid] = agent_env.pids()
    assert not alive(pid)  # pyngrok killed it when it gave up


def test_missing_tls_files_fail_at_start(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKE_NGROK_TLS_CERT")
    with pytest.raises(PyngrokNgrokError, match="FAKE_NGROK_TLS_CERT") as info:
        ngrok.connect(8080, pyngrok_config=agent_env.config())
    assert info.value.ngrok_logs[-1].lvl == "CRITICAL"


# ----------------------------------------------------------------------------------- authtoken sources


def test_authtoken_sources_in_argv(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = PyngrokConfig(
        ngrok_path=AGENT_PATH,
        config_path=write_agent_config(agent_env.root / "flag.yml", web_addr=f"127.0.0.1:{free_port()}"),
        auth_token="tok_on_argv",
    )
    ngrok.get_ngrok_process(flag)
    ngrok.kill(flag)
    # pyngrok copies NGROK_AUTHTOKEN onto the command line unless auth_token is reset after construction.
    monkeypatch.setenv("NGROK_AUTHTOKEN", "tok_from_env")
    from_env = PyngrokConfig(ngrok_path=AGENT_PATH, config_path=flag.config_path)
    ngrok.get_ngrok_process(from_env)
    ngrok.kill(from_env)
    # The agent itself never reads NGROK_AUTHTOKEN: without a flag or a config token it is ERR_NGROK_4018.
    bare = PyngrokConfig(ngrok_path=AGENT_PATH, config_path=flag.config_path)
    bare.auth_token = None
    with pytest.raises(PyngrokNgrokError) as info:
        ngrok.get_ngrok_process(bare)
    assert info.value.ngrok_error_code == "ERR_NGROK_4018"

    records = read_records(agent_env.record)
    assert [r["authtoken_source"] for r in records] == ["flag", "flag", None]
    assert "tok_on_argv" in records[0]["argv"]
    assert "tok_from_env" in records[1]["argv"]
    assert records[2]["configs"] == [flag.config_path]


# --------------------------------------------------------------------------------- drops and restarts


def test_drop_and_recover_on_sigusr1(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch, upstream: Upstream) -> None:
    monkeypatch.setenv("FAKE_NGROK_DROP_SECONDS", "1.2")
    config = agent_env.config()
    tunnel = ngrok.connect(upstream.port, pyngrok_config=config)
    assert get(tunnel.public_url, agent_env.ca)[0] == 200

    os.kill(agent_pid(config), signal.SIGUSR1)
    agent_env.wait_for("heartbeat timeout, terminating session")
    status, headers, _ = get(tunnel.public_url, agent_env.ca)
    assert (status, headers["Ngrok-Error-Code"]) == (404, "ERR_NGROK_3200")

    agent_env.wait_for("client session established", count=2)
    assert "session closed, starting reconnect loop" in agent_env.messages
    assert get(tunnel.public_url, agent_env.ca)[0] == 200
    assert [t.public_url for t in ngrok.get_tunnels(config)] == [tunnel.public_url]


def test_drop_with_rotating_url(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch, upstream: Upstream) -> None:
    monkeypatch.setenv("FAKE_NGROK_DROP_SECONDS", "0.3")
    monkeypatch.setenv("FAKE_NGROK_ROTATE_URL", "1")
    config = agent_env.config()
    old = ngrok.connect(upstream.port, pyngrok_config=config).public_url
    os.kill(agent_pid(config), signal.SIGUSR1)
    agent_env.wait_for("client session established", count=2)
    [new] = [t.public_url for t in ngrok.get_tunnels(config)]
    assert new != old
    assert get(new, agent_env.ca)[0] == 200
    with pytest.raises(urllib.error.URLError):
        get(old, agent_env.ca, timeout=2)


def test_busy_default_web_port_falls_back(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real default is 4040, which anything on this machine may hold or free at any moment; the agent's
    # FAKE_NGROK_DEFAULT_WEB_PORT moves "the default" to a port this test holds for sure.
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", free_port()))
        blocker.listen()
        default = blocker.getsockname()[1]
        monkeypatch.setenv("FAKE_NGROK_DEFAULT_WEB_PORT", str(default))
        api_url = ngrok.get_ngrok_process(agent_env.config(web_addr=None)).api_url
    port = int(urlsplit(api_url).port or 0)
    assert api_url.startswith("http://127.0.0.1:")
    assert default < port < default + 60
    assert "can't bind default web address, trying alternatives" in agent_env.messages


def spawn_agent(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Run `ngrok start ...` by hand; return it once it logged "tunnel session started", with its lines."""
    agent = subprocess.Popen([AGENT_PATH, "start", *args], stdout=subprocess.PIPE, text=True)
    assert agent.stdout is not None
    lines: list[str] = []
    while not any("tunnel session started" in line for line in lines):
        line = agent.stdout.readline()
        if not line:
            agent.wait()
            raise AssertionError(f"agent exited: {lines}")
        lines.append(line)
    return agent, lines


def test_start_flags_like_the_real_agent(agent_env: AgentEnv) -> None:
    first = write_agent_config(agent_env.root / "a.yml", authtoken=TOKEN, web_addr="127.0.0.1:1")
    second = write_agent_config(agent_env.root / "b.yml", web_addr=f"127.0.0.1:{free_port()}")
    agent, lines = spawn_agent(
        "--none", "--log=stdout", "--log-level", "info", "--region", "eu", f"--config={first},{second}"
    )
    try:
        assert [line.rstrip("\n").split("msg=")[1].split(" obj=")[0] for line in lines] == [
            '"open config file" path=' + first + " err=nil",
            '"open config file" path=' + second + " err=nil",
            '"FIPS 140 mode" enabled=false',
            '"starting web service"',
            '"client session established"',
            '"tunnel session started"',
        ]
        assert f"addr={json.loads(Path(second).read_text())['agent']['web_addr']} allow_hosts=[]" in lines[3]
        assert all(line.startswith("t=") and " lvl=info " in line for line in lines)
        [entry] = read_records(agent_env.record)
        assert (entry["configs"], entry["authtoken_source"]) == ([first, second], "config")
    finally:
        agent.terminate()
        agent.wait(5)


def test_session_delay_holds_the_session_back(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    # FAKE_NGROK_SESSION_DELAY acts out a real agent's trip to ngrok's cloud: the web service answers at once,
    # the session comes at least that much later, and an endpoint asked for before it is refused (503).
    # Only a lower bound is checked: a loaded machine can make the gap longer, never shorter.
    monkeypatch.setenv("FAKE_NGROK_SESSION_DELAY", "0.8")
    config_path = write_agent_config(agent_env.root / "slow.yml", authtoken=TOKEN, web_addr=f"127.0.0.1:{free_port()}")
    agent = subprocess.Popen([AGENT_PATH, "start", "--none", "--log", "stdout", "--config", config_path],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert agent.stdout is not None
    try:
        seen: dict[str, float] = {}
        early: tuple[int, Any] | None = None
        for line in agent.stdout:
            for message in ("starting web service", "client session established"):
                if f'msg="{message}"' in line:
                    seen[message] = time.monotonic()
            if "starting web service" in line and early is None:
                web = line.split("addr=")[1].split()[0]
                early = post_json(f"http://{web}/api/tunnels", {"name": "early", "addr": "8080", "proto": "http"})
            if "client session established" in seen:
                break
        assert set(seen) == {"starting web service", "client session established"}, seen
        assert seen["client session established"] - seen["starting web service"] >= 0.8 - 0.05
        assert early is not None
        assert early[0] == 503, early
        assert "session has not yet been established" in json.dumps(early[1])
    finally:
        agent.terminate()
        agent.wait(5)


def test_session_delay_must_be_seconds(agent_env: AgentEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_NGROK_SESSION_DELAY", "soon")
    done = run_agent("start", "--none", "--config", write_agent_config(agent_env.root / "bad.yml", authtoken=TOKEN))
    assert done.returncode == 1
    assert "FAKE_NGROK_SESSION_DELAY='soon' is not a number of seconds" in done.stderr


def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_stop_signals_end_it_promptly(agent_env: AgentEnv, upstream: Upstream, signo: int) -> None:
    config_path = write_agent_config(agent_env.root / "stop.yml", authtoken=TOKEN, web_addr=f"127.0.0.1:{free_port()}")
    agent, lines = spawn_agent("--none", "--log", "stdout", "--config", config_path)
    try:
        web = next(line for line in lines if "starting web service" in line).split("addr=")[1].split()[0]
        request = urllib.request.Request(
            f"http://{web}/api/endpoints",
            method="POST",
            data=json.dumps({"name": "x", "upstream": {"url": f"http://127.0.0.1:{upstream.port}"}}).encode(),
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            public = json.loads(response.read())["url"]
        idle = tls_socket(public, agent_env.ca)  # an open public connection must not hold it up
        started = time.monotonic()
        agent.send_signal(signo)
        assert agent.wait(timeout=1) == 0
        assert time.monotonic() - started < 1
        assert agent.stdout is not None
        assert "received stop request" in agent.stdout.read()
        idle.close()
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def test_agent_is_standard_library_only() -> None:
    source = Path(AGENT_PATH).read_text()
    assert source.startswith("#!/usr/bin/env python3\n")
    assert os.access(AGENT_PATH, os.X_OK)
    imported = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from ")) and not line.startswith("from __future__")
    }
    assert imported <= set(sys.stdlib_module_names)


# -------------------------------------------------------------------------- free-plan browser warning

BROWSER_UA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile"


def test_browsers_get_the_free_plan_interstitial_instead_of_the_site(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    status, headers, body = fetch(tunnel.public_url, agent_env.ca, "/", {"User-Agent": BROWSER_UA})
    assert status == 200
    assert headers["Ngrok-Error-Code"] == "ERR_NGROK_6024"
    assert headers["Content-Type"].startswith("text/html")
    assert b"You are about to visit" in body
    assert b"served for free through ngrok.com" in body
    assert upstream.seen == [], "the interstitial is answered by the cloud, the site is never reached"


@pytest.mark.parametrize(
    "headers",
    [
        {"User-Agent": BROWSER_UA, "ngrok-skip-browser-warning": "1"},
        {"User-Agent": BROWSER_UA, "ngrok-skip-browser-warning": "anything at all"},
        {"User-Agent": BROWSER_UA, "Cookie": "a=b; abuse_interstitial=127.0.0.1"},  # after "Visit Site"
        {"User-Agent": "owui-dev"},  # not a browser's User-Agent
        {"User-Agent": "curl/8.5.0"},
        {},
    ],
    ids=["skip-header", "skip-header-any-value", "cookie", "own-user-agent", "curl", "no-user-agent"],
)
def test_the_documented_ways_past_the_interstitial(
    agent_env: AgentEnv, upstream: Upstream, headers: dict[str, str]
) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    status, answer, body = fetch(tunnel.public_url, agent_env.ca, "/hello", headers)
    assert status == 200
    assert "Ngrok-Error-Code" not in answer
    assert json.loads(body)["path"] == "/hello"


def test_a_cookie_for_another_domain_does_not_count(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    headers = {"User-Agent": BROWSER_UA, "Cookie": "abuse_interstitial=other.ngrok-free.app"}
    status, answer, _ = fetch(tunnel.public_url, agent_env.ca, "/", headers)
    assert status == 200
    assert answer.get("Ngrok-Error-Code") == "ERR_NGROK_6024"


def test_every_request_on_a_kept_alive_connection_meets_the_interstitial(
    agent_env: AgentEnv, upstream: Upstream
) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(tunnel.public_url).port, timeout=5)
    conn.sock = tls_socket(tunnel.public_url, agent_env.ca)
    conn.request("GET", "/api", headers={"User-Agent": "owui-dev"})
    assert json.loads(conn.getresponse().read())["path"] == "/api"
    conn.request("GET", "/page", headers={"User-Agent": BROWSER_UA})
    response = conn.getresponse()
    assert response.getheader("Ngrok-Error-Code") == "ERR_NGROK_6024"
    conn.close()
    assert [seen.get("User-Agent") for seen in upstream.seen] == ["owui-dev"]


def test_a_paid_plan_has_no_interstitial(
    agent_env: AgentEnv, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_NGROK_BROWSER_WARNING", "0")
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config())
    status, answer, body = fetch(tunnel.public_url, agent_env.ca, "/hello", {"User-Agent": BROWSER_UA})
    assert (status, "Ngrok-Error-Code" in answer) == (200, False)
    assert json.loads(body)["path"] == "/hello"


def test_the_policy_answers_before_the_interstitial(agent_env: AgentEnv, upstream: Upstream) -> None:
    tunnel = ngrok.connect(upstream.port, pyngrok_config=agent_env.config(), traffic_policy=PRODUCT_POLICY)
    status, headers, _ = fetch(tunnel.public_url, agent_env.ca, "/", {"User-Agent": BROWSER_UA})
    assert status == 302, "OAuth sends a browser without a session to sign in first"
    signed_in = {"User-Agent": BROWSER_UA, OAUTH_HEADER: "a@b.com"}
    status, headers, _ = fetch(tunnel.public_url, agent_env.ca, "/", signed_in)
    assert headers.get("Ngrok-Error-Code") == "ERR_NGROK_6024"


# ------------------------------------------------------------------ WebSockets to the fake Open WebUI


@pytest.fixture(scope="module")
def fake_openwebui_port(docker_client: Any, fake_image: str) -> Iterator[int]:
    """A fake Open WebUI container on a free 127.0.0.1 port (the agent's upstream)."""
    import contextlib as _contextlib

    import docker.errors

    container = docker_client.containers.run(
        fake_image, detach=True, labels={"owui-dev-test": "1"}, ports={"8080/tcp": ("127.0.0.1", None)}
    )
    try:
        container.reload()
        port = int(container.ports["8080/tcp"][0]["HostPort"])
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, container.logs().decode(errors="replace")
            time.sleep(0.1)
        yield port
    finally:
        with _contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def wss_connect(public_url: str, ca: str) -> Any:
    from websockets.sync.client import connect

    url = public_url.replace("https://", "wss://") + "/ws/socket.io/?EIO=4&transport=websocket"
    return connect(url, ssl=ssl.create_default_context(cafile=ca), open_timeout=10)


@pytest.mark.docker
def test_socketio_websocket_through_the_public_https_side(agent_env: AgentEnv, fake_openwebui_port: int) -> None:
    tunnel = ngrok.connect(fake_openwebui_port, pyngrok_config=agent_env.config())
    with wss_connect(tunnel.public_url, agent_env.ca) as ws:
        opened = str(ws.recv(timeout=10))
        assert opened.startswith('0{"sid":"'), opened
        assert json.loads(opened[1:])["upgrades"] == []
        ws.send("40")
        assert str(ws.recv(timeout=10)).startswith('40{"sid":"')


@pytest.mark.docker
@pytest.mark.parametrize(
    ("mode", "status", "marker"),
    [
        ("strip_upgrade", 400, b'{"detail":"Invalid WebSocket upgrade request"}'),
        ("bad_gateway", 502, b"ERR_NGROK_3004"),
    ],
)
def test_broken_websocket_upgrades(
    agent_env: AgentEnv,
    fake_openwebui_port: int,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    status: int,
    marker: bytes,
) -> None:
    from websockets.exceptions import InvalidStatus

    monkeypatch.setenv("FAKE_NGROK_WEBSOCKET", mode)
    tunnel = ngrok.connect(fake_openwebui_port, pyngrok_config=agent_env.config())
    with pytest.raises(InvalidStatus) as refused:
        wss_connect(tunnel.public_url, agent_env.ca)
    assert refused.value.response.status_code == status
    assert marker in refused.value.response.body
    # Plain requests still pass.
    code, _, body = get(tunnel.public_url + "/health", agent_env.ca)
    assert (code, body) == (200, b'{"status":true}')
