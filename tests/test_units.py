"""Small pure pieces, checked directly."""

from __future__ import annotations

import pytest

from owui_dev.docker_engine import EngineInfo, PullProgress
from owui_dev.tunnel import redact, traffic_policy


@pytest.mark.parametrize(
    ("endpoint", "local"),
    [
        ("unix:///var/run/docker.sock", True),
        ("unix:///Users/me/.colima/default/docker.sock", True),
        ("npipe:////./pipe/docker_engine", True),
        ("tcp://127.0.0.1:2375", True),
        ("ssh://me@build-server", False),
        ("ssh://me@127.0.0.1:60022", False),  # a VM's sshd behind a port forward (Lima, Vagrant): not this machine
        ("tcp://10.0.0.5:2376", False),
    ],
)
def test_remote_engines_are_recognised(endpoint: str, local: bool) -> None:
    assert EngineInfo("27.3", "ctx", endpoint).is_local is local
    # Only an ssh:// engine's ports are brought here by an SSH forward (owui_dev.ssh_forward).
    assert EngineInfo("27.3", "ctx", endpoint).over_ssh is endpoint.startswith("ssh://")


def test_pull_progress_sums_layers() -> None:
    progress = PullProgress()
    for event in [
        {"status": "Pulling from open-webui/open-webui", "id": "main"},
        {"status": "Pulling fs layer", "id": "a"},
        {"status": "Already exists", "id": "b"},
        {"status": "Downloading", "id": "a", "progressDetail": {"current": 50, "total": 200}},
    ]:
        progress.update(event)
    assert (progress.bytes_done, progress.bytes_total, progress.layers_done, len(progress.layers)) == (50, 200, 1, 2)
    progress.update({"status": "Pull complete", "id": "a"})
    assert (progress.bytes_done, progress.layers_done) == (200, 2)


def test_redact_hides_every_occurrence() -> None:
    assert redact("token abc and abc again", ["abc"]) == "token <authtoken> and <authtoken> again"


def test_no_gate_means_no_policy_and_rules_keep_their_order() -> None:
    assert traffic_policy(oauth=None, oauth_allow=(), cidrs=()) is None
    policy = traffic_policy(oauth="github", oauth_allow=("me@example.com",), cidrs=("10.0.0.0/8",))
    assert policy is not None
    assert policy.index("restrict-ips") < policy.index("oauth") < policy.index("deny")


def test_every_problem_is_in_the_troubleshooting_section() -> None:
    from owui_dev import problems

    defined = [value for value in vars(problems).values() if isinstance(value, problems.Problem)]
    listed = [problem for _, section in problems.SECTIONS for problem in section]
    assert sorted(map(id, defined)) == sorted(map(id, listed))
    assert all(problem.hint for problem in defined), "every problem says what to do"


def test_a_busy_default_port_gives_way_to_the_next_free_one(capsys: pytest.CaptureFixture[str]) -> None:
    """The default port's fallback, without touching the real 3000 (which anything on the machine may hold):
    the same choice `up` makes, with a port this test holds standing in for the default."""
    import dataclasses
    import json
    import socket

    from conftest import free_port

    from owui_dev import session
    from owui_dev.config import build_up_settings
    from owui_dev.console import JsonReporter
    from owui_dev.errors import PortInUseError

    default = build_up_settings(environ={})
    assert not default.port_explicit
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", free_port()))
        holder.listen()
        busy = holder.getsockname()[1]
        settings = dataclasses.replace(default, port=busy)
        chosen = session._choose_port(settings, None, JsonReporter())
        assert chosen != busy
        with socket.socket() as check:
            check.bind(("127.0.0.1", chosen))  # really free
        warnings = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert {"event": "warning", "message": f"Port {busy} is busy; using {chosen} instead."} in warnings

        explicit = dataclasses.replace(default, port=busy, port_explicit=True)
        with pytest.raises(PortInUseError):
            session._choose_port(explicit, None, JsonReporter())


@pytest.mark.parametrize(
    ("value", "off"), [("True", False), ("true", False), ("TRUE", False), ("False", True), ("true ", True), ("1", True)]
)
def test_accounts_are_off_exactly_when_open_webui_reads_them_off(value: str, off: bool) -> None:
    """Open WebUI: `os.environ.get("WEBUI_AUTH", "True").lower() == "true"`, no strip: "true " is off."""
    from owui_dev.openwebui import auth_disabled_by

    assert auth_disabled_by({"WEBUI_AUTH": value}) is off
    assert auth_disabled_by({}) is False


def test_a_private_file_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A write that fails halfway (or a process ended there) leaves the previous content, not an empty file."""
    import os

    from owui_dev.errors import OwuiDevError
    from owui_dev.state import write_private

    path = tmp_path / "secrets.json"
    write_private(path, "the kept secrets")
    monkeypatch.setattr(os, "fchmod", lambda *args: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OwuiDevError):
        write_private(path, "new secrets")
    assert path.read_text() == "the kept secrets"
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"], "no partial file left"
    monkeypatch.undo()
    write_private(path, "new secrets")
    assert path.read_text() == "new secrets"
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("body", "open_webui"),
    [
        ({"status": True, "name": "Open WebUI", "version": "0.12.4", "features": {"auth": True}}, True),
        ({}, False),  # any JSON object is not a description of Open WebUI
        ({"detail": "Not Found"}, False),  # FastAPI's error body
        ({"status": "ok", "version": "1.0"}, False),
        ([{"status": True}], False),
        (None, False),
    ],
    ids=["open-webui", "empty", "error", "other-status", "a-list", "not-json"],
)
def test_only_open_webuis_own_description_counts_as_one(body: object, open_webui: bool) -> None:
    """/api/config is both the readiness probe and what secures the instance: only Open WebUI's own answer, which
    opens with "status": true (main.py), may say that accounts are on."""
    from owui_dev.openwebui import PublicConfig

    assert (PublicConfig.parse(body) is not None) is open_webui
