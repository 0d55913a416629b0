"""Single keys while `up` runs: through a real pseudo-terminal, as a person at the keyboard presses them.

The pty here is the process's controlling terminal, so a typed Ctrl+C reaches it the way a terminal's
does (the line discipline sends SIGINT), and the terminal's mode is read from the pty itself: what the
next program in that terminal (the shell) would find.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import sys
import termios
import time
from pathlib import Path

import pytest
from conftest import PtyProcess, UpProcess, run_cli
from qrdecode import DARK, LIGHT, QrUnreadableError, Theme, decode_terminal_qr, strip_ansi

from owui_dev import keys

# Become the session leader's controlling terminal (stdin), then run the command: as a login shell's child.
CONTROLLING = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp(sys.argv[1], sys.argv[1:])"
)
LFLAG = 3


def up_on_terminal(args: list[str], env: dict[str, str], ptys: list[PtyProcess], *extra: str) -> PtyProcess:
    argv = [sys.executable, "-c", CONTROLLING, sys.executable, "-m", "owui_dev", "up", *args, *extra]
    process = PtyProcess(argv, env)
    ptys.append(process)
    return process


def mode(process: PtyProcess) -> list[object]:
    """The pty's termios attributes (read on the master side: Linux answers with the terminal's own)."""
    return termios.tcgetattr(process._master)


def new_output(process: PtyProcess, since: int, needle: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = process.output[since:]
        if needle in strip_ansi(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never appeared after the key:\n{process.output[since:]}")


def press(process: PtyProcess, key: str, needle: str) -> str:
    since = len(process.output)
    process.type(key)
    return new_output(process, since, needle)


def press_for_qr(process: PtyProcess, key: str, needle: str, theme: Theme = DARK, timeout: float = 10) -> str:
    """Press `key`, wait for `needle`, then for the QR code that follows it to be painted in full: its text."""
    since = len(process.output)
    process.type(key)
    new_output(process, since, needle)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return decode_terminal_qr(process.output[since:], theme)
        except QrUnreadableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_keys_answer_at_once_and_ctrl_c_still_stops(names, args, env, ptys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    browser.chmod(0o755)
    up = up_on_terminal(args, {**env, "BROWSER": f"{browser} %s"}, ptys)
    before = mode(up)
    screen = strip_ansi(up.wait_for("Press Ctrl+C to stop."))
    assert "Keys: q QR again · c call QR · p sign-in · o open here · ? help" in screen
    url = next(word for word in screen.split() if word.startswith("https://"))

    # the terminal is in cbreak mode: no echo, no line buffering, but Ctrl+C still signals
    running = mode(up)
    assert not running[LFLAG] & (termios.ECHO | termios.ICANON)  # type: ignore[operator]
    assert running[LFLAG] & termios.ISIG  # type: ignore[operator]

    listed = strip_ansi(press(up, "?", "these keys"))
    for key in "qcpo":
        assert f"  {key}  " in listed

    # at once, not at the watch loop's next check (1 s apart): a key that waited would take 0.5 s on average
    delays = []
    for _ in range(5):
        started = time.monotonic()
        press(up, "?", "these keys")
        delays.append(time.monotonic() - started)
        time.sleep(0.37)
    assert max(delays) < 0.6, f"keys wait for the next check instead of being answered at once: {delays}"

    for theme in (DARK, LIGHT):
        assert press_for_qr(up, "q", url, theme) == url

    status = run_cli("qr", "--name", names.container, "--call", "--json", env=env)
    assert status.returncode == 0, status.stderr
    call_url = json.loads(status.stdout)["qr_url"]
    assert call_url.startswith(url)
    assert "call=true" in call_url
    assert press_for_qr(up, "c", "Call link") == call_url

    status = run_cli("status", "--name", names.container, "--show-password", "--json", env=env)
    password = json.loads(status.stdout)["admin_password"]
    assert password
    since = len(up.output)
    assert press_for_qr(up, "p", "Scan to copy the password") == password
    assert f"Sign in: admin@localhost / {password}" in strip_ansi(up.output[since:])

    press(up, "o", "Opened it in this machine's browser")
    assert opened.read_text().split() == [url]

    hint = strip_ansi(press(up, "x", "? lists them"))
    assert "“x” is not a key here" in hint
    since = len(up.output)
    up.type("z")
    time.sleep(1.5)
    assert "not a key" not in strip_ansi(up.output[since:]), "the hint is shown once"

    # Ctrl+C typed on the terminal (not a signal sent around it): stops as before, exit 0, mode restored
    up.type("\x03")
    assert up.proc.wait(30) == 0
    tail = strip_ansi(up.output)
    assert "Stopped the container" in tail
    assert mode(up) == before


def test_the_terminal_mode_is_restored_on_every_way_out(docker_client, names, args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    # SIGTERM
    up = up_on_terminal(args, env, ptys)
    before = mode(up)
    up.wait_for("Press Ctrl+C to stop.")
    assert mode(up) != before
    os.kill(up.proc.pid, signal.SIGTERM)
    assert up.proc.wait(30) == 0
    assert mode(up) == before

    # the run ends with an error: the container dies under it
    up = up_on_terminal(args, env, ptys)
    before = mode(up)
    up.wait_for("Press Ctrl+C to stop.")
    docker_client.containers.get(names.container).kill()
    assert up.proc.wait(30) not in (0, None)
    assert "stopped while serving" in strip_ansi(up.output)
    assert mode(up) == before

    # a second Ctrl+C while the container is being stopped (slowly: the stand-in takes 30 s); last, as it
    # leaves the container stopping
    up = up_on_terminal(args, env, ptys, "--env", "FAKE_STOP_DELAY=30")
    before = mode(up)
    up.wait_for("Press Ctrl+C to stop.")
    up.type("\x03")
    time.sleep(1.5)
    assert up.proc.poll() is None, "the teardown is still waiting for the container"
    up.type("\x03")
    assert up.proc.wait(10) == 0
    assert "Second interrupt" in strip_ansi(up.output)
    assert mode(up) == before


def test_no_keys_with_json_on_a_terminal(names, args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    up = up_on_terminal(args, env, ptys, "--json")
    before = mode(up)
    up.wait_for('"event":"ready"')
    assert mode(up) == before, "--json leaves the terminal as it is"
    assert "Keys:" not in up.output
    up.type("\x03")
    assert up.proc.wait(30) == 0


def test_no_keys_when_stdin_is_not_a_terminal(names, args, env, up_processes) -> None:  # type: ignore[no-untyped-def]
    up = UpProcess(args, env)  # human output, stdin from /dev/null
    up_processes.append(up)
    deadline = time.monotonic() + 90
    while "Press Ctrl+C to stop." not in up.stdout and time.monotonic() < deadline and up.proc.poll() is None:
        time.sleep(0.2)
    assert "Press Ctrl+C to stop." in up.stdout, up.stderr
    assert "Keys:" not in up.stdout
    assert up.interrupt() == 0


# -- the terminal side alone, on a pty of this process ---------------------------------------------------


def test_keypad_reads_single_keys_and_puts_the_mode_back() -> None:
    master, slave = pty.openpty()
    try:
        with os.fdopen(slave, "r", closefd=False) as stream:
            before = termios.tcgetattr(slave)
            with keys.keypad(stream) as pad:
                assert pad is not None
                assert not termios.tcgetattr(slave)[LFLAG] & (termios.ECHO | termios.ICANON)
                os.write(master, b"q")
                assert pad.read(2.0) == "q"  # no Enter needed
                os.write(master, b"\x1b[A")
                assert pad.read(2.0) == ""  # an arrow key is no command
                assert pad.read(0.05) == ""
            assert termios.tcgetattr(slave) == before

            with pytest.raises(RuntimeError), keys.keypad(stream):
                raise RuntimeError("a crash while the keys are on")
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_keypad_is_off_without_a_terminal() -> None:
    read, write = os.pipe()
    try:
        with os.fdopen(read, "r", closefd=False) as stream, keys.keypad(stream) as pad:
            assert pad is None
    finally:
        os.close(read)
        os.close(write)


def test_under_present_p_shows_the_guest_never_the_admin(names, args, env, ptys) -> None:  # type: ignore[no-untyped-def]
    """On a projector, `p` must not put the admin's password on the wall: it shows the guest's sign-in."""
    up = up_on_terminal(args, env, ptys, "--guest", "--present", "--no-ollama-detect")
    up.wait_for("Press Ctrl+C to stop.")
    status = json.loads(run_cli("status", "--name", names.container, "--show-password", "--json", env=env).stdout)
    admin, guest = status["admin_password"], status["guest_password"]
    assert admin
    assert guest
    since = len(up.output)
    assert press_for_qr(up, "p", "Sign in as the guest") == guest
    shown = strip_ansi(up.output[since:])
    assert guest in shown
    assert admin not in strip_ansi(up.output)
