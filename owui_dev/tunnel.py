"""The ngrok side: which binary, which authtoken, and one HTTPS tunnel through pyngrok.

The authtoken never reaches a command line: pyngrok would pass it as `--authtoken` (visible to every
local user in `ps`), and the agent does not read NGROK_AUTHTOKEN itself. So each run writes a private
(0600) agent config file holding the token and hands pyngrok only its path.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from owui_dev import problems
from owui_dev.config import MIN_AUTHTOKEN_LENGTH, Secret, authtoken_from
from owui_dev.errors import OwuiDevError
from owui_dev.state import runs_dir, write_private

# pyngrok logs every agent line, errors included, and those can echo the authtoken ("Your authtoken:
# ..."). Without a handler Python's last-resort handler would print them to stderr.
logging.getLogger("pyngrok").addHandler(logging.NullHandler())


class _AgentSubprocess:
    """pyngrok's view of `subprocess`, with the agent's stderr merged into the stdout it reads.

    The agent writes its fatal errors to stderr too ("ERROR:  authentication failed: ... Your authtoken:
    ..."), and pyngrok leaves stderr inherited, so they would land on our terminal unredacted and out of
    turn. Merged, they become log lines that pass through our redaction like every other.
    `spawn` makes the process: the tunnel's own, so that a close racing the start either sees the agent or
    prevents it.
    """

    def __init__(self, spawn: Callable[..., subprocess.Popen[Any]]) -> None:
        self._spawn = spawn

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:  # noqa: N802 - mirrors subprocess.Popen
        kwargs.setdefault("stderr", subprocess.STDOUT)
        return self._spawn(*args, **kwargs)


@contextlib.contextmanager
def _agent_stderr_merged(spawn: Callable[..., subprocess.Popen[Any]] = subprocess.Popen) -> Iterator[None]:
    """While the agent is being started (its Popen), and only then: pyngrok's module is shared state."""
    from pyngrok import process

    original = getattr(process, "subprocess", subprocess)
    setattr(process, "subprocess", _AgentSubprocess(spawn))  # noqa: B010 - pyngrok offers no stderr option
    try:
        yield
    finally:
        setattr(process, "subprocess", original)  # noqa: B010


AGENT_START_TIMEOUT = 20
# How long the agent (and whatever it started) gets to end on SIGTERM before SIGKILL.
AGENT_STOP_GRACE = 2.0


@dataclass(frozen=True)
class NgrokBinary:
    path: str
    source: str  # --ngrok-path, NGROK_PATH, PATH, or managed
    # pyngrok's `ngrok` commands met on PATH before this one and passed over (they are not the agent).
    skipped: tuple[str, ...] = ()

    @property
    def needs_install(self) -> bool:
        return self.source == "managed" and not os.path.exists(self.path)


def ngrok_config_dir() -> Path:
    """Where the ngrok agent keeps ngrok.yml on this system (the same place pyngrok uses)."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "ngrok"
    if sys.platform == "win32":
        return home / "AppData" / "Local" / "ngrok"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else home / ".config") / "ngrok"


def ngrok_config_files() -> list[Path]:
    return [ngrok_config_dir() / "ngrok.yml", Path.home() / ".ngrok2" / "ngrok.yml"]


def managed_binary_path() -> str:
    """Where pyngrok installs the agent (its default), and where owui-dev lets it download one."""
    return str(ngrok_config_dir() / ("ngrok.exe" if sys.platform == "win32" else "ngrok"))


_PYNGROK_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+pyngrok(?:\.\w+)*[ \t]+import\b|import[ \t]+pyngrok\b)", re.M)


def is_pyngrok_wrapper(path: str) -> bool:
    """Whether `path` is pyngrok's own `ngrok` command rather than the agent.

    pyngrok declares the console scripts `ngrok` and `pyngrok` (both `pyngrok.ngrok:main`), so an environment
    with owui-dev in it has an `ngrok` next to `owui-dev`. pip writes it as a Python script: a `#!` line naming
    the environment's python (or, for a long path, `#!/bin/sh` plus an `exec` of it), then
    `from pyngrok.ngrok import main`; on Windows a launcher .exe with that script zipped onto its end. Run as
    the agent, it would download the real agent and start it as a child that outlives the wrapper. The agent
    itself is a compiled binary, never a script importing pyngrok.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if head.startswith(b"#!"):
        return b"\0" not in head and _PYNGROK_IMPORT.search(head) is not None
    if head.startswith(b"MZ"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as launcher:
                return _PYNGROK_IMPORT.search(launcher.read("__main__.py")[:4096]) is not None
        except (OSError, KeyError, zipfile.BadZipFile):
            return False
    return False


def resolve_binary(explicit: str | None, explicit_source: str | None) -> NgrokBinary:
    """--ngrok-path / NGROK_PATH, else the first `ngrok` on PATH that is the agent, else pyngrok's managed install."""
    if explicit:
        path = os.path.expanduser(explicit)
        source = explicit_source or "--ngrok-path"
        if not os.path.isfile(path):
            raise problems.BINARY_MISSING(source=source, path=path)
        if not os.access(path, os.X_OK):
            raise problems.BINARY_NOT_EXECUTABLE(source=source, path=path)
        if is_pyngrok_wrapper(path):
            raise problems.BINARY_IS_PYNGROK_WRAPPER(source=source, path=path, managed=managed_binary_path())
        return NgrokBinary(path, source)
    skipped: list[str] = []
    seen: set[str] = set()
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        folder = folder or os.curdir
        if os.path.normcase(folder) in seen:
            continue
        seen.add(os.path.normcase(folder))
        found = shutil.which("ngrok", path=folder)
        if found is None:
            continue
        if is_pyngrok_wrapper(found):
            skipped.append(found)
            continue
        return NgrokBinary(found, "PATH", tuple(skipped))
    return NgrokBinary(managed_binary_path(), "managed", tuple(skipped))


def install_managed_binary(binary: NgrokBinary) -> None:
    """pyngrok's download of the ngrok agent; it prints progress to stdout, which we keep clean."""
    from pyngrok import installer
    from pyngrok.exception import PyngrokError

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            installer.install_ngrok(binary.path, ngrok_version="3")
    except PyngrokError as err:
        raise problems.DOWNLOAD_FAILED(detail=err) from err


def _token_in(config: Any) -> str | None:
    if not isinstance(config, dict):
        return None
    agent = config.get("agent")
    token = agent.get("authtoken") if isinstance(agent, dict) else None
    token = token or config.get("authtoken")
    return str(token).strip() if token else None


def find_authtoken(given: Secret | None) -> Secret | None:
    """--authtoken / NGROK_AUTHTOKEN (already in `given`), else the one ngrok itself has saved.

    A saved one that cannot be an authtoken is a usage error naming the file, before anything starts."""
    if given is not None:
        return given
    import yaml

    for path in ngrok_config_files():
        try:
            token = _token_in(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError):
            continue
        if token:
            return authtoken_from(token, str(path))
    return None


def save_authtoken(token: str) -> Path:
    """Save it where ngrok keeps it (its v3 config), as `ngrok config add-authtoken` would, 0600."""
    import yaml

    path = ngrok_config_dir() / "ngrok.yml"
    config: dict[str, Any] = {}
    with contextlib.suppress(OSError, yaml.YAMLError):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            config = loaded
    config.setdefault("version", "3")
    if str(config.get("version")) == "3":
        agent = config.get("agent")
        if not isinstance(agent, dict):
            agent = {}
        agent["authtoken"] = token
        config["agent"] = agent
    else:
        config["authtoken"] = token
    write_private(path, yaml.safe_dump(config, sort_keys=False))
    return path


def agent_config_path(run_name: str) -> Path:
    return runs_dir() / f"{run_name}.ngrok.yml"


def leftover_agents(run_name: str | None = None, *, own_run: str | None = None) -> list[int]:
    """Agents an earlier owui-dev run started and never ended (it was killed): found by their config path.

    Without `run_name`, every run's; agents of a name whose `up` is alive are skipped, except `own_run`
    (the caller's name, whose lock the caller itself holds)."""
    from owui_dev.processes import command_lines
    from owui_dev.state import read_run_record

    marker = str(agent_config_path(run_name)) if run_name else str(runs_dir()) + os.sep
    found = []
    for pid, command in command_lines():
        match = re.search(re.escape(str(runs_dir()) + os.sep) + r"([^/\s]+)\.ngrok\.yml", command)
        if marker not in command or match is None:
            continue
        if run_name is None and match.group(1) != own_run and read_run_record(match.group(1)) is not None:
            continue  # that name's `up` is alive: its agent is no leftover
        found.append(pid)
    return found


def end_leftover_agents(run_name: str) -> list[int]:
    from owui_dev.processes import end_leader

    ended = [pid for pid in leftover_agents(run_name) if end_leader(pid)]
    with contextlib.suppress(OSError):
        agent_config_path(run_name).unlink()
    return ended


def end_agents_of_killed_run(run_name: str) -> list[int]:
    """The agent a killed `up` of this name left, whose public URL may still be online. Only for a caller that
    holds the name's run lock: then no live `up` owns that agent. Its config file is the cheap sign of one."""
    if not agent_config_path(run_name).exists():
        return []
    return end_leftover_agents(run_name)


REDACTED = "<authtoken>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """Each secret, wherever it occurs whole, becomes <authtoken>; nothing else in `text` changes.

    An authtoken (20+ characters, refused up front otherwise) is replaced wherever it occurs, also inside
    escaped text such as a logfmt `err="...\\nYour authtoken: TOKEN\\n..."`: a string that long occurs
    nowhere by chance. A shorter secret is replaced only where it stands alone, so that it cannot rewrite
    parts of ordinary words.
    """
    for secret in sorted({secret for secret in secrets if secret}, key=len, reverse=True):
        if len(secret) >= MIN_AUTHTOKEN_LENGTH:
            text = text.replace(secret, REDACTED)
        else:
            text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", REDACTED, text)
    return text


_ERR_CODE = re.compile(r"ERR_NGROK_\d+")


def _explain(code: str | None, detail: str, token_source: str, domain: str | None) -> OwuiDevError:
    """One place that turns the agent's ERR_NGROK_* codes into what to do (texts: owui_dev.problems)."""
    detail = detail.strip().splitlines()[0] if detail.strip() else "no detail"
    if code == "ERR_NGROK_4018":
        return problems.AGENT_NO_AUTHTOKEN()
    if code in {"ERR_NGROK_105", "ERR_NGROK_107"}:
        what = "is not valid" if code == "ERR_NGROK_105" else "was revoked"
        return problems.AUTHTOKEN_INVALID(source=token_source, what=what, code=code)
    if code == "ERR_NGROK_108":
        return problems.SESSION_LIMIT()
    if code == "ERR_NGROK_334":
        return problems.ENDPOINT_ONLINE()
    if code in {"ERR_NGROK_120", "ERR_NGROK_121"}:
        return problems.AGENT_TOO_OLD(code=code)
    if code == "ERR_NGROK_725":
        return problems.USAGE_LIMIT()
    if code in {"ERR_NGROK_320", "ERR_NGROK_313", "ERR_NGROK_319", "ERR_NGROK_15002"}:
        return problems.DOMAIN_NOT_OWNED(domain=domain or "(requested)", code=code)
    return problems.TUNNEL_FAILED(code=f" ({code})" if code else "", detail=detail)


def traffic_policy(*, oauth: str | None, oauth_allow: tuple[str, ...], cidrs: tuple[str, ...]) -> str | None:
    """An ngrok Traffic Policy gating the URL before it reaches Open WebUI (cookie- or address-based,
    never basic auth, which would replace the Bearer header Open WebUI's API calls carry)."""
    rules: list[dict[str, Any]] = []
    if cidrs:
        rules.append({"actions": [{"type": "restrict-ips", "config": {"enforce": True, "allow": list(cidrs)}}]})
    if oauth:
        rules.append({"actions": [{"type": "oauth", "config": {"provider": oauth}}]})
        if oauth_allow:
            email = "actions.ngrok.oauth.identity.email"
            emails = [entry for entry in oauth_allow if "@" in entry.lstrip("@")]
            domains = ["@" + entry.lstrip("@") for entry in oauth_allow if "@" not in entry.lstrip("@")]
            tests = []
            if emails:
                tests.append(f"({email} in [{', '.join(repr(e) for e in emails)}])")
            tests += [f"{email}.endsWith({domain!r})" for domain in domains]
            rules.append(
                {
                    "expressions": [f"!({' || '.join(tests)})"],
                    "actions": [{"type": "deny", "config": {"status_code": 403}}],
                }
            )
    return json.dumps({"on_http_request": rules}) if rules else None


@dataclass(frozen=True)
class TunnelInfo:
    public_url: str
    api_url: str | None
    agent_pid: int | None


class NgrokTunnel:
    """One agent process with one HTTPS endpoint to a local port; `close` undoes `open` fully."""

    def __init__(
        self,
        binary: NgrokBinary,
        authtoken: Secret,
        *,
        run_name: str,
        region: str | None = None,
        domain: str | None = None,
        policy: str | None = None,
        start_timeout: float = AGENT_START_TIMEOUT,
        on_agent_log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.binary = binary
        self.authtoken = authtoken
        self.region = region
        self.domain = domain
        self.policy = policy
        self.start_timeout = start_timeout
        self.run_name = run_name
        self._config_path = agent_config_path(run_name)
        self._on_agent_log = on_agent_log
        self._pyngrok_config: Any = None
        self.info: TunnelInfo | None = None
        # Session drops and recoveries the agent reports, read by the watcher in the main thread.
        self._events: queue.SimpleQueue[str] = queue.SimpleQueue()
        # The agent starts in the background (`start`); `close` may come at any moment of that start.
        self._lock = threading.Lock()
        self._closing = False
        self._ended = False
        self._proc: subprocess.Popen[Any] | None = None
        self._worker: threading.Thread | None = None
        self._started_at = 0.0
        self._outcome: dict[str, Any] = {}

    def _clean(self, text: str) -> str:
        return redact(text, [self.authtoken.value])

    def _make_config(self) -> Any:
        from pyngrok.conf import PyngrokConfig

        body = {"version": "3", "agent": {"authtoken": self.authtoken.value}}
        # JSON is valid YAML and quotes every value safely.
        write_private(self._config_path, json.dumps(body))

        def forward(log: Any) -> None:
            event = _session_event(str(log.msg or ""))
            if event is not None:
                self._events.put(event)
            if self._on_agent_log is not None:
                self._on_agent_log(str(log.lvl), self._clean(str(log.line)))

        config = PyngrokConfig(
            ngrok_path=self.binary.path,
            config_path=str(self._config_path),
            region=self.region,
            startup_timeout=int(self.start_timeout),
            # Its own session: Ctrl+C in the terminal reaches us, and we close the tunnel in order.
            start_new_session=True,
            log_event_callback=forward,
        )
        # PyngrokConfig copies NGROK_AUTHTOKEN from the environment and would put it on the command line.
        config.auth_token = None
        config.api_key = None
        return config

    def start(self) -> None:
        """Start the agent and its session in the background, with no endpoint yet, so that they overlap with
        Open WebUI's start; `session_ready` / `open` report how it went."""
        if self._worker is not None:
            return
        # pyngrok is imported here, not in the thread: imported there it would share the interpreter with the
        # caller's own imports, and the agent (another process, free to use another core) would start later.
        from pyngrok import conf, ngrok  # noqa: F401

        self._started_at = time.monotonic()
        self._worker = threading.Thread(target=self._start_in_background, name="ngrok-start", daemon=True)
        self._worker.start()

    def _start_in_background(self) -> None:
        try:
            from pyngrok import ngrok
            from pyngrok.exception import PyngrokError

            with self._lock:
                if self._closing:  # the token file is written before `close` begins, or never
                    return
                self._pyngrok_config = config = self._make_config()
            try:
                with _agent_stderr_merged(self._spawn):
                    self._outcome["process"] = ngrok.get_ngrok_process(config)
            except PyngrokError as err:
                self._outcome["error"] = err
        except BaseException as err:  # noqa: BLE001 - handed to the main thread, which raises it
            self._outcome["crash"] = err

    def _spawn(self, *args: Any, **kwargs: Any) -> subprocess.Popen[Any]:
        """pyngrok's Popen of the agent: none once `close` has begun, and the process known at once."""
        with self._lock:
            if self._closing:
                raise OSError("owui-dev is stopping: the ngrok agent is not started")
            self._proc = subprocess.Popen(*args, **kwargs)
            return self._proc

    def session_ready(self) -> bool:
        """Whether the agent's session is up (without waiting); its failure is raised as `open` would."""
        if self._worker is None:
            return False
        if self._worker.is_alive():
            if time.monotonic() - self._started_at > self.start_timeout + 2:
                # pyngrok's own deadline passed, and it still reads: an agent that says nothing at all.
                self._kill_agent()
                self._worker.join(5)
                raise self._unreachable()
            return False
        if isinstance(self._outcome.get("crash"), OSError):  # the binary went away, or cannot run here
            raise problems.AGENT_START_FAILED(detail=self._clean(str(self._outcome["crash"])), details=[])
        if "crash" in self._outcome:
            raise self._outcome["crash"]
        if "error" in self._outcome:
            raise self._agent_error(self._outcome["error"])
        return "process" in self._outcome

    def wait_session(self) -> None:
        """Until the agent's session is up (it is started if it was not); its failure is raised."""
        self.start()
        assert self._worker is not None
        while not self.session_ready():
            self._worker.join(0.1)

    def open(self, local_port: int) -> TunnelInfo:
        """The HTTPS endpoint to `local_port`, once the agent's session is up."""
        self.wait_session()
        from pyngrok import ngrok
        from pyngrok.exception import PyngrokError, PyngrokNgrokError, PyngrokNgrokHTTPError

        config, process = self._pyngrok_config, self._outcome["process"]
        options: dict[str, Any] = {}
        if self.domain:
            options["url"] = f"https://{self.domain}"
        if self.policy:
            options["traffic_policy"] = self.policy
        try:
            tunnel = ngrok.connect(f"http://127.0.0.1:{local_port}", name="owui-dev", pyngrok_config=config, **options)
        except PyngrokNgrokHTTPError as err:
            body = self._clean(str(err.body or ""))
            code = _ERR_CODE.search(body)
            raise self._with_leftovers(
                _explain(code.group(0) if code else None, _api_error_text(body), self.authtoken.source, self.domain)
            ) from None
        except PyngrokNgrokError as err:
            raise self._agent_error(err) from None
        except PyngrokError as err:
            raise problems.TUNNEL_FAILED(code="", detail=self._clean(str(err))) from None
        public_url = str(tunnel.public_url)
        if public_url.startswith("http://"):
            public_url = "https://" + public_url.removeprefix("http://")
        self.info = TunnelInfo(public_url, process.api_url, process.proc.pid)
        return self.info

    def _with_leftovers(self, error: OwuiDevError) -> OwuiDevError:
        """Too many sessions / URL online elsewhere: often our own agent from a run that was killed."""
        if any(code in error.message for code in ("ERR_NGROK_108", "ERR_NGROK_334")):
            mine = self._process_pid()
            pids = [pid for pid in leftover_agents(own_run=self.run_name) if pid != mine]
            if pids:
                return problems.LEFTOVER_AGENT(
                    message=error.message, pids=", ".join(map(str, pids)), kill_args=" ".join(map(str, pids))
                )
        return error

    def _process_pid(self) -> int | None:
        running = self._running()
        return running.pid if running is not None else None

    def _running(self) -> subprocess.Popen[Any] | None:
        """The agent process: the one this tunnel spawned, else pyngrok's record of it."""
        if self._proc is not None:
            return self._proc
        if self._pyngrok_config is None:
            return None
        from pyngrok import process

        running = process._current_processes.get(self.binary.path)
        return running.proc if running is not None else None

    def _agent_error(self, err: Any) -> OwuiDevError:
        detail = self._clean(str(getattr(err, "ngrok_error", None) or err))
        code = getattr(err, "ngrok_error_code", None) or (
            match.group(0) if (match := _ERR_CODE.search(detail)) else None
        )
        if code is not None:
            return self._with_leftovers(_explain(code, detail, self.authtoken.source, self.domain))
        logs = [self._clean(str(log.line)) for log in getattr(err, "ngrok_logs", None) or []]
        if any("reconnect" in line or "dial" in line for line in logs):
            return self._unreachable(details=logs[-3:])
        return problems.AGENT_START_FAILED(detail=detail, details=logs[-5:])

    def _unreachable(self, details: list[str] | None = None) -> OwuiDevError:
        return problems.NGROK_UNREACHABLE(timeout=self.start_timeout, details=details or [])

    def session_events(self) -> list[str]:
        """ "down" / "up" events since the last call, oldest first."""
        events = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    def refresh_url(self) -> str:
        """The endpoint's public URL as the agent reports it now (it can change after a reconnect)."""
        from pyngrok import ngrok
        from pyngrok.exception import PyngrokError

        assert self.info is not None
        try:
            endpoints = ngrok.get_tunnels(pyngrok_config=self._pyngrok_config)
        except PyngrokError as err:
            raise problems.AGENT_NOT_ANSWERING(detail=self._clean(str(err))) from None
        for endpoint in endpoints:
            if endpoint.name == "owui-dev" and endpoint.public_url:
                url = str(endpoint.public_url).replace("http://", "https://", 1)
                self.info = TunnelInfo(url, self.info.api_url, self.info.agent_pid)
        return self.info.public_url

    def _kill_agent(self) -> None:
        """End the agent and all it started, without pyngrok's lock, which a start in progress holds."""
        running = self._running()
        if running is not None:
            end_process_group(running, grace=AGENT_STOP_GRACE)

    def agent_alive(self) -> bool:
        running = self._running()
        return running is not None and running.poll() is None

    def close(self) -> list[str]:
        """End the agent (and with its session the tunnel), delete the token file; returns what was done.

        Safe at any moment of a background start (nothing is spawned once it began) and to call twice. The
        tunnel is not disconnected through the agent's API first: the agent ending takes its endpoint offline
        with its session, and a round trip to ngrok would only make the teardown wait."""
        with self._lock:
            self._closing = True  # a start still on its way spawns nothing now
        if self._worker is None or self._ended:
            return []
        done: list[str] = []
        if self.info is not None and self.agent_alive():
            done.append(f"closed the tunnel {self.info.public_url}")
        pid = self._process_pid()
        try:
            # Even when interrupted: the agent is never left running, nor its token file on disk.
            self._kill_agent()
        finally:
            with contextlib.suppress(OSError):
                self._config_path.unlink()
        self._ended = True
        config, self._pyngrok_config = self._pyngrok_config, None
        if config is not None and not self._worker.is_alive():
            from pyngrok import ngrok
            from pyngrok.exception import PyngrokError

            with contextlib.suppress(PyngrokError, OSError):
                ngrok.kill(pyngrok_config=config)  # pyngrok forgets the process (it has ended)
        if pid is not None:
            done.append(f"ended the ngrok agent (pid {pid})")
        return done


def end_process_group(proc: subprocess.Popen[Any], *, grace: float) -> None:
    """SIGTERM to the agent's whole process group, SIGKILL to what is left after `grace` seconds.

    pyngrok starts the agent with start_new_session=True, so the agent leads a group of its own, and
    whatever it starts (a wrapper's child holding the tunnel, say) is in it too: ending only the process
    we started could leave a public tunnel behind. Also when interrupted while waiting, the SIGKILL is sent.
    """
    pgid = proc.pid
    if sys.platform == "win32" or pgid == os.getpgrp():  # no process groups, or not one of its own
        with contextlib.suppress(OSError):
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
        return
    try:
        if _signal_group(pgid, signal.SIGTERM) and not _group_ended(proc, pgid, grace):
            _signal_group(pgid, signal.SIGKILL)
            _group_ended(proc, pgid, grace)
    except BaseException:
        _signal_group(pgid, signal.SIGKILL)
        raise


def _signal_group(pgid: int, sig: int) -> bool:
    """False when nothing is left in the group."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member we may not signal: not ours, leave it
        return False
    return True


def _group_ended(proc: subprocess.Popen[Any], pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        proc.poll()  # reaps the leader once it ended
        if not _group_alive(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _group_alive(pgid: int) -> bool:
    """Any live member left? Zombies do not count: an orphan's reaper may be slow or absent (a container's init)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc_fs = Path("/proc")
    if not proc_fs.is_dir():
        return True
    for entry in proc_fs.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


_DOWN = ("heartbeat timeout", "session closed", "failed to reconnect session", "session closing")


def _session_event(message: str) -> str | None:
    if message.startswith(_DOWN):
        return "down"
    if message == "client session established":
        return "up"
    return None


def _api_error_text(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, dict):
        details = data.get("details") or {}
        return str(details.get("err") or data.get("msg") or body)
    return body
