"""A remote engine (DOCKER_HOST=ssh://…): Open WebUI is reached through an SSH forward, against a real sshd.

The "remote host" is this machine, reached through Debian's OpenSSH server started here on a loopback port
with throwaway keys (scripts/provision installs openssh-server): docker-py runs `ssh … docker system
dial-stdio` through it, as it would to a GPU box. Its 127.0.0.1 being ours lets the test see both ends; the
forward is used all the same (an ssh:// engine is never taken for a local one), and the sshd's own log says
which ports the traffic really went to.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import IN_CI, UpProcess, agent_records, free_port, https_get, pid_gone, run_cli

from owui_dev.errors import DockerUnavailableError, OwuiDevError

SSHD = "/usr/sbin/sshd"  # sshd re-executes itself, so it must be started by its absolute path


@dataclass
class SshServer:
    port: int
    folder: Path
    log: Path
    env: dict[str, str]  # DOCKER_HOST and the PATH whose `ssh` uses this server's throwaway keys

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def forwarded_to(self) -> list[int]:
        """The ports sshd opened forwarding channels to, from its own log (LogLevel DEBUG1)."""
        targets = []
        for line in self.log_text().splitlines():
            if "server_request_direct_tcpip:" in line and "target 127.0.0.1 port " in line:
                targets.append(int(line.rsplit(" ", 1)[1]))
        return targets


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SshServer]]:
    """Start an sshd on a free loopback port: `sshd(forwarding="no")` for one that refuses to forward."""
    if not Path(SSHD).exists() or shutil.which("ssh-keygen") is None:
        message = "no OpenSSH server (/usr/sbin/sshd); scripts/provision installs openssh-server"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    started: list[subprocess.Popen[bytes]] = []

    def start(forwarding: str = "local") -> SshServer:
        folder = tmp_path_factory.mktemp("sshd")
        port = free_port()
        _keygen(folder / "host_key")
        _keygen(folder / "client_key")
        (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
        (folder / "sshd_config").write_text(
            f"Port {port}\n"
            "ListenAddress 127.0.0.1\n"
            f"HostKey {folder / 'host_key'}\n"
            f"AuthorizedKeysFile {folder / 'authorized_keys'}\n"
            "PidFile none\n"
            "StrictModes no\n"  # the temp folder's modes are pytest's, not an ~/.ssh's
            "UsePAM no\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            f"AllowTcpForwarding {forwarding}\n"
            "LogLevel DEBUG1\n"  # logs each forwarding channel's target port
        )
        host_key = (folder / "host_key.pub").read_text().split()
        (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
        # OpenSSH reads ~/.ssh from the password database, not $HOME: the test's isolated home cannot hold
        # the client's config. An `ssh` first on PATH adds -F with it, for docker-py's ssh and the forward's.
        config = folder / "ssh_config"
        config.write_text(
            "Host *\n"
            f"  IdentityFile {folder / 'client_key'}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {folder / 'known_hosts'}\n"
            "  GlobalKnownHostsFile /dev/null\n"
        )
        bin_dir = folder / "bin"
        bin_dir.mkdir()
        wrapper = bin_dir / "ssh"
        real_ssh = shutil.which("ssh")
        assert real_ssh, "no ssh client (openssh-client)"
        wrapper.write_text(f'#!/bin/sh\nexec {real_ssh} -F {config} "$@"\n')
        wrapper.chmod(0o755)
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation folder
        subprocess.run([SSHD, "-t", "-f", str(folder / "sshd_config")], check=True, timeout=30)
        log = folder / "sshd.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(folder / "sshd_config")],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
            )
        started.append(proc)
        deadline = time.monotonic() + 30
        while not _listens(port):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "sshd did not listen within 30 s"
            time.sleep(0.1)
        env = {
            "DOCKER_HOST": f"ssh://{getpass.getuser()}@127.0.0.1:{port}",
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        return SshServer(port=port, folder=folder, log=log, env=env)

    yield start
    for proc in started:
        # The session processes sshd forked for connections lead sessions of their own: end them too, so a
        # client that a broken run left connected is not kept alive by them.
        for pid in _children(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):
            if entry.name.isdigit() and int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def forwards_under(home: Path) -> list[int]:
    """ssh processes whose command line names a file under this test's home (the forward's log)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z" and argv and Path(argv[0]).name == "ssh" and any(arg.startswith(str(home)) for arg in argv):
            found.append(int(entry.name))
    return found


