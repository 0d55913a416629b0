"""Which program runs as the ngrok agent, and that ending it ends everything it started.

pyngrok installs its own `ngrok` command (a Python console script) next to `owui-dev`; run as the agent it
downloads the real one and starts it as a child that outlives it. It must never be taken for the agent.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import UpProcess, agent_records, cli_env, pid_gone, run_cli
from fake_ngrok.support import AGENT_PATH

from owui_dev.errors import NgrokBinaryError
from owui_dev.tunnel import is_pyngrok_wrapper, resolve_binary

TOKEN = "2abcBINARYtokenNOTreal_4567890abcdefghij"
NOWHERE = "tcp://127.0.0.1:9"  # no Docker engine answers there

# pip's console-script template (pip/_internal/operations/install/wheel.py), as pip writes pyngrok's
# `ngrok = pyngrok.ngrok:main` entry point into an environment's bin/.
PIP_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import re
import sys
from pyngrok.ngrok import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""
# The same for an interpreter path too long for a #! line: pip/distlib start it through /bin/sh.
PIP_SCRIPT_SH = """#!/bin/sh
'''exec' "{python}" "$0" "$@"
' '''
# -*- coding: utf-8 -*-
import re
import sys
from pyngrok.ngrok import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""
# uv's template.
UV_SCRIPT = """#!{python}
# -*- coding: utf-8 -*-
import sys
from pyngrok.ngrok import main
if __name__ == "__main__":
    if sys.argv[0].endswith("-script.pyw"):
        sys.argv[0] = sys.argv[0][:-11]
    elif sys.argv[0].endswith(".exe"):
        sys.argv[0] = sys.argv[0][:-4]
    sys.exit(main())
"""


