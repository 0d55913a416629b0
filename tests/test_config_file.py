"""The config file: defaults for `up` below the environment and the flags; every mistake names its line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from owui_dev.cli import cli
from owui_dev.config import UpSettings, build_up_settings, default_config_path, load_config_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def settings_from(args: list[str]) -> UpSettings:
    """The settings `up` would run with for these arguments: click's cascade over the file, as `up` reads it."""
    from owui_dev.cli import up
    from owui_dev.sources import resolve

    with up.make_context("up", list(args)) as ctx:
        return build_up_settings(**resolve(ctx, up).arguments(), environ={})


def test_no_file_means_no_defaults() -> None:
    assert not default_config_path().exists()
    assert load_config_file().values == {}


def test_file_values_fill_in_what_flags_do_not_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(
        tmp_path / "c.toml",
        '[up]\nport = 3333\nname = "demo"\nenv = { OLLAMA_BASE_URL = "http://host.docker.internal:11434", A = "1" }\n'
        'keep = true\nallow_cidr = ["10.0.0.0/8"]\nqr = "full"\nngrok_path = "/from/file/ngrok"\n',
    )
    args = ["--config", str(path), "--name", "flag-name", "--env", "A=2"]
    settings = settings_from(args)
    assert settings.port == 3333
    assert settings.port_explicit is True
    assert settings.name == "flag-name", "flags win"
    assert dict(settings.environment) == {"OLLAMA_BASE_URL": "http://host.docker.internal:11434", "A": "2"}
    assert settings.keep is True
    assert settings.allow_cidr == ("10.0.0.0/8",)
    assert settings.qr_style.value == "full"
    assert settings.ngrok_path == "/from/file/ngrok"
    monkeypatch.setenv("NGROK_PATH", "/from/env/ngrok")
    from_env = settings_from(args)
    assert from_env.ngrok_path == "/from/env/ngrok", "the environment outranks the file"


def test_the_default_location_is_read(isolated_home: Path) -> None:
    write(default_config_path(), "[up]\nvolume = 'my-data'\n")
    assert load_config_file().values == {"volume": "my-data"}


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


# -- every setting of the file is checked like its flag, and a mistake names the file and the line --------

# key -> a value of the right TOML type that the same flag would refuse (a text TOML line, after `key = `)
BAD_VALUES: list[tuple[str, str]] = [
    ("name", '"bad name!"'),
    ("image", '"Not A Valid:Image"'),
    ("pull", '"sometimes"'),
    ("port", "0"),
    ("port", "70000"),
    ("volume", '"-vol"'),
    ("env", '["NOEQUALS"]'),
    ("env", '{ "1BAD" = "x" }'),
    ("timeout", "0"),
    ("timeout", "-5"),
    ("timeout", "nan"),
    ("timeout", "inf"),
    ("ngrok_path", "{tmp}"),  # a folder: what --ngrok-path (click.Path(dir_okay=False)) refuses too
    ("domain", '"not a domain"'),
    ("region", '"mars"'),
    ("qr", '"huge"'),
    ("admin_email", '"nobody"'),
    ("oauth", '"facebook"'),
    ("oauth_allow", '["not an address"]'),
    ("allow_cidr", '["999.1.1.1/8"]'),
    # the right shape, the wrong type (also inside lists and the env table)
    ("no_qr", '"yes"'),
    ("keep", "1"),
    ("restart", '"true"'),
    ("env", "{ PORT = 8080 }"),
    ("env", "[1]"),
    ("oauth_allow", "[1]"),
    ("oauth_allow", '"you@example.com"'),
    ("allow_cidr", '["10.0.0.0/8", 7]'),
    ("port", '"3000"'),
    ("timeout", "true"),
    ("call", '"yes"'),
    ("model", '"two words"'),
    ("open", "1"),
    ("no_ollama_detect", '"true"'),
    ("check_voice", "[true]"),
    ("guest", '"yes"'),
    ("guest_email", '"nobody"'),
    ("keep_guest", "1"),
    ("present", '"true"'),
    ("gpu", '"yes"'),
    ("bundled_ollama", "1"),
    ("version", '"0.6"'),
    ("version", "0.6"),
]