def test_up_on_an_ssh_engine_serves_through_an_ssh_forward_and_ctrl_c_ends_it(  # type: ignore[no-untyped-def]
    docker_client, names, args, env, up_processes, sshd, isolated_home: Path
) -> None:
    server = sshd()
    up = UpProcess([*args, "--json"], {**env, **server.env})
    up_processes.append(up)
    ready = up.wait_for_json(timeout=180)

    forward = ready["ssh_forward"]
    assert isinstance(forward, dict), ready
    host_port = ready["host_port"]
    local_port = forward["local_port"]
    assert forward["remote_port"] == host_port
    assert local_port != host_port  # this machine is also the "remote" host: its port is taken there
    assert ready["local_url"] == f"http://127.0.0.1:{local_port}"
    messages = " ".join(json.loads(line).get("message", "") for line in up.stderr.splitlines() if line.startswith("{"))
    assert "runs on the remote host 127.0.0.1; reached through an SSH forward" in messages

    # The tunnel's upstream is the forward's port (the agent's own API says so), not the published one.
    with urllib.request.urlopen(f"{ready['inspector_url']}/api/tunnels", timeout=10) as answer:
        tunnels = json.load(answer)["tunnels"]
    [tunnel] = tunnels
    upstream = str(tunnel["config"]["addr"])
    assert upstream.rsplit(":", 1)[-1].rstrip("/") == str(local_port), upstream

    # The forward is a real ssh, and a request through the public URL crosses the SSH server to the
    # container's published port (sshd's own log of the channels it opened).
    pid = int(forward["pid"])
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert f"127.0.0.1:{local_port}:127.0.0.1:{host_port}" in argv
    before = server.forwarded_to().count(host_port)
    status, body = https_get(f"{ready['public_url']}/health", env["SSL_CERT_FILE"])
    assert (status, json.loads(body)) == (200, {"status": True})
    deadline = time.monotonic() + 10
    while server.forwarded_to().count(host_port) <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.forwarded_to().count(host_port) > before, server.log_text()[-2000:]
    assert set(server.forwarded_to()) == {host_port}

    assert up.interrupt(signal.SIGINT) == 0
    stopped = [json.loads(line) for line in up.stderr.splitlines() if '"stopped"' in line]
    assert any(f"ended the SSH forward to 127.0.0.1 (pid {pid})" in a for a in stopped[-1]["actions"]), up.stderr
    assert pid_gone(pid), "the SSH forward outlived owui-dev"
    assert docker_client.containers.get(names.container).status == "exited"
    assert not forwards_under(isolated_home)


