"""owui-dev's own folders (its state, ngrok's config) when they cannot be used: a clear error naming the path
and why, exit 12, before anything is started; reading commands never create them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import agent_records, run_cli

from owui_dev.cli import cli
from owui_dev.errors import StorageError


@pytest.fixture
def state_is_a_file(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_STATE_HOME points at a regular file: every folder under it is impossible (ENOTDIR, even for root)."""
    blocker = isolated_home / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    return blocker


def test_up_with_the_state_folder_unusable_says_which_path_and_why(state_is_a_file: Path) -> None:
    result = CliRunner().invoke(cli, ["up", "--json"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == StorageError.exit_code == 12, result.output
    event = json.loads(result.stderr.strip().splitlines()[-1])
    assert event["error"] == "storage"
    assert f"{state_is_a_file}/owui-dev/runs" in event["message"]
    assert f"{state_is_a_file} is a file, not a folder" in event["message"]
    assert "XDG_STATE_HOME" in event["hint"]
    assert "Docker" not in result.stderr, "refused before even asking Docker"


def test_a_read_only_state_folder_is_refused_without_capabilities(tmp_path: Path) -> None:
    # Root ignores file modes; without capabilities (as in the Docker-socket permission test) it meets them.
    state = tmp_path / "state"
    state.mkdir(mode=0o500)
    result = subprocess.run(
        ["setpriv", "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-m", "owui_dev", "up"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**_plain_env(), "XDG_STATE_HOME": str(state), "DOCKER_HOST": "tcp://127.0.0.1:9"},
    )  # fmt: skip
    assert result.returncode == 12, result.stderr
    assert f"permission denied: {state} is not writable for you" in result.stderr
    assert "XDG_STATE_HOME" in result.stderr
    assert "Unexpected error" not in result.stderr


def _plain_env() -> dict[str, str]:
    from conftest import cli_env

    return cli_env()


def test_reading_the_run_record_creates_nothing_and_tolerates_an_unusable_folder(
    isolated_home: Path, state_is_a_file: Path
) -> None:
    from owui_dev.instance import forget
    from owui_dev.state import read_run_record

    assert read_run_record("owui-dev") is None
    assert forget("owui-dev-data") is False, "nothing can be stored under a file: nothing to forget"


def test_status_reads_without_creating_the_state_folder(isolated_home: Path) -> None:
    from owui_dev.state import read_run_record, state_dir

    assert read_run_record("owui-dev") is None
    assert not state_dir().exists(), "a read-only command writes nothing"


def test_saving_the_authtoken_where_ngroks_config_cannot_be(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from owui_dev.tunnel import save_authtoken

    blocker = isolated_home / "config-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    with pytest.raises(StorageError) as caught:
        save_authtoken("2abcTESTtoken")
    assert f"{blocker}/ngrok/ngrok.yml" in caught.value.message
    assert f"{blocker} is a file, not a folder" in caught.value.message
    assert "XDG_CONFIG_HOME" in (caught.value.hint or "")
    assert "NGROK_AUTHTOKEN" in (caught.value.hint or "")


@pytest.mark.docker
@pytest.mark.e2e
@pytest.mark.parametrize("blocked", ["owui-dev", "owui-dev/instances"])
def test_up_starts_nothing_when_its_state_cannot_be_written(docker_client, names, args, env, tmp_path, blocked) -> None:  # type: ignore[no-untyped-def]
    # "owui-dev": no run lock can be taken (the first step). "owui-dev/instances": the lock works, but the
    # instance's sign-in cannot be kept, which is found in preflight, still before the container starts.
    state = tmp_path / "state"
    (state / blocked).parent.mkdir(parents=True, exist_ok=True)
    (state / blocked).write_text("")
    result = run_cli("up", *args, env={**env, "XDG_STATE_HOME": str(state)})
    assert result.returncode == 12, result.stderr
    assert f"{state / blocked} is a file, not a folder" in result.stderr
    assert "XDG_STATE_HOME" in result.stderr
    assert not docker_client.containers.list(all=True, filters={"name": names.container})
    assert not agent_records(env), "no ngrok agent was started"


@pytest.mark.docker
def test_down_with_the_state_folder_unusable_still_stops_what_it_can(
    docker_client, names, state_is_a_file: Path
) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["down", "--name", names.container, "--json"])
    assert result.exit_code == 0, result.output
    assert "nothing to do" in json.loads(result.stdout)["actions"][0]
    assert state_is_a_file.is_file()


def test_instance_secrets_written_by_a_newer_owui_dev_are_still_read(isolated_home: Path) -> None:
    """A key this version does not know (a newer owui-dev wrote it) must not make the kept sign-in and secret key
    unreadable: `up` would then make new ones, and sign everyone out."""
    from owui_dev import instance

    kept, fresh = instance.load_or_create("some-volume", email=None, password=None)
    assert fresh
    path = instance.save(kept)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "a_later_field": {"x": 1}}))
    again = instance.load("some-volume")
    assert again is not None
    assert (again.admin_password, again.secret_key) == (kept.admin_password, kept.secret_key)
