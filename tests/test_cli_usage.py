"""The CLI's wiring, in-process and as a subprocess: help, version, usage errors before any side effect."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from owui_dev import __version__
from owui_dev.cli import cli
from owui_dev.config import build_up_settings
from owui_dev.errors import EXIT_CODES, UsageError

HEAVY = ("docker", "pyngrok", "qrcode", "rich", "requests")


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["up", "--help"]])
def test_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    # The whole process as a user runs it (`python -m owui_dev`, one command per process), and Python's own
    # list of everything it imported (-X importtime), so an import anywhere on the way counts.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "owui_dev", *args], capture_output=True, text=True, check=True
    )
    assert "owui-dev" in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    modules = {line.rsplit("|", 1)[1].strip() for line in lines}
    imported = {module.split(".")[0] for module in modules}
    assert "click" in imported  # the probe sees imports at all
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    # Nor owui-dev's settings machinery (its records and checks), nor what it knows of Open WebUI: the commands
    # are declared with the names in owui_dev.setting_names alone.
    assert "owui_dev.setting_names" in modules
    assert not modules & {"owui_dev.config", "owui_dev.openwebui"}, sorted(
        modules & {"owui_dev.config", "owui_dev.openwebui"}
    )


def test_the_garbage_collector_is_paused_for_start_up_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() pauses it while the command imports what it needs (owui_dev.startup); whichever way the command
    ends, and once a long-running command says so, it collects again."""
    import gc

    from owui_dev import cli as cli_module
    from owui_dev.startup import pause_collector, start_up_over

    seen: list[bool] = []
    monkeypatch.setattr(cli_module, "cli", lambda **_: seen.append(gc.isenabled()) or sys.exit(0))
    with pytest.raises(SystemExit):
        cli_module.main()
    assert seen == [False], "paused while the command ran"
    assert gc.isenabled(), "back once it ended"

    gc.unfreeze()
    try:
        pause_collector()
        assert not gc.isenabled()
        start_up_over()
        start_up_over()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0, "what start-up made is kept out of later collections"
    finally:
        gc.enable()
        gc.unfreeze()


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_lists_every_command_and_the_exit_codes() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "down", "status", "logs"):
        assert f"  {command} " in result.output
    for code, text in EXIT_CODES.items():
        assert f"{code:>3}  {text}" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--port", "abc"], "'abc' is not a valid integer"),
        (["--port", "70000"], "out of range"),
        (["--port", "0"], "out of range"),
        (["--env", "NOEQUALS"], "is not KEY=VALUE"),
        (["--env", "1BAD=x"], "is not KEY=VALUE"),
        (["--name", "bad name!"], "is not a valid container name"),
        (["--volume", "-vol"], "is not a valid volume name"),
        (["--image", "Not A Valid:Image"], "is not an image reference"),
        (["--timeout", "0"], "must be more than 0"),
        (["--pull", "sometimes"], "Invalid value for '--pull'"),
        (["--domain", "not a domain"], "is not a host name"),
    ],
)
def test_bad_input_is_a_usage_error_before_any_side_effect(args: list[str], needle: str) -> None:
    # DOCKER_HOST points nowhere: had anything been attempted, the error would be about Docker.
    result = CliRunner().invoke(cli, ["up", *args], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output
    assert "Docker engine" not in result.output


def test_usage_error_in_json_mode_is_one_json_line_on_stderr() -> None:
    result = CliRunner().invoke(cli, ["up", "--json", "--env", "oops"], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2
    assert result.stdout == ""
    event = json.loads(result.stderr.strip())
    assert event["event"] == "error"
    assert event["error"] == "usage"
    assert event["exit_code"] == 2


def test_settings_precedence_flags_over_environment() -> None:
    environ = {"NGROK_PATH": "/env/ngrok", "NGROK_AUTHTOKEN": "2envTOKENnotREAL_abcdefghijklmnopq"}
    from_env = build_up_settings(environ=environ)
    assert from_env.ngrok_path == "/env/ngrok"
    assert from_env.ngrok_path_source == "NGROK_PATH"
    assert from_env.authtoken is not None
    assert from_env.authtoken.source == "NGROK_AUTHTOKEN"
    flag_token = "2flagTOKENnotREAL_abcdefghijklmnop"
    from_flags = build_up_settings(ngrok_path="/flag/ngrok", authtoken=flag_token, environ=environ)
    assert from_flags.ngrok_path == "/flag/ngrok"
    assert from_flags.authtoken is not None
    assert from_flags.authtoken.value == flag_token


def test_secrets_never_show_in_repr() -> None:
    settings = build_up_settings(authtoken="s3cr3tTOKENvalue_abcdefghijklmnopq", environ={})
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in str(settings.authtoken)


def test_default_port_is_not_explicit_and_explicit_port_is() -> None:
    assert build_up_settings(environ={}).port_explicit is False
    explicit = build_up_settings(port=3000, environ={})
    assert explicit.port_explicit is True
    assert explicit.port == 3000


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/open-webui/open-webui:main",
        "ghcr.io/open-webui/open-webui:v0.6.5-cuda",
        "open-webui",
        "localhost:5000/x/y:tag",
        "127.0.0.1:5000/owui-dev-test/fake:abc123",
        "ghcr.io/open-webui/open-webui@sha256:" + "a" * 64,
    ],
)
def test_valid_image_references_are_accepted(image: str) -> None:
    assert build_up_settings(image=image, environ={}).image == image


