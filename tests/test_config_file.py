"""The config file: defaults for `up` below the environment and the flags; every mistake names its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from owui_dev.cli import cli
from owui_dev.config import build_up_settings, default_config_path, load_config_file, merge_with_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_file_means_no_defaults() -> None:
    assert not default_config_path().exists()
    assert load_config_file() == {}


def test_file_values_fill_in_what_flags_do_not_set(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[up]\nport = 3333\nname = "demo"\nenv = { OLLAMA_BASE_URL = "http://host.docker.internal:11434", A = "1" }\n'
        'keep = true\nallow_cidr = ["10.0.0.0/8"]\nqr = "full"\nngrok_path = "/from/file/ngrok"\n',
    )
    merged = merge_with_file(load_config_file(path), {"name": "flag-name", "env": ["A=2"]})
    settings = build_up_settings(**merged, environ={})  # type: ignore[arg-type]
    assert settings.port == 3333
    assert settings.port_explicit is True
    assert settings.name == "flag-name", "flags win"
    assert dict(settings.environment) == {"OLLAMA_BASE_URL": "http://host.docker.internal:11434", "A": "2"}
    assert settings.keep is True
    assert settings.allow_cidr == ("10.0.0.0/8",)
    assert settings.qr_style.value == "full"
    assert settings.ngrok_path == "/from/file/ngrok"
    from_env = build_up_settings(**merged, environ={"NGROK_PATH": "/from/env/ngrok"})  # type: ignore[arg-type]
    assert from_env.ngrok_path == "/from/env/ngrok", "the environment outranks the file"


def test_the_default_location_is_read(isolated_home: Path) -> None:
    write(default_config_path(), "[up]\nvolume = 'my-data'\n")
    assert load_config_file() == {"volume": "my-data"}


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[up]\nport = 3000\nport 3001\n", ["is not valid TOML", "line 3"]),
        ("[up]\nname = 'x'\ncolour = 'blue'\n", ["line 3", "unknown setting 'colour'", "Known settings"]),
        ("[up]\n\nport = 'high'\n", ["line 3", "port must be a whole number"]),
        ("[upp]\nport = 1\n", ["line 1", "unknown section or setting 'upp'"]),
        ("[up]\nauthtoken = 'x'\n", ["unknown setting 'authtoken'", "NGROK_AUTHTOKEN"]),
        ("[up]\nkeep = 'yes'\n", ["line 2", "keep must be true or false"]),
    ],
)
def test_malformed_files_are_usage_errors_that_name_the_line(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = write(tmp_path / "bad.toml", text)
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert str(path) in result.output
    for needle in needles:
        assert needle in result.output
    assert "Traceback" not in result.output


def test_bad_values_from_the_file_are_validated_like_flags(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[up]\nport = 70000\n")
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2
    assert "out of range" in result.output


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    missing = CliRunner().invoke(cli, ["up", "--config", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    unreadable = CliRunner().invoke(cli, ["up", "--json"], env={"OWUI_DEV_CONFIG": str(tmp_path)})
    assert unreadable.exit_code == 2
    assert json.loads(unreadable.stderr)["error"] == "usage"


def test_up_takes_its_defaults_from_the_config_file(docker_client, names, fake_image, tls_env, up_processes) -> None:  # type: ignore[no-untyped-def]
    from conftest import TOKEN, UpProcess, cli_env, free_port
    from fake_ngrok.support import AGENT_PATH

    port = free_port()
    write(
        default_config_path(),
        f'[up]\nname = "{names.container}"\nvolume = "{names.volume}"\nimage = "{fake_image}"\npull = "never"\n'
        f'port = {port}\nngrok_path = "{AGENT_PATH}"\nenv = ["FROM_FILE=yes"]\n',
    )
    up = UpProcess(["--json"], cli_env(NGROK_AUTHTOKEN=TOKEN, **tls_env))
    up_processes.append(up)
    ready = up.wait_for_json()
    assert ready["container_name"] == names.container
    assert ready["local_url"] == f"http://127.0.0.1:{port}"
    assert "FROM_FILE=yes" in docker_client.containers.get(names.container).attrs["Config"]["Env"]
    assert up.interrupt() == 0