def install_pyngrok_command(folder: Path, template: str = PIP_SCRIPT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "ngrok"
    script.write_text(template.format(python=sys.executable))
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("template", [PIP_SCRIPT, PIP_SCRIPT_SH, UV_SCRIPT])
def test_pyngrok_s_command_is_recognised(tmp_path: Path, template: str) -> None:
    assert is_pyngrok_wrapper(str(install_pyngrok_command(tmp_path, template)))


def test_the_agent_and_other_scripts_are_not_taken_for_the_wrapper(tmp_path: Path) -> None:
    # The stand-in agent is a Python script too (mentioning pyngrok), and a shell script may exec the agent.
    shell = tmp_path / "ngrok"
    shell.write_text(f'#!/bin/sh\n# started by pyngrok\nexec "{AGENT_PATH}" "$@"\n')
    for path in (AGENT_PATH, sys.executable, str(shell), str(tmp_path / "absent")):
        assert not is_pyngrok_wrapper(path), path


def test_the_wrapper_installed_with_owui_dev_is_recognised() -> None:
    """The `ngrok` that installing owui-dev's dependencies really put next to this interpreter."""
    installed = Path(sys.executable).parent / "ngrok"
    assert installed.exists(), "pyngrok's console script should be installed with it"
    assert is_pyngrok_wrapper(str(installed))


def test_path_search_passes_over_the_wrapper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = install_pyngrok_command(tmp_path / "venv-bin")
    monkeypatch.setenv("PATH", os.pathsep.join([str(wrapper.parent), str(Path(AGENT_PATH).parent)]))
    binary = resolve_binary(None, None)
    assert (binary.path, binary.source, binary.skipped) == (AGENT_PATH, "PATH", (str(wrapper),))
    # With only the wrapper on PATH: the managed download, not the wrapper.
    monkeypatch.setenv("PATH", str(wrapper.parent))
    binary = resolve_binary(None, None)
    assert binary.source == "managed"
    assert binary.path != str(wrapper)


def test_the_wrapper_given_explicitly_is_refused(tmp_path: Path) -> None:
    wrapper = install_pyngrok_command(tmp_path / "bin")
    with pytest.raises(NgrokBinaryError) as refused:
        resolve_binary(str(wrapper), "NGROK_PATH")
    assert "pyngrok's `ngrok` command" in refused.value.message
    assert "NGROK_PATH" in str(refused.value.hint)


def test_doctor_uses_the_agent_further_down_path_and_downloads_nothing(tmp_path: Path, isolated_home: Path) -> None:
    wrapper = install_pyngrok_command(tmp_path / "venv-bin")
    path = os.pathsep.join([str(wrapper.parent), str(Path(AGENT_PATH).parent), os.environ["PATH"]])
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE="off", PATH=path)
    result = run_cli("doctor", "--json", env=env, timeout=60)
    checks = {check["id"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["ngrok-binary"]["status"] == "ok", checks["ngrok-binary"]
    assert f"at {AGENT_PATH} (from PATH)" in checks["ngrok-binary"]["detail"]
    assert str(wrapper) in checks["ngrok-binary"]["detail"]  # says what it passed over
    assert not (isolated_home / ".config" / "ngrok").exists(), "pyngrok's download ran"


def test_doctor_refuses_the_wrapper_as_ngrok_path(tmp_path: Path) -> None:
    wrapper = install_pyngrok_command(tmp_path / "venv-bin")
    env = cli_env(DOCKER_HOST=NOWHERE, NGROK_AUTHTOKEN=TOKEN, OWUI_DEV_NGROK_PROBE="off", NGROK_PATH=str(wrapper))
    result = run_cli("doctor", "--json", env=env, timeout=60)
    checks = {check["id"]: check for check in json.loads(result.stdout)["checks"]}
    assert result.returncode == 10
    assert checks["ngrok-binary"]["status"] == "fail"
    assert "pyngrok's `ngrok` command" in checks["ngrok-binary"]["detail"]


@pytest.mark.docker
@pytest.mark.e2e
def test_up_uses_the_agent_further_down_path(names, args, env, up_processes, tmp_path, isolated_home) -> None:  # type: ignore[no-untyped-def]
    wrapper = install_pyngrok_command(tmp_path / "venv-bin")
    at = args.index("--ngrok-path")
    args = args[:at] + args[at + 2 :]
    path = os.pathsep.join([str(wrapper.parent), str(Path(AGENT_PATH).parent), os.environ["PATH"]])
    up = UpProcess([*args, "--json"], {**env, "PATH": path})
    up_processes.append(up)
    up.wait_for_json()
    [record] = agent_records(env)
    assert record["argv"][0] == AGENT_PATH  # type: ignore[index]
    assert up.interrupt() == 0
    assert pid_gone(int(record["pid"]))  # type: ignore[arg-type]
    assert not (isolated_home / ".config" / "ngrok").exists(), "pyngrok's download ran"


@pytest.mark.docker
@pytest.mark.e2e
def test_ending_the_agent_ends_what_it_started(names, args, env, up_processes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An agent that runs the tunnel in a child (as pyngrok's wrapper does): Ctrl+C leaves no child alive."""
    wrapper = tmp_path / "ngrok-launcher"
    # A launcher that does not pass signals on: ending it alone would leave its child (the agent) running.
    wrapper.write_text(f'#!/bin/sh\n"{AGENT_PATH}" "$@" &\nwait\n')
    wrapper.chmod(0o755)
    args = [*args]
    args[args.index("--ngrok-path") + 1] = str(wrapper)
    up = UpProcess([*args, "--json"], env)
    up_processes.append(up)
    ready = up.wait_for_json()
    [record] = agent_records(env)
    child = int(record["pid"])  # type: ignore[arg-type]
    assert child != ready["agent_pid"], "the stand-in should run as the launcher's child"
    assert up.interrupt() == 0
    assert pid_gone(child), "the agent's child outlived Ctrl+C: its public tunnel stays up"
    assert pid_gone(int(ready["agent_pid"]))  # type: ignore[arg-type]
