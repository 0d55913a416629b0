"""The CLI's wiring, in-process and as a subprocess: help, version, usage errors before any side effect."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from owui_dev import __version__
from owui_dev.cli import cli
from owui_dev.config import build_up_settings
from owui_dev.errors import EXIT_CODES, UsageError


def test_help_and_version_import_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from owui_dev.cli import cli\n"
        "for args in (['--help'], ['up', '--help'], ['--version']):\n"
        "    try:\n"
        "        cli.main(args, prog_name='owui-dev')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('docker', 'pyngrok', 'qrcode', 'rich', 'requests') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY=\n" in out, out


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
