"""The human output says the phone's steps once, in order, as the phone will show them."""

from __future__ import annotations

import re
import time

import pytest
from conftest import UpProcess

pytestmark = pytest.mark.e2e


def announced(args: list[str], env: dict[str, str], up_processes: list[UpProcess]) -> str:
    up = UpProcess(args, env)  # human output; stdout is a pipe, so lines stay whole
    up_processes.append(up)
    deadline = time.monotonic() + 90
    while "Press Ctrl+C to stop." not in up.stdout:
        assert time.monotonic() < deadline, up.stdout + up.stderr
        time.sleep(0.1)
    text = up.stdout
    assert up.interrupt() == 0
    return text


@pytest.mark.parametrize("call", [False, True], ids=["plain", "call"])
def test_the_phone_steps_appear_once_and_in_order(names, args, env, up_processes, call) -> None:  # type: ignore[no-untyped-def]
    extra = ["--call", "--no-ollama-detect"] if call else []
    out = announced([*args, *extra], env, up_processes)
    assert out.count("On the phone:") == 1
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "On the phone:")
    steps = []
    for line in lines[start + 1 :]:
        match = re.match(r"\s+(\d+)\. (.*)", line)
        if not match:
            break
        steps.append((int(match.group(1)), match.group(2)))
    assert [number for number, _ in steps] == list(range(1, len(steps) + 1))
    expected = [
        "Scan the code",
        "tap “Visit Site”",
        "Sign in with the e-mail and password above",
        "Confirm “Start a voice call using your microphone?”" if call else "tap the call button",
        "Allow the microphone",
    ]
    assert len(steps) == len(expected), steps
    for (_, step), words in zip(steps, expected, strict=True):
        assert words in step
    # said once: nothing of it repeated elsewhere in the announcement
    for words in ("Visit Site", "Allow the microphone", "allow the microphone", "Voice calls need HTTPS"):
        assert out.count(words) == (1 if words in " ".join(s for _, s in steps) else 0), words
    # the sign-in the steps point to is above them; the static-domain tip is a line of its own, after them
    assert out.index("Sign in: admin@localhost / ") < out.index("On the phone:")
    tip = [line for line in lines if "static ngrok domain" in line]
    assert len(tip) == 1
    assert tip[0].strip().startswith("Tip:")
    assert lines.index(tip[0]) > start + len(steps)
