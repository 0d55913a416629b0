"""The ngrok authtoken: what cannot be one is refused up front (saying where it came from, never showing
it), and the token never reaches the user's screen on any path the agent's words take."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import TOKEN, cli_env, run_cli
from fake_ngrok.support import AGENT_PATH

from owui_dev.config import authtoken_from, build_up_settings
from owui_dev.errors import OwuiDevError, UsageError
from owui_dev.tunnel import REDACTED, find_authtoken, redact

NOWHERE = "tcp://127.0.0.1:9"  # no Docker engine answers there
# The shapes of real authtokens (base62 and `_`, 39-49 characters), not real ones.
REAL_SHAPES = [
    "2abcDEFghiJKLmnoPQRstuVWXyz_4fBKeZ16evX7q3pY9LE5b",
    "6hkKvdVYLrK3xLP9FfBxQ_2qjZVVJYdpoNrnuDE3GdA",
    "4nq9771bPxe8ctg7LKr_2ClH7Y15Zqe4bWLWF9p",
]
CANNOT_BE = [
    ("   ", "empty"),
    ("x", "only 1 character"),
    ("2abcDEF_ghi", "only 11 characters"),
    ("2abcDEFghiJKL mnoPQRstuVWXyz_4fBKeZ", "whitespace inside"),
    ("ngrok config add-authtoken 2abcDEFghiJKLmnoPQRstu_vwx", "whitespace inside"),
    ("2abcDEFghiJKLmnoPQRstuVWX\u00e9yz_4fBKeZ16", "outside printable ASCII"),
    ("2abcDEFghiJKLmnoPQRstuVWX\x07yz_4fBKeZ16", "outside printable ASCII"),
]


@pytest.mark.parametrize("token", REAL_SHAPES)
def test_tokens_shaped_like_real_ones_pass(token: str) -> None:
    assert authtoken_from(f"  {token}\n", "--authtoken").value == token


@pytest.mark.parametrize(("value", "why"), CANNOT_BE)
def test_what_cannot_be_a_token_is_refused_naming_where_it_came_from(value: str, why: str) -> None:
    for source, given in (("--authtoken", {"authtoken": value}), ("NGROK_AUTHTOKEN", {})):
        with pytest.raises(UsageError) as refused:
            build_up_settings(**given, environ={"NGROK_AUTHTOKEN": value})  # type: ignore[arg-type]
        assert f"from {source}" in refused.value.message
        assert why in refused.value.message
        if len(value.strip()) > 3:  # never shown (a one-letter value could occur in any text)
            assert value.strip() not in f"{refused.value.message} {refused.value.hint}"


def test_an_empty_environment_variable_counts_as_unset_but_an_empty_flag_does_not() -> None:
    assert build_up_settings(environ={"NGROK_AUTHTOKEN": ""}).authtoken is None
    with pytest.raises(UsageError):
        build_up_settings(authtoken="", environ={})


def test_a_token_in_ngrok_yml_that_cannot_be_one_names_the_file() -> None:
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ngrok" / "ngrok.yml"
    config.parent.mkdir(parents=True)
    config.write_text('version: "3"\nagent:\n  authtoken: abc123\n')
    with pytest.raises(UsageError) as refused:
        find_authtoken(None)
    assert str(config) in refused.value.message
    assert "abc123" not in f"{refused.value.message} {refused.value.hint}"
    env = cli_env(DOCKER_HOST=NOWHERE, OWUI_DEV_NGROK_PROBE="off")
    result = run_cli("doctor", "--json", "--ngrok-path", AGENT_PATH, env=env, timeout=60)
    check = next(check for check in json.loads(result.stdout)["checks"] if check["id"] == "authtoken")
    assert check["status"] == "fail"
    assert str(config) in check["detail"]


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_up_refuses_it_before_anything_else(json_flag: list[str]) -> None:
    """Before even the Docker engine is asked (it does not answer here: that would be exit 3)."""
    bad = "2abcDEFghiJKL mnoPQRstuVWXyz_4fBKeZ"
    result = run_cli("up", *json_flag, env=cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=bad), timeout=60)
    assert result.returncode == 2, result.stderr
    assert "NGROK_AUTHTOKEN" in result.stderr
    assert "whitespace inside" in result.stderr
    for part in bad.split():
        assert part not in result.stdout + result.stderr
    if json_flag:
        assert json.loads(result.stderr.strip().splitlines()[-1])["exit_code"] == 2


def test_redaction_replaces_the_token_whole_and_nothing_else() -> None:
    text = (
        "example: x = max(box, 1); token-ish words stay\n"
        f'lvl=eror msg="session closing" err="authentication failed: ...\\nYour authtoken: {TOKEN}\\nInstructions"\n'
        f"ERROR:  Your authtoken: {TOKEN}\n"
        f'{{"details": {{"err": "Your authtoken: {TOKEN}\\r\\n\\r\\nERR_NGROK_105"}}}}'
    )
    redacted = redact(text, [TOKEN])
    assert TOKEN not in redacted
    assert redacted == text.replace(TOKEN, REDACTED)
    # A secret too short to be a token (refused up front) would still never rewrite parts of words.
    assert redact("example: x = max(box, 1)", ["x"]) == f"example: {REDACTED} = max(box, 1)"
    assert redact("nothing to hide", []) == "nothing to hide"


def test_the_agent_s_own_lines_reach_the_log_callback_redacted(tls_env: dict[str, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What `--debug` forwards of the agent's logfmt lines (stdout and the merged stderr), and the error."""
    from owui_dev.config import Secret
    from owui_dev.tunnel import NgrokBinary, NgrokTunnel

    for key, value in tls_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FAKE_NGROK_FAIL", "auth_invalid")
    lines: list[str] = []
    tunnel = NgrokTunnel(
        NgrokBinary(AGENT_PATH, "--ngrok-path"),
        Secret(TOKEN, "NGROK_AUTHTOKEN"),
        run_name="redaction",
        on_agent_log=lambda level, line: lines.append(line),
    )
    try:
        with pytest.raises(OwuiDevError) as failed:
            tunnel.open(9)
    finally:
        tunnel.close()
    assert "ERR_NGROK_105" in failed.value.message
    shown = "\n".join([*lines, failed.value.message, str(failed.value.hint), *failed.value.details])
    assert TOKEN not in shown
    assert any(f"Your authtoken: {REDACTED}" in line for line in lines), "the agent should have echoed it"
    assert any(line.startswith("ERROR:") and REDACTED in line for line in lines), "its stderr, merged"


@pytest.mark.docker
@pytest.mark.e2e
@pytest.mark.parametrize(
    ("mode", "flags"),
    [
        ("auth_invalid", ["--debug"]),
        ("auth_invalid", ["--json"]),
        ("auth_revoked", []),
        ("auth_revoked", ["--json", "--debug"]),
    ],
)
def test_the_token_never_reaches_the_screen(names, args, env, mode: str, flags: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The agent echoes the token (ERR_NGROK_105/107) in its log lines, on its stderr and so in pyngrok's
    error texts: none of it may show, in human or JSON output, with or without --debug (traceback)."""
    result = run_cli("up", *args, *flags, env={**env, "FAKE_NGROK_FAIL": mode})
    assert result.returncode == 7, result.stderr
    assert "ERR_NGROK_105" in result.stderr or "ERR_NGROK_107" in result.stderr
    assert "NGROK_AUTHTOKEN" in result.stderr  # where it came from, instead
    assert TOKEN not in result.stdout + result.stderr
    if "--debug" in flags:
        assert "Traceback" in result.stderr