def test_env_pairs_keep_equals_signs_in_values() -> None:
    settings = build_up_settings(env=["A=b=c", "EMPTY="], environ={})
    assert dict(settings.environment) == {"A": "b=c", "EMPTY": ""}


def test_usage_error_class_maps_to_exit_2() -> None:
    assert UsageError("x").exit_code == 2


def test_readme_exit_code_table_matches_the_code() -> None:
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for code, text in EXIT_CODES.items():
        assert f"| {code} | {text} |" in readme, f"README's exit-code row for {code} is out of date"


def test_readme_troubleshooting_is_generated_from_the_messages_the_code_raises() -> None:
    from pathlib import Path

    from owui_dev.problems import troubleshooting_markdown

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert troubleshooting_markdown() in readme, "run scripts/update-readme"


# -- with --json, click's own usage errors are JSON too ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["up", "--port", "abc", "--json"], "'abc' is not a valid integer"),  # --json after the bad option
        (["up", "--json", "--name", "bad name!"], "is not a valid container name"),
        (["up", "--json", "--no-such-option"], "No such option"),
        (["up", "--pull", "sometimes", "--json"], "Invalid value for '--pull'"),
        (["up", "--json", "--port"], "requires an argument"),
        (["logs", "--json", "--tail", "-3"], "Invalid value for '--tail'"),
        (["down", "--json", "--name", "-"], "is not a valid container name"),
        (["nope", "--json"], "No such command"),
    ],
)
def test_click_usage_errors_are_json_with_json(args: list[str], needle: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "owui_dev", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DOCKER_HOST": "tcp://127.0.0.1:9"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    event = json.loads(lines[0])
    assert set(event) == {"event", "error", "message", "hint", "details", "exit_code"}
    assert (event["event"], event["error"], event["exit_code"]) == ("error", "usage", 2)
    assert needle in event["message"]
    assert "help" in event["hint"]
    # The same fields as every other error of owui-dev:
    assert set(event) - {"event"} == set(UsageError("x").as_dict())


def test_without_json_usage_errors_keep_clicks_text() -> None:
    result = CliRunner().invoke(cli, ["up", "--port", "abc"])
    assert result.exit_code == 2
    assert "Usage: " in result.stderr
    assert "Error: Invalid value for '--port'" in result.stderr
    assert "{" not in result.stderr
    after_dashes = CliRunner().invoke(cli, ["up", "--port", "abc", "--", "--json"])
    assert "Usage: " in after_dashes.stderr, "a --json after -- is an argument, not the option"


# -- everything that can be checked is checked before the first side effect ---------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--region", "mars"], "Invalid value for '--region'"),
        (["--region", "EU"], "Invalid value for '--region'"),
        (["--timeout", "nan"], "--timeout nan is not a number of seconds"),
        (["--timeout", "inf"], "--timeout inf is not a number of seconds"),
        (["--timeout", "-1"], "--timeout -1 must be more than 0"),
        (["--no-qr", "--qr", "full"], "--no-qr and --qr contradict each other"),
        (["--qr-png", "{file}/qr.png"], "is a file, not a folder"),
        (["--qr-png", "{file}/deeper/qr.png"], "is a file, not a folder"),
        (["--qr-png", "{tmp}"], "is a directory"),
        (["--oauth-allow", "you@example.com"], "--oauth-allow needs an OAuth provider (--oauth)"),
    ],
)
def test_inputs_checked_before_anything_starts(tmp_path, args: list[str], needle: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "file").write_text("")
    args = [a.replace("{file}", str(tmp_path / "file")).replace("{tmp}", str(tmp_path)) for a in args]
    # DOCKER_HOST points nowhere: had anything been attempted, the error would be about Docker.
    result = CliRunner().invoke(cli, ["up", *args], env={"DOCKER_HOST": "tcp://127.0.0.1:9"})
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Docker engine" not in result.output


def test_valid_regions_and_a_creatable_png_folder_pass(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from owui_dev.setting_names import NGROK_REGIONS

    assert NGROK_REGIONS == ("us", "us-cal-1", "eu", "ap", "au", "sa", "jp", "in")  # ngrok's documented list
    for region in NGROK_REGIONS:
        assert build_up_settings(region=region, environ={}).region == region
    png = tmp_path / "not" / "yet" / "qr.png"
    assert build_up_settings(qr_png=png, environ={}).qr_png == png
    assert not (tmp_path / "not").exists(), "checking creates nothing"


def test_down_yes_without_purge_warns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The warning comes before Docker is asked anything (DOCKER_HOST points nowhere here).
    env = {"DOCKER_HOST": "tcp://127.0.0.1:9"}
    warned = CliRunner().invoke(cli, ["down", "--yes", "--json"], env=env)
    events = [json.loads(line) for line in warned.stderr.splitlines()]
    assert events[0]["event"] == "warning"
    assert "--yes does nothing without --purge" in events[0]["message"]
    for quiet in (["down"], ["down", "--purge", "--yes"]):
        result = CliRunner().invoke(cli, [*quiet, "--json"], env=env)
        assert "warning" not in result.stderr, quiet
