"""The URL and its QR code come as soon as the URL is verified; the call-path checks follow under them.

The stand-in agent holds the realtime channel's upgrade (FAKE_NGROK_WEBSOCKET=hold:FILE) until the test
creates FILE, so the checks cannot finish before the test lets them: what has been shown by then was
shown before the checks were done — no timing involved.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from conftest import PtyProcess, UpProcess
from qrdecode import decode_terminal_qr, strip_ansi


def _held(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    gate = tmp_path / "release-websocket"
    return {**env, "FAKE_NGROK_WEBSOCKET": f"hold:{gate}"}, gate


def _event(up: UpProcess, name: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(up.stderr_lines):
            if line.startswith("{") and json.loads(line).get("event") == name:
                return dict(json.loads(line))
        assert up.proc.poll() is None, f"up exited {up.proc.returncode}:\n{up.stderr}"
        time.sleep(0.1)
    raise AssertionError(f"no {name!r} event:\n{up.stderr}")


def _qr_on_screen(terminal: PtyProcess, timeout: float = 30) -> tuple[str, str]:
    """(what the painted QR code decodes to, the screen so far), once a whole QR code is on the screen."""
    deadline = time.monotonic() + timeout
    while True:
        screen = terminal.output
        try:
            return decode_terminal_qr(screen), screen
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_json_gives_the_url_before_the_checks_are_done(args, env, up_processes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    held, gate = _held(env, tmp_path)
    up = UpProcess([*args, "--json"], held)
    up_processes.append(up)

    url = _event(up, "url")
    assert url["public_url"].startswith("https://")
    assert url["local_url"].startswith("http://127.0.0.1:")
    assert not [line for line in up.stdout_lines if line.startswith("{")], "no ready line while a check is held"

    gate.touch()
    ready = up.wait_for_json()
    assert ready["event"] == "ready"
    assert ready["public_url"] == url["public_url"]
    websocket = next(check for check in ready["checks"] if check["id"] == "websocket")  # type: ignore[union-attr]
    assert websocket["status"] == "ok", ready["checks"]
    assert up.interrupt() == 0


def test_the_terminal_shows_the_qr_code_while_the_checks_run(args, env, ptys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    held, gate = _held(env, tmp_path)
    terminal = PtyProcess([sys.executable, "-m", "owui_dev", "up", *args], held)
    ptys.append(terminal)

    terminal.wait_for("scan to open on your phone")
    decoded, screen = _qr_on_screen(terminal)
    assert decoded.startswith("https://")
    assert "NOT FOR PRODUCTION" in screen
    assert "Call readiness" not in screen, "the checks cannot be done: the realtime channel is held"

    gate.touch()
    screen = strip_ansi(terminal.wait_for("Press Ctrl+C to stop."))
    assert screen.index("NOT FOR PRODUCTION") < screen.index("Call readiness") < screen.index("Press Ctrl+C")
    assert screen.count("NOT FOR PRODUCTION") == 1, "the head is shown once"
    assert terminal.interrupt() == 0


def test_with_call_the_qr_code_waits_for_the_model(args, env, ptys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """--call: the QR code opens a call with the model the checks find, so it is shown once they are done."""
    held, gate = _held(env, tmp_path)
    terminal = PtyProcess([sys.executable, "-m", "owui_dev", "up", *args, "--call"], held)
    ptys.append(terminal)

    terminal.wait_for("Checking the call path")
    assert "NOT FOR PRODUCTION" not in terminal.output
    assert "scan to start a voice call" not in terminal.output

    gate.touch()
    terminal.wait_for("Press Ctrl+C to stop.")
    decoded, _ = _qr_on_screen(terminal)
    assert "call=true" in decoded
    assert terminal.interrupt() == 0


def test_a_realtime_channel_that_never_answers_costs_its_deadline_not_the_servers(
    args, env, up_processes, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The upgrade held and never let go (the stand-in drops it after a minute): the check gives up at its own
    deadline, twice (one retry), and says why; it does not wait until the other side drops the connection."""
    from owui_dev.readiness import WEBSOCKET_TIMEOUT_S

    held, _ = _held(env, tmp_path)
    up = UpProcess([*args, "--json"], held)
    up_processes.append(up)
    _event(up, "url")
    started = time.monotonic()
    ready = up.wait_for_json(timeout=2 * WEBSOCKET_TIMEOUT_S + 25)
    assert ready, up.stderr
    assert time.monotonic() - started < 2 * WEBSOCKET_TIMEOUT_S + 15
    (websocket,) = [check for check in ready["checks"] if check["id"] == "websocket"]  # type: ignore[union-attr]
    assert websocket["status"] == "fail"
    assert f"no answer within {WEBSOCKET_TIMEOUT_S:.0f} s" in websocket["detail"]
    assert up.interrupt() == 0