def test_via_a_docker_context_a_forward_that_drops_while_serving_is_reopened_on_the_same_port(  # type: ignore[no-untyped-def]
    docker_client, names, args, env, up_processes, sshd, isolated_home: Path
) -> None:
    server = sshd()
    # This one reaches the engine through a docker context rather than DOCKER_HOST.
    name = "gpu-box"
    meta = isolated_home / ".docker" / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / "meta.json"
    meta.parent.mkdir(parents=True)
    endpoint = {"docker": {"Host": server.env["DOCKER_HOST"], "SkipTLSVerify": False}}
    meta.write_text(json.dumps({"Name": name, "Metadata": {}, "Endpoints": endpoint}))
    (isolated_home / ".docker" / "config.json").write_text(json.dumps({"currentContext": name}))
    context_env = {k: v for k, v in env.items() if k != "DOCKER_HOST"} | {"PATH": server.env["PATH"]}
    up = UpProcess([*args, "--json"], context_env)
    up_processes.append(up)
    ready = up.wait_for_json(timeout=180)
    assert "(gpu-box)" in up.stderr  # the context's engine
    first = int(ready["ssh_forward"]["pid"])  # type: ignore[index]
    os.kill(first, signal.SIGKILL)  # as a dropped connection ends it
    assert pid_gone(first)

    deadline = time.monotonic() + 60
    reopened: list[dict[str, object]] = []
    while not reopened and time.monotonic() < deadline:
        events = [json.loads(line) for line in up.stderr.splitlines() if line.startswith("{")]
        reopened = [event for event in events if event.get("event") == "ssh_forward_reopened"]
        time.sleep(0.2)
    assert reopened, up.stderr
    second = int(reopened[0]["pid"])  # type: ignore[call-overload]
    assert second != first
    argv = Path(f"/proc/{second}/cmdline").read_bytes().decode().split("\0")
    assert f"127.0.0.1:{ready['ssh_forward']['local_port']}:127.0.0.1:{ready['host_port']}" in argv  # type: ignore[index]
    status, body = https_get(f"{ready['public_url']}/health", env["SSL_CERT_FILE"])  # the same URL works again
    assert (status, json.loads(body)) == (200, {"status": True})

    assert up.interrupt(signal.SIGINT) == 0
    assert pid_gone(second), "the reopened SSH forward outlived owui-dev"
    assert not forwards_under(isolated_home)