def test_every_file_key_has_a_bad_value_case() -> None:
    from owui_dev.setting_names import FILE_KEYS

    assert {key for key, _ in BAD_VALUES} == set(FILE_KEYS)


@pytest.mark.parametrize("command", ["up", "doctor"])
@pytest.mark.parametrize(("key", "value"), BAD_VALUES, ids=[f"{k}={v}" for k, v in BAD_VALUES])
def test_a_bad_value_in_the_file_is_a_usage_error_naming_the_file_and_line(
    tmp_path: Path, command: str, key: str, value: str
) -> None:
    # A comment and blank lines first, so the line number is not trivially 2.
    path = write(
        tmp_path / "c.toml",
        f"# mine\n\n[up]\n\n{key} = {value.replace('{tmp}', json.dumps(str(tmp_path)))}\n",
    )
    result = CliRunner().invoke(
        cli, [command, "--config", str(path), "--json"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"}
    )
    assert result.exit_code == 2, result.output
    event = json.loads(result.stderr.strip())
    assert event["error"] == "usage"
    assert f"{path}, line 5" in event["message"], event
    flag = "--" + {"qr": "qr"}.get(key, key).replace("_", "-")
    assert flag not in event["message"], f"a file value is named as the file's, not as {flag}: {event}"
    assert "Traceback" not in result.output


def test_conflicting_settings_in_the_file_name_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[up]\nqr = "full"\nno_qr = true\n')
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert f"no_qr ({path}, line 3)" in result.output
    assert f"qr ({path}, line 2)" in result.output
    assert "contradict" in result.output


def test_a_flag_replaces_the_files_qr_choice_instead_of_contradicting_it(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[up]\nno_qr = true\n")
    settings = settings_from(["--config", str(path), "--qr", "full"])
    assert settings.qr_style.value == "full"
    path.write_text('[up]\nqr = "full"\n')
    settings = settings_from(["--config", str(path), "--no-qr"])
    assert settings.qr_style.value == "none"


def test_oauth_allow_in_the_file_without_a_provider_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[up]\noauth_allow = ["you@example.com"]\n')
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert f"oauth_allow ({path}, line 2)" in result.output
    with_flag = CliRunner().invoke(
        cli, ["up", "--config", str(path), "--oauth", "google", "--json"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"}
    )
    assert json.loads(with_flag.stderr.splitlines()[-1])["error"] == "docker-unavailable", "valid once combined"


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'[up]\nport = 3001\nname = "caf\xe9"\n')  # Latin-1, as an old editor saves it
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert f"{path}, line 3" in result.output
    assert "not UTF-8" in result.output


def test_up_that_is_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "up = 3\n")
    result = CliRunner().invoke(cli, ["up", "--config", str(path)], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert f"{path}, line 1" in result.output


def test_the_line_is_found_in_the_up_section_only(tmp_path: Path) -> None:
    from owui_dev.config import _line_of

    text = '# port = 1\n[other]\nport = 2\n[up]\nname = "x"\n"port" = 0\n[up.env]\nA = "1"\n'
    assert _line_of(text, "port") == 6
    assert _line_of(text, "env") == 7
    assert _line_of(text, "other", section="") == 2


def test_values_from_the_file_equal_those_of_the_flags(tmp_path: Path) -> None:
    """The file is a second way to give the same flags: the same valid values give the same settings."""
    path = write(
        tmp_path / "c.toml",
        '[up]\nregion = "eu"\ntimeout = 30\npull = "always"\noauth = "github"\noauth_allow = ["Team.Example.org"]\n'
        'domain = "https://me.ngrok-free.app/"\nenv = { A = "1" }\n',
    )
    from_file = settings_from(["--config", str(path)])
    from_flags = build_up_settings(
        region="eu", timeout=30, pull="always", oauth="github", oauth_allow=["Team.Example.org"],
        domain="https://me.ngrok-free.app/", env=["A=1"], environ={},
    )  # fmt: skip
    assert from_file == from_flags
