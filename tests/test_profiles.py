"""Profiles and the settings cascade (default < file [up] < profile < environment < flag), `config show` and
`config path`, and shell completion run for real in bash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from owui_dev.cli import cli
from owui_dev.config import default_config_path

NOWHERE = {"DOCKER_HOST": "tcp://127.0.0.1:9"}  # had anything been attempted, the error would be about Docker
OWUI_DEV = Path(sys.executable).parent / "owui-dev"  # the installed entry point, as a shell finds it


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def show(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["config", "show", "--json", *args], env={**NOWHERE, **(env or {})})
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# -- precedence, table-driven: each setting given by every layer up to the one under test -----------------

LAYERS = ("default", "file", "profile", "environment", "flag")

# setting -> (default value, then per layer: how it is given, and the value `config show` must report)
# file/profile: the TOML text after `key = `; environment: (variable, value); flag: arguments.
PRECEDENCE: dict[str, dict[str, Any]] = {
    "port": {
        "default": 3000,
        "file": ("3001", 3001),
        "profile": ("3002", 3002),
        "environment": (("OWUI_DEV_PORT", "3003"), 3003),
        "flag": (["--port", "3004"], 3004),
    },
    "region": {
        "default": None,
        "file": ('"eu"', "eu"),
        "profile": ('"ap"', "ap"),
        "environment": (("OWUI_DEV_REGION", "au"), "au"),
        "flag": (["--region", "jp"], "jp"),
    },
    "keep": {
        "default": False,
        "file": ("true", True),
        "profile": ("false", False),
        "environment": (("OWUI_DEV_KEEP", "yes"), True),
        "flag": (["--keep"], True),
    },
    "ngrok_path": {  # NGROK_PATH, the variable of long standing, keeps its place
        "default": None,
        "file": ('"/file/ngrok"', "/file/ngrok"),
        "profile": ('"/profile/ngrok"', "/profile/ngrok"),
        "environment": (("NGROK_PATH", "/env/ngrok"), "/env/ngrok"),
        "flag": (["--ngrok-path", "/flag/ngrok"], "/flag/ngrok"),
    },
    "allow_cidr": {
        "default": [],
        "file": ('["10.0.0.0/8"]', ["10.0.0.0/8"]),
        "profile": ('["10.1.0.0/16"]', ["10.1.0.0/16"]),
        "environment": (("OWUI_DEV_ALLOW_CIDR", "10.2.0.0/16 10.3.0.0/16"), ["10.2.0.0/16", "10.3.0.0/16"]),
        "flag": (["--allow-cidr", "10.4.0.0/16"], ["10.4.0.0/16"]),
    },
    "env": {  # merges per key: B stays from the file whichever layer sets A
        "default": {},
        "file": ('{ A = "file", B = "b" }', {"A": "file", "B": "b"}),
        "profile": ('{ A = "profile" }', {"A": "profile", "B": "b"}),
        "environment": (("OWUI_DEV_ENV", "A=environment"), {"A": "environment", "B": "b"}),
        "flag": (["--env", "A=flag"], {"A": "flag", "B": "b"}),
    },
}

CASES = [(key, top) for key in PRECEDENCE for top in LAYERS]


def given_up_to(key: str, top: str, tmp_path: Path) -> tuple[list[str], dict[str, str], Path]:
    """The arguments and environment that set `key` in every layer up to `top` (and the file, with its lines)."""
    spec = PRECEDENCE[key]
    layers = LAYERS[: LAYERS.index(top) + 1]
    text = "# settings\n[up]\n" + (f"{key} = {spec['file'][0]}\n" if "file" in layers else "")
    text += "\n[profile.demo]\n" + (f"{key} = {spec['profile'][0]}\n" if "profile" in layers else "")
    path = write(tmp_path / "config.toml", text)
    args = ["--config", str(path), "--profile", "demo"]
    env: dict[str, str] = {}
    if "environment" in layers:
        variable, value = spec["environment"][0]
        env[variable] = value
    if "flag" in layers:
        args += spec["flag"][0]
    return args, env, path


@pytest.mark.parametrize(("key", "top"), CASES, ids=[f"{key}-{top}" for key, top in CASES])
def test_each_layer_outranks_the_ones_below(tmp_path: Path, key: str, top: str) -> None:
    args, env, path = given_up_to(key, top, tmp_path)
    row = show(args, env)["settings"][key]
    expected = PRECEDENCE[key]["default"] if top == "default" else PRECEDENCE[key][top][1]
    assert (row["value"], row["source"]) == (expected, top), row
    where = {
        "default": None,
        "file": f"{path}, line 3",
        "profile": f"{path}, line 6 [profile.demo]",
        "environment": next(iter(env), None),
        "flag": args[4] if len(args) > 4 else None,
    }[top]
    assert row["from"] == where, row


def test_the_same_cascade_in_a_real_process(tmp_path: Path) -> None:
    """One row end to end: a real `owui-dev config show` process reads a real environment."""
    args, env, _ = given_up_to("port", "environment", tmp_path)
    result = subprocess.run(
        [str(OWUI_DEV), "config", "show", "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **NOWHERE, **env},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["settings"]["port"] == {
        "value": 3003,
        "source": "environment",
        "from": "OWUI_DEV_PORT",
    }


def test_a_flag_replaces_a_lower_layers_qr_choice(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[up]\nno_qr = true\n[profile.big]\nqr = "full"\n')
    settings = show(["--config", str(path), "--profile", "big"])["settings"]
    assert (settings["qr"]["value"], settings["qr"]["source"]) == ("full", "profile")
    assert (settings["no_qr"]["value"], settings["no_qr"]["source"]) == (False, "default")
    settings = show(["--config", str(path)], {"OWUI_DEV_QR": "full"})["settings"]
    assert settings["qr"]["value"] == "full", "the environment's choice replaces the file's no_qr"


def test_without_a_profile_only_up_counts(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[up]\nport = 3001\n[profile.demo]\nport = 3002\n")
    data = show(["--config", str(path)])
    assert (data["profile"], data["settings"]["port"]["value"]) == (None, 3001)
    data = show(["--config", str(path)], {"OWUI_DEV_PROFILE": "demo"})
    assert (data["profile"], data["settings"]["port"]["value"]) == ("demo", 3002)


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("OWUI_DEV_PORT", "abc", "Invalid value for OWUI_DEV_PORT: 'abc' is not a valid integer"),
        ("OWUI_DEV_PORT", "0", "OWUI_DEV_PORT=0 is out of range"),
        ("OWUI_DEV_PULL", "sometimes", "Invalid value for OWUI_DEV_PULL"),
        ("OWUI_DEV_NAME", "bad name!", "OWUI_DEV_NAME"),
    ],
)
@pytest.mark.parametrize("command", [["up"], ["config", "show"], ["doctor"]])
def test_a_bad_value_from_the_environment_names_the_variable(
    command: list[str], variable: str, value: str, needle: str
) -> None:
    result = CliRunner().invoke(cli, command, env={**NOWHERE, variable: value})
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output


# -- the commands that act on `up`'s instance take its name from the same cascade --------------------------

# command -> how its output names the instance it looked for (nothing of that name exists)
INSTANCE_COMMANDS: dict[str, Any] = {
    "down": lambda result: json.loads(result.stdout)["name"],
    "status": lambda result: json.loads(result.stdout)["name"],
    "logs": lambda result: json.loads(result.stderr.strip())["message"].split("'")[1],
    "qr": lambda result: json.loads(result.stderr.strip())["message"].split("'")[1],
    "check": lambda result: json.loads(result.stderr.strip())["message"].split("'")[1],
}


# The default name only for `status` (read-only, and its answer names the instance whether it exists or not): the
# engine may run the developer's own owui-dev, which `down` must not stop and whose logs or `up` would answer.
INSTANCE_CASES = [
    (command, top) for command in INSTANCE_COMMANDS for top in LAYERS if top != "default" or command == "status"
]


@pytest.mark.parametrize(("command", "top"), INSTANCE_CASES, ids=[f"{c}-{t}" for c, t in INSTANCE_CASES])
def test_the_commands_on_ups_instance_find_it_by_ups_name(
    command: str, top: str, names: Any, tmp_path: Path, isolated_home: Path
) -> None:
    """A profile's or the file's `name` reaches `down`, `status`, `logs`, `qr` and `check` as it reaches `up`:
    each looks for the instance `up` would have made (the real engine; none of these names exists)."""
    given = {layer: f"{names.container}-{layer}" for layer in LAYERS}
    given["default"] = "owui-dev"
    layers = LAYERS[: LAYERS.index(top) + 1]
    path = write(tmp_path / "c.toml", f'[up]\nname = "{given["file"]}"\n[profile.demo]\nname = "{given["profile"]}"\n')
    args = ["--config", str(path)] if "file" in layers else []
    args += ["--profile", "demo"] if "profile" in layers else []
    env = {"OWUI_DEV_NAME": given["environment"]} if "environment" in layers else {}
    args += ["--name", given["flag"]] if "flag" in layers else []
    result = CliRunner().invoke(cli, [command, "--json", *args], env=env)
    assert result.exit_code in (0, 5, 13), result.output
    assert INSTANCE_COMMANDS[command](result) == given[top], result.output


@pytest.mark.parametrize("command", list(INSTANCE_COMMANDS))
def test_a_bad_name_for_ups_instance_is_refused_where_it_was_given(command: str, tmp_path: Path) -> None:
    """A name from the file or a profile is checked as `up` checks it, naming the line; one from the environment,
    naming the variable; and a config file that cannot be read stops the command too. Nothing reaches Docker."""
    path = write(tmp_path / "c.toml", '[up]\nname = "bad name!"\n[profile.p]\nname = "also bad!"\n')
    for args, env, needle in [
        (["--config", str(path)], {}, f'{path}, line 2: name = "bad name!" is not a valid container name'),
        (["--config", str(path), "--profile", "p"], {}, f'{path}, line 4 [profile.p]: name = "also bad!"'),
        ([], {"OWUI_DEV_NAME": "bad name!"}, "Invalid value for OWUI_DEV_NAME"),
        (["--config", str(path), "--profile", "nope"], {}, "unknown profile 'nope'"),
    ]:
        result = CliRunner().invoke(cli, [command, *args], env={**NOWHERE, **env})
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_qr_takes_its_style_and_call_from_the_layers_checked_there(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '[up]\nname = "nothing-here"\n\nqr = "huge"\n')
    result = CliRunner().invoke(cli, ["qr", "--config", str(path)], env=NOWHERE)
    assert result.exit_code == 2, result.output
    assert f'{path}, line 4: qr = "huge" is not one of half, full' in result.output
    for variable, value in [("OWUI_DEV_QR", "huge"), ("OWUI_DEV_CALL", "maybe")]:
        result = CliRunner().invoke(cli, ["qr", "--name", "nothing-here"], env={**NOWHERE, variable: value})
        assert result.exit_code == 2, result.output
        assert f"Invalid value for {variable}" in result.output


def test_a_setting_those_commands_do_not_share_does_not_stop_them(tmp_path: Path) -> None:
    """`down` is the way out: a `port` or `image` that `up` would refuse is not its business (it goes on to the
    engine, here one that does not answer)."""
    path = write(tmp_path / "c.toml", '[up]\nname = "nothing-here"\nport = 0\nimage = "NOT AN IMAGE"\n')
    result = CliRunner().invoke(cli, ["down", "--json", "--config", str(path)], env=NOWHERE)
    error = json.loads(result.stderr.strip())
    assert (result.exit_code, error["error"]) == (3, "docker-unavailable"), result.output


def test_an_instance_command_is_refused_when_built_without_its_rules() -> None:
    """InstanceCommand's rules, caught where a command is declared: the callback checks the shared settings
    (shares_up_settings), a setting of the file is a setting_option, and a shared one that is no flag has a check."""
    import click

    from owui_dev.sources import InstanceCommand, LayeredOption, shares_up_settings

    def callback(**options: object) -> None:
        """Does nothing."""

    checked = shares_up_settings(callback)
    with pytest.raises(TypeError, match="wrap the command in @shares_up_settings"):
        InstanceCommand("status", callback=callback)
    with pytest.raises(TypeError, match="the file's setting 'model' needs setting_option"):
        InstanceCommand("check", callback=checked, params=[click.Option(["--model"])])
    with pytest.raises(TypeError, match="give the shared setting 'image' a check"):
        InstanceCommand("status", callback=checked, params=[LayeredOption(["--image"])])
    command = InstanceCommand("qr", callback=checked, params=[LayeredOption(["--name"]), click.Option(["--png"])])
    assert [param.envvar for param in command.params] == ["OWUI_DEV_NAME", None], "its own options stay its own"


# -- secrets ----------------------------------------------------------------------------------------------

TOKEN = "2abcSECRETtokenNOTreal_4567890abcdef"
PASSWORD = "correct-horse-battery"
API_KEY = "sk-secret-value-123"


@pytest.mark.parametrize("json_output", [True, False])
def test_secrets_are_masked(tmp_path: Path, json_output: bool) -> None:
    path = write(
        tmp_path / "c.toml", f'[up]\nenv = {{ OPENAI_API_KEY = "{API_KEY}", OLLAMA_BASE_URL = "http://o:1" }}\n'
    )
    args = ["config", "show", "--config", str(path), "--admin-password", PASSWORD, *(["--json"] if json_output else [])]
    result = CliRunner().invoke(cli, args, env={"NGROK_AUTHTOKEN": TOKEN, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for secret in (TOKEN, PASSWORD, API_KEY):
        assert secret not in result.output
    assert "http://o:1" in result.output, "what is not secret is shown"
    assert "NGROK_AUTHTOKEN" in result.output, "where the token came from is shown"
    if json_output:
        settings = json.loads(result.stdout)["settings"]
        assert settings["authtoken"] == {"value": "********", "source": "environment", "from": "NGROK_AUTHTOKEN"}
        assert settings["admin_password"]["value"] == "********"
        assert settings["env"]["value"]["OPENAI_API_KEY"] == "********"


# -- unknown profiles, and a profile's mistakes name the file and the line ---------------------------------


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_an_unknown_profile_is_a_usage_error_listing_the_known_ones(tmp_path: Path, how: str) -> None:
    path = write(tmp_path / "c.toml", "[up]\nport = 3001\n[profile.demo]\nport = 1\n[profile.talk]\nkeep = true\n")
    args, env = ["up", "--config", str(path), "--json"], dict(NOWHERE)
    if how == "flag":
        args += ["--profile", "dmeo"]
    else:
        env["OWUI_DEV_PROFILE"] = "dmeo"
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2, result.output
    event = json.loads(result.stderr.strip())
    assert event["error"] == "usage"
    assert "unknown profile 'dmeo'" in event["message"]
    assert ("--profile dmeo" if how == "flag" else "OWUI_DEV_PROFILE=dmeo") in event["message"]
    assert event["hint"] == "Profiles there: demo, talk."


def test_a_profile_without_a_config_file(isolated_home: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "show", "--profile", "demo"], env=NOWHERE)
    assert result.exit_code == 2, result.output
    assert f"there is no config file ({default_config_path()})" in result.output
    assert "[profile.NAME]" in result.output


@pytest.mark.parametrize("command", [["up"], ["config", "show"], ["doctor"]])
@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[profile.demo]\n\nport = 0\n", ["line 7 [profile.demo]: port = 0 is out of range"]),
        ("[profile.demo]\nregion = 'mars'\n", ['line 6 [profile.demo]: region = "mars" is not an ngrok region']),
        ("[profile.demo]\ncolour = 'blue'\n", ["line 6: unknown setting 'colour' in [profile.demo]"]),
        ("[profile.demo]\nkeep = 'yes'\n", ["line 6: keep must be true or false"]),
        ("[profile.demo.env]\n1BAD = 'x'\n", ["line 5 [profile.demo]: ", "is not KEY=VALUE"]),
        ("[profile]\ndemo = 3\n", ["line 6: profile.demo must be a section ([profile.demo])"]),
    ],
)
def test_a_bad_profile_names_the_file_and_the_line(
    tmp_path: Path, command: list[str], text: str, needles: list[str]
) -> None:
    path = write(tmp_path / "c.toml", f"# mine\n[up]\nport = 3001\n\n{text}")
    result = CliRunner().invoke(cli, [*command, "--config", str(path), "--profile", "demo"], env=NOWHERE)
    assert result.exit_code == 2, result.output
    for needle in needles:
        assert f"{path}, {needle}" in result.output or needle in result.output, result.output
    assert str(path) in result.output
    assert "Traceback" not in result.output


def test_every_bad_value_is_refused_in_a_profile_too(tmp_path: Path) -> None:
    """The profile's keys are [up]'s keys, checked the same way: each case of the [up] table, in a profile."""
    from test_config_file import BAD_VALUES

    for key, value in BAD_VALUES:
        text = f"[up]\n[profile.p]\n\n{key} = {value.replace('{tmp}', json.dumps(str(tmp_path)))}\n"
        path = write(tmp_path / "c.toml", text)
        result = CliRunner().invoke(cli, ["up", "--config", str(path), "--profile", "p", "--json"], env=NOWHERE)
        assert result.exit_code == 2, (key, value, result.output)
        assert f"{path}, line 4" in json.loads(result.stderr.strip())["message"], (key, value, result.stderr)


def test_an_unused_profiles_values_are_not_checked_but_its_shape_is(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[up]\nport = 3001\n[profile.other]\nport = 0\n")
    assert show(["--config", str(path)])["settings"]["port"]["value"] == 3001
    path.write_text("[up]\nport = 3001\n[profile.other]\nprot = 1\n")
    result = CliRunner().invoke(cli, ["config", "show", "--config", str(path)], env=NOWHERE)
    assert result.exit_code == 2, result.output
    assert "unknown setting 'prot' in [profile.other]" in result.output


# -- config path ------------------------------------------------------------------------------------------


def test_config_path_says_which_file_and_whether_it_exists(tmp_path: Path) -> None:
    default = CliRunner().invoke(cli, ["config", "path", "--json"])
    assert json.loads(default.stdout) == {"path": str(default_config_path()), "exists": False, "from": "default"}
    mine = write(tmp_path / "mine.toml", "[up]\n")
    from_env = CliRunner().invoke(cli, ["config", "path", "--json"], env={"OWUI_DEV_CONFIG": str(mine)})
    assert json.loads(from_env.stdout) == {"path": str(mine), "exists": True, "from": "OWUI_DEV_CONFIG"}
    flag = CliRunner().invoke(cli, ["config", "path", "--config", str(tmp_path / "no.toml")])
    assert str(tmp_path / "no.toml") in flag.stdout
    assert "from --config; does not exist" in flag.stdout


# -- shell completion -------------------------------------------------------------------------------------


def bash_complete(words: list[str], env: dict[str, str] | None = None) -> list[str]:
    """What bash offers after `words` (the last one being completed), through the script `completion bash` prints."""
    script = subprocess.run(
        [str(OWUI_DEV), "completion", "bash"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    program = (
        f"{script}\n"
        f"COMP_WORDS=({' '.join(_quote(word) for word in words)}); COMP_CWORD={len(words) - 1}\n"
        '_owui_dev_completion owui-dev\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    path = f"{OWUI_DEV.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "--norc", "-c", program],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": path, **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def test_bash_completion_offers_the_commands_and_ups_options(tmp_path: Path) -> None:
    commands = bash_complete(["owui-dev", ""])
    assert {"up", "down", "status", "logs", "doctor", "qr", "check", "config", "completion"} <= set(commands)
    options = bash_complete(["owui-dev", "up", "--p"])
    assert {"--port", "--pull", "--profile", "--present"} <= set(options), options
    assert "--name" not in options, "only what starts with --p"
    assert set(bash_complete(["owui-dev", "config", ""])) == {"show", "path"}
    path = write(tmp_path / "c.toml", "[up]\n[profile.demo]\n[profile.talk]\n")
    assert bash_complete(["owui-dev", "up", "--profile", ""], {"OWUI_DEV_CONFIG": str(path)}) == ["demo", "talk"]


@pytest.mark.parametrize(
    ("shell", "needle"), [("zsh", "#compdef owui-dev"), ("fish", "_OWUI_DEV_COMPLETE=fish_complete")]
)
def test_zsh_and_fish_scripts(shell: str, needle: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0, result.output
    assert needle in result.stdout


# -- end to end: what `config show` says is what `up` does ---------------------------------------------------


def test_up_runs_with_the_layers_config_show_reports(docker_client, names, fake_image, tls_env, up_processes) -> None:  # type: ignore[no-untyped-def]
    from conftest import TOKEN, UpProcess, cli_env, free_port
    from fake_ngrok.support import AGENT_PATH

    file_port, profile_port, env_port, flag_port = (free_port() for _ in range(4))
    write(
        default_config_path(),
        f'[up]\nname = "{names.container}"\nvolume = "{names.volume}"\nimage = "{fake_image}"\npull = "never"\n'
        f'ngrok_path = "{AGENT_PATH}"\nport = {file_port}\nenv = {{ FROM = "file", UP_ONLY = "1" }}\n'
        f'\n[profile.demo]\nport = {profile_port}\nenv = {{ FROM = "profile" }}\n',
    )
    env = cli_env(NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_PROFILE="demo", OWUI_DEV_PORT=str(env_port), **tls_env)
    shown = subprocess.run(
        [str(OWUI_DEV), "config", "show", "--json", "--port", str(flag_port)],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    settings = json.loads(shown.stdout)["settings"]
    assert (settings["port"]["value"], settings["port"]["source"]) == (flag_port, "flag")
    assert settings["env"]["value"] == {"FROM": "profile", "UP_ONLY": "1"}

    up = UpProcess(["--json", "--port", str(flag_port)], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    assert ready["container_name"] == names.container == settings["name"]["value"]
    assert ready["local_url"] == f"http://127.0.0.1:{flag_port}", "the flag outranks the environment and the rest"
    container_env = docker_client.containers.get(names.container).attrs["Config"]["Env"]
    assert "FROM=profile" in container_env, "the profile outranks [up]"
    assert "UP_ONLY=1" in container_env, "env merges per key across the layers"
    assert up.interrupt() == 0


def test_a_setting_declared_without_setting_option_is_refused_when_the_command_is_built() -> None:
    """A plain click.Option on a settings command would skip the layers (no file line in its errors, no
    OWUI_DEV_ variable, no source in `config show`): caught where the command is declared."""
    import click

    from owui_dev.sources import SettingsCommand, setting_option

    with pytest.raises(TypeError, match="declare the setting 'port' with setting_option"):
        SettingsCommand("up", params=[click.Option(["--port"], type=int)])
    command = click.command("up", cls=SettingsCommand)(setting_option("--port", type=int)(lambda port: None))
    assert command.params[0].envvar == "OWUI_DEV_PORT"