def test_a_forward_that_a_killed_up_left_is_ended_by_down(  # type: ignore[no-untyped-def]
    docker_client, names, args, env, up_processes, sshd, isolated_home: Path
) -> None:
    server = sshd()
    up = UpProcess([*args, "--json"], {**env, **server.env})
    up_processes.append(up)
    ready = up.wait_for_json(timeout=180)
    pid = int(ready["ssh_forward"]["pid"])  # type: ignore[index]
    up.kill()  # SIGKILL: no teardown ran
    time.sleep(0.5)
    assert not pid_gone(pid, timeout=0.5)  # a group of its own: it outlives the killed `up`

    result = run_cli("down", "--name", names.container, env={**env, **server.env}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"ended a leftover ssh forward (pid {pid})" in (result.stdout + result.stderr).lower()
    assert pid_gone(pid)
    assert not forwards_under(isolated_home)


def test_a_server_that_refuses_forwarding_is_a_clear_error_and_nothing_stays(  # type: ignore[no-untyped-def]
    docker_client, names, args, env, sshd, isolated_home: Path
) -> None:
    server = sshd(forwarding="no")
    for json_flag in ([], ["--json"]):
        result = run_cli("up", *args, *json_flag, env={**env, **server.env}, timeout=180)
        assert result.returncode == 3, result.stderr
        assert "The SSH server on 127.0.0.1 refuses to forward a port to Open WebUI" in result.stderr
        assert "administratively prohibited" in result.stderr  # ssh's own words
        assert "AllowTcpForwarding" in result.stderr  # the hint
        assert "Traceback" not in result.stderr
        if json_flag:
            assert json.loads(result.stderr.splitlines()[-1])["error"] == "docker-unavailable"
        # everything started was undone (the agent, which starts while Open WebUI does, is ended), and no
        # tunnel was ever opened
        assert docker_client.containers.get(names.container).status == "exited"
        for record in agent_records(env):
            assert pid_gone(int(record["pid"])), "an ngrok agent outlived the failed run"  # type: ignore[arg-type]
        assert "ngrok tunnel open" not in result.stderr
        assert not forwards_under(isolated_home)


@pytest.mark.parametrize(
    ("breakage", "said"),
    [
        ("known_hosts", "Host key verification failed."),
        ("client_key", "Permission denied (publickey)"),
    ],
)
def test_a_forward_ssh_cannot_open_says_why_and_leaves_nothing(  # type: ignore[no-untyped-def]
    sshd, breakage: str, said: str, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    """What docker's own ssh got past but the forward's, without prompts, cannot: an unknown host key, a key
    the server does not take. Each is the catalogue error with ssh's own words, and no ssh is left running."""
    from owui_dev.ssh_forward import open_forward

    server = sshd()
    if breakage == "known_hosts":
        (server.folder / "known_hosts").write_text("")
    else:
        _keygen(server.folder / "other_key")
        (server.folder / "client_key").unlink()
        (server.folder / "other_key").rename(server.folder / "client_key")
    monkeypatch.setenv("PATH", server.env["PATH"])
    with pytest.raises(OwuiDevError) as caught:
        open_forward(server.env["DOCKER_HOST"], "owui-dev-test", free_port())
    assert isinstance(caught.value, DockerUnavailableError)
    assert "Cannot open an SSH forward to Open WebUI on 127.0.0.1" in caught.value.message
    assert said in caught.value.message
    assert caught.value.hint is not None
    assert f"-p {server.port} " in caught.value.hint
    assert not forwards_under(isolated_home)


def test_a_forward_without_an_ssh_client_is_the_forward_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docker-py needs `ssh` first, so `up` meets a missing one there (test_docker_host.py); the forward still
    says it in its own words rather than crash, should ssh vanish in between."""
    from owui_dev.ssh_forward import open_forward

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OwuiDevError) as caught:
        open_forward("ssh://me@gpu-box.example:2222", "owui-dev-test", 3000)
    error = caught.value
    assert isinstance(error, DockerUnavailableError)
    assert "Cannot open an SSH forward to Open WebUI on gpu-box.example" in str(error)
    assert "there is no `ssh` command on PATH" in str(error)
    assert error.hint is not None
    assert "ssh -N -L 127.0.0.1:3000:127.0.0.1:3000 -p 2222 me@gpu-box.example" in error.hint


def test_attach_on_an_ssh_engine_serves_the_container_through_an_ssh_forward(  # type: ignore[no-untyped-def]
    docker_client, names, fake_image, env, up_processes, sshd, isolated_home: Path
) -> None:
    """`up --attach NAME` on a remote engine: that host's published port is brought here the same way, and the
    container (not owui-dev's) keeps running after Ctrl+C."""
    from conftest import AGENT_PATH

    name = f"{names.container}-theirs"
    names.extra_containers.append(name)
    names.extra_volumes.append(f"{name}-data")
    port = free_port()
    container = docker_client.containers.run(
        fake_image,
        name=name,
        detach=True,
        environment={"WEBUI_ADMIN_EMAIL": "owner@example.com", "WEBUI_ADMIN_PASSWORD": "their-own-password-1"},
        ports={"8080/tcp": ("127.0.0.1", port)},
        volumes={f"{name}-data": {"bind": "/app/backend/data", "mode": "rw"}},
    )
    server = sshd()
    up = UpProcess(["--attach", name, "--ngrok-path", AGENT_PATH, "--json"], {**env, **server.env})
    up_processes.append(up)
    ready = up.wait_for_json(timeout=180)

    forward = ready["ssh_forward"]
    assert isinstance(forward, dict), ready
    assert forward["remote_port"] == port
    local_port = forward["local_port"]
    assert local_port != port
    assert ready["local_url"] == f"http://127.0.0.1:{local_port}"
    with urllib.request.urlopen(f"{ready['inspector_url']}/api/tunnels", timeout=10) as answer:
        [tunnel] = json.load(answer)["tunnels"]
    assert str(tunnel["config"]["addr"]).rsplit(":", 1)[-1].rstrip("/") == str(local_port), tunnel
    status, body = https_get(f"{ready['public_url']}/health", env["SSL_CERT_FILE"])
    assert (status, json.loads(body)) == (200, {"status": True})

    pid = int(forward["pid"])
    assert up.interrupt(signal.SIGINT) == 0
    assert pid_gone(pid), "the SSH forward outlived owui-dev"
    container.reload()
    assert container.status == "running", "an attached container keeps running"
