"""Every failure a user is likely to meet, defined once: what happened, what to do, its exit code.

The adapters raise these (`problem(field=...)` builds the error); README's troubleshooting section is
generated from the same list (`python -m owui_dev.problems`), and a test keeps the two in step.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from owui_dev.errors import (
    AlreadyRunningError,
    AuthtokenError,
    ContainerError,
    ContainerExitedError,
    ContainerNotFoundError,
    DockerUnavailableError,
    GpuUnavailableError,
    ImageError,
    NameConflictError,
    NgrokBinaryError,
    NotReadyError,
    NotRunningError,
    OwuiDevError,
    PortInUseError,
    StorageError,
    TunnelError,
    TunnelVerifyError,
    UnsafeExposureError,
    UsageError,
)

AUTHTOKEN_URL = "https://dashboard.ngrok.com/get-started/your-authtoken"
AGENTS_URL = "https://dashboard.ngrok.com/agents"
DOWNLOAD_URL = "https://ngrok.com/download"


@dataclass(frozen=True)
class Problem:
    title: str  # the situation, as the troubleshooting section names it
    error: type[OwuiDevError]
    message: str  # str.format templates over the fields given when raised
    hint: str | None = None
    # Example values for the troubleshooting section, where a placeholder would say too little.
    examples: tuple[tuple[str, str], ...] = ()

    def __call__(self, *, details: Sequence[str] = (), **fields: Any) -> OwuiDevError:
        hint = self.hint.format(**fields) if self.hint else None
        return self.error(self.message.format(**fields), hint=hint, details=details)

    def as_markdown(self) -> str:
        def show(template: str) -> str:
            return _Placeholders().vformat(template, (), dict(self.examples))

        lines = [f"**{self.title}** — exit {self.error.exit_code}", "", f"> {show(self.message)}"]
        if self.hint:
            lines += [">", f"> → {show(self.hint)}"]
        return "\n".join(lines)


class _Placeholders(string.Formatter):
    """Shows each field as <name>, whatever its format spec or conversion."""

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Any) -> str:
        return str(kwargs[key]) if key in kwargs else f"‹{key}›"

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        return value

    def format_field(self, value: Any, format_spec: str) -> str:
        return str(value)


# -- Docker ---------------------------------------------------------------------------------------

DOCKER_PERMISSION = Problem(
    "The Docker socket refuses you",
    DockerUnavailableError,
    "Permission denied on the Docker socket ({endpoint}).",
    "Add your user to the docker group (`sudo usermod -aG docker $USER`, then log out and back in), "
    "or run Docker Desktop / rootless Docker.",
)
DOCKER_NO_SOCKET = Problem(
    "Docker is not running (no socket)",
    DockerUnavailableError,
    "No Docker engine at {endpoint}: the socket does not exist.",
    "Start Docker (Docker Desktop, Colima, OrbStack, or `sudo systemctl start docker`), or point "
    "DOCKER_HOST / `docker context use` at a running engine.",
)
DOCKER_REFUSED = Problem(
    "Docker is not running (connection refused)",
    DockerUnavailableError,
    "The Docker engine at {endpoint} refused the connection.",
    "The engine is not running there. Start it, or check DOCKER_HOST / `docker context ls`.",
)
DOCKER_OTHER = Problem(
    "Docker does not answer",
    DockerUnavailableError,
    "Cannot talk to the Docker engine at {endpoint}: {detail}",
    "Check that Docker is running (`docker info`), and DOCKER_HOST / `docker context ls`.",
)
DOCKER_HOST_MALFORMED = Problem(
    "DOCKER_HOST is malformed",
    UsageError,
    "{source}={value!r} is not a Docker engine address: {why}.",
    "Use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]; or unset DOCKER_HOST to use "
    "the current docker context (`docker context ls`).",
    examples=(("source", "DOCKER_HOST"),),
)
DOCKER_SSH_FAILED = Problem(
    "The remote engine cannot be reached over ssh",
    DockerUnavailableError,
    "Cannot connect to the Docker engine at {endpoint} over ssh: {detail}",
    "owui-dev runs your system's `ssh` (with your ~/.ssh/config, keys, agent and known_hosts), as the docker CLI "
    "does: check that `ssh {target} docker version` works from this terminal.",
)
SSH_FORWARD_FAILED = Problem(
    "The SSH forward to a remote engine's Open WebUI cannot be opened",
    DockerUnavailableError,
    "Cannot open an SSH forward to Open WebUI on {host} (its port {remote_port} on that host's 127.0.0.1): {detail}",
    "The forward runs your system's `ssh` without prompts (BatchMode: a key in your ssh agent or without a "
    "passphrase, the host in known_hosts): check that `ssh -N -L 127.0.0.1:{local_port}:127.0.0.1:{remote_port} "
    "{target}` works from this terminal. Or run owui-dev on {host} itself.",
)
SSH_FORWARD_REFUSED = Problem(
    "The SSH server refuses port forwarding",
    DockerUnavailableError,
    "The SSH server on {host} refuses to forward a port to Open WebUI ({detail}).",
    "Allow it in that host's sshd_config (`AllowTcpForwarding yes`, or `local`; also in any `Match` block for "
    "your user) and reload sshd; or run owui-dev on {host} itself.",
)
DOCKER_CONTEXT_MISSING = Problem(
    "The current docker context does not exist",
    DockerUnavailableError,
    "The docker context {context!r} does not exist.",
    "Pick one with `docker context use NAME`, or set DOCKER_HOST.",
)
IMAGE_ABSENT_PULL_NEVER = Problem(
    "The image is missing and pulling is off",
    ImageError,
    "The image {image} is not on this engine, and --pull never forbids pulling it.",
    "Use --pull missing (the default), or `docker pull` it yourself first.",
)
PULL_NOT_FOUND = Problem(
    "The image or tag does not exist",
    ImageError,
    "Pulling {image} failed: {detail}",
    "Check the image name and tag (--image), or that --version names a release "
    "(https://github.com/open-webui/open-webui/releases); for Open WebUI try ghcr.io/open-webui/open-webui:main.",
)
PULL_DENIED = Problem(
    "The registry refuses the pull",
    ImageError,
    "Pulling {image} failed: {detail}",
    "The registry refused access: check the name, or `docker login` to that registry.",
)
PULL_FAILED = Problem(
    "The pull fails (no network)",
    ImageError,
    "Pulling {image} failed: {detail}",
    "Check the internet connection (and any proxy Docker uses), then run again; `--pull never` uses an "
    "image already on this engine.",
)
DOCKER_API_FAILED = Problem(
    "Docker refuses an operation",
    ContainerError,
    "Docker could not {action}: {detail}",
    "Check the engine with `docker info` (out of disk space? restarting?) and run again; `--debug` shows the "
    "whole answer.",
)
PORT_BUSY = Problem(
    "The port is taken by another program",
    PortInUseError,
    "Port {port} on 127.0.0.1 is already in use by another program.",
    "Stop that program, or pass a different --port (leave --port out to pick a free one).",
)
NAME_TAKEN = Problem(
    "A container with the same name that owui-dev did not create",
    NameConflictError,
    "A container named {name!r} exists but was not created by owui-dev, so it is left untouched.",
    "If it is an Open WebUI of yours, `owui-dev up --attach {name}` puts it on the phone as it is (never stopped "
    "or changed); for owui-dev's own instance choose another name with --name. Remove it yourself (`docker rm -f "
    "{name}`) only if you are sure it is disposable.",
)
EXITED_DURING_START = Problem(
    "Open WebUI's container exits while starting",
    ContainerExitedError,
    "The container {name} exited during start-up (exit code {exit_code}{oom}).",
    "Read its last log lines below; fix the cause (a bad --env, too little memory for Docker) and run "
    "again. `owui-dev logs` shows everything.",
)
_GPU_HINT = (
    "On the Docker host: install NVIDIA's driver and the NVIDIA Container Toolkit, then `sudo nvidia-ctk runtime "
    "configure --runtime=docker` and restart Docker; `docker run --rm --gpus all ubuntu nvidia-smi` must list the "
    "GPU. Or run without --gpu (Open WebUI's standard image; an Ollama on the GPU box can still be used)."
)
GPU_IMPOSSIBLE = Problem(
    "--gpu on an engine that cannot have a GPU",
    GpuUnavailableError,
    "--gpu asks for an NVIDIA GPU, but {why}. Nothing was started.",
    "Run without --gpu here, or point DOCKER_HOST (or a docker context) at a Linux or Windows machine with an "
    "NVIDIA GPU.",
    examples=(("why", "Docker on macOS has no access to an NVIDIA GPU"),),
)
GPU_NO_DRIVER = Problem(
    "--gpu, but the Docker engine has no GPU support",
    GpuUnavailableError,
    "The Docker engine ({endpoint}) refused the GPU request: {detail}. Nothing is left running.",
    _GPU_HINT,
    examples=(("detail", 'could not select device driver "" with capabilities: [[gpu]]'),),
)
NOT_READY = Problem(
    "Open WebUI never becomes healthy",
    NotReadyError,
    "Open WebUI was not ready within {timeout:.0f} s: {why}.",
    "First start can take minutes while it downloads models: try a larger --timeout. Its last log lines are below.",
    examples=(("why", "GET /api/config got no answer"),),
)
DIED_WHILE_SERVING = Problem(
    "Open WebUI's container dies while serving",
    ContainerExitedError,
    "The container {name} stopped while serving ({what}); the tunnel was closed.",
    "Its last log lines are below; `owui-dev logs` shows everything. Run `owui-dev up` again "
    "(`--restart` restarts it automatically).",
)

# -- ngrok ----------------------------------------------------------------------------------------

NO_AUTHTOKEN = Problem(
    "No ngrok authtoken",
    AuthtokenError,
    "No ngrok authtoken is configured.",
    f"Get one (free) at {AUTHTOKEN_URL}, then pass --authtoken, set NGROK_AUTHTOKEN, or run "
    "`ngrok config add-authtoken TOKEN` once.",
)
AGENT_NO_AUTHTOKEN = Problem(
    "ngrok says the authtoken is missing (ERR_NGROK_4018)",
    AuthtokenError,
    "ngrok refused to start a session without an account authtoken (ERR_NGROK_4018).",
    f"Sign up (free) and copy your authtoken from {AUTHTOKEN_URL}, then pass --authtoken, set "
    "NGROK_AUTHTOKEN, or run `ngrok config add-authtoken TOKEN`.",
)
AUTHTOKEN_MALFORMED = Problem(
    "The authtoken given cannot be one (empty, too short, spaces inside)",
    UsageError,
    "The ngrok authtoken from {source} cannot be an authtoken: {why}.",
    f"Copy it again from {AUTHTOKEN_URL} (one word of about 40-50 letters, digits and `_`) and fix {{source}}.",
)
AUTHTOKEN_INVALID = Problem(
    "The authtoken is invalid or revoked (ERR_NGROK_105, ERR_NGROK_107)",
    AuthtokenError,
    "ngrok says the authtoken (from {source}) {what} ({code}).",
    f"Copy a current one from {AUTHTOKEN_URL} and update {{source}}.",
)
SESSION_LIMIT = Problem(
    "Too many ngrok agents on the account (ERR_NGROK_108)",
    TunnelError,
    "Your ngrok account already has as many agent sessions as its plan allows (ERR_NGROK_108).",
    f"Another ngrok is running somewhere with this account: stop it (`pkill ngrok` here, or see "
    f"{AGENTS_URL}), then run again.",
)
ENDPOINT_ONLINE = Problem(
    "The URL is already online elsewhere (ERR_NGROK_334)",
    TunnelError,
    "This ngrok URL is already online through another agent (ERR_NGROK_334).",
    f"Another ngrok serves your account's domain right now: stop it (`pkill ngrok` here, or see "
    f"{AGENTS_URL}), or pass a different --domain.",
)
LEFTOVER_AGENT = Problem(
    "A leftover agent from a killed owui-dev run",
    TunnelError,
    "{message}",
    "A leftover ngrok agent from an earlier owui-dev run is still running on this machine (pid {pids}). "
    "End it with `owui-dev down` (same --name) or `kill {kill_args}`, then run again.",
    examples=(("message", "(the ERR_NGROK_108 or ERR_NGROK_334 message)"),),
)
AGENT_TOO_OLD = Problem(
    "The ngrok agent is too old (ERR_NGROK_120, ERR_NGROK_121)",
    NgrokBinaryError,
    "This ngrok agent is too old for ngrok's service ({code}).",
    f"Update it: `ngrok update`, or download the current one from {DOWNLOAD_URL}.",
)
USAGE_LIMIT = Problem(
    "The account's monthly limit is reached (ERR_NGROK_725)",
    TunnelError,
    "Your ngrok account has reached its monthly usage limit (ERR_NGROK_725).",
    "Wait for the limit to reset or upgrade the plan on the ngrok dashboard.",
)
DOMAIN_NOT_OWNED = Problem(
    "A --domain the account does not own",
    TunnelError,
    "ngrok will not serve the domain {domain} for this account ({code}).",
    "Use the domain shown under Domains on your ngrok dashboard, or drop --domain.",
)
TUNNEL_FAILED = Problem(
    "ngrok cannot open the tunnel (other reasons)",
    TunnelError,
    "ngrok could not open the tunnel{code}: {detail}",
    "Check your internet connection and that nothing blocks ngrok (a firewall or proxy); `--debug` shows "
    "the agent's own words.",
)
NGROK_UNREACHABLE = Problem(
    "No route to ngrok (offline, firewall)",
    TunnelError,
    "The ngrok agent did not connect to ngrok's service within {timeout:.0f} s.",
    "This machine cannot reach ngrok: check the internet connection, VPN, proxy or firewall (ngrok needs "
    "outbound TCP 443 to *.ngrok.com).",
)
AGENT_START_FAILED = Problem(
    "The ngrok agent does not start",
    TunnelError,
    "The ngrok agent could not start: {detail}",
    "Run the same binary by hand (`ngrok version`) to see whether it works; `--debug` shows the agent's own log lines.",
)
AGENT_DIED = Problem(
    "The ngrok agent ends while serving",
    TunnelError,
    "The ngrok agent ended unexpectedly; the public URL no longer works.",
    "Run `owui-dev up` again; `--debug` shows the agent's last log lines.",
)
BINARY_MISSING = Problem(
    "--ngrok-path / NGROK_PATH points nowhere",
    NgrokBinaryError,
    "The ngrok binary given by {source} does not exist: {path}",
    "Fix the path, or leave {source} unset to use `ngrok` on PATH or a managed download.",
)
BINARY_NOT_EXECUTABLE = Problem(
    "--ngrok-path / NGROK_PATH is not executable",
    NgrokBinaryError,
    "The ngrok binary given by {source} is not executable: {path}",
    "Run `chmod +x {path}`, or point {source} at the real ngrok binary.",
)
BINARY_IS_PYNGROK_WRAPPER = Problem(
    "--ngrok-path / NGROK_PATH is pyngrok's `ngrok` command, not the agent",
    NgrokBinaryError,
    "The ngrok given by {source} is pyngrok's `ngrok` command ({path}): a Python wrapper that starts the real agent "
    "as its own child (and may download it first), not the ngrok agent itself.",
    "Point {source} at the agent binary itself (pyngrok keeps its copy at {managed}; or install ngrok from "
    f"{DOWNLOAD_URL}), or leave {{source}} unset: owui-dev then finds the agent on PATH or downloads it.",
)
DOWNLOAD_FAILED = Problem(
    "ngrok is not installed and cannot be downloaded",
    NgrokBinaryError,
    "ngrok is not installed and downloading it failed: {detail}",
    f"Install ngrok yourself ({DOWNLOAD_URL}) and put it on PATH, or pass --ngrok-path / NGROK_PATH. "
    "Offline, a tunnel cannot work anyway.",
)
VERIFY_CERT = Problem(
    "The public URL's certificate is not trusted",
    TunnelVerifyError,
    "Open WebUI did not answer through {url}/health: {why}.",
    "The certificate was not trusted. A proxy that intercepts HTTPS needs its CA in SSL_CERT_FILE; "
    "otherwise check the system's certificate store.",
)
VERIFY_NO_UPSTREAM = Problem(
    "ngrok reaches the laptop but not Open WebUI (ERR_NGROK_8012)",
    TunnelVerifyError,
    "Open WebUI did not answer through {url}/health: {why}.",
    "ngrok reached this machine but not Open WebUI's port: is the container still running?",
)
VERIFY_USAGE_LIMIT = Problem(
    "ngrok refuses traffic: monthly limit (ERR_NGROK_725 on the URL)",
    TunnelVerifyError,
    "ngrok refuses traffic for your account: its monthly usage limit is reached (ERR_NGROK_725).",
    "Wait for the limit to reset or upgrade the plan on the ngrok dashboard.",
)
VERIFY_FAILED = Problem(
    "The public URL does not answer",
    TunnelVerifyError,
    "Open WebUI did not answer through {url}/health: {why}.",
    "Check the internet connection, then run again; `--debug` shows more.",
)

AGENT_NOT_ANSWERING = Problem(
    "The ngrok agent stops answering its local API",
    TunnelError,
    "The ngrok agent stopped answering: {detail}",
    "Run `owui-dev up` again; `--debug` shows the agent's last log lines.",
)

# -- running, and who may use it --------------------------------------------------------------------

ALREADY_RUNNING = Problem(
    "`owui-dev up` already runs for this name",
    AlreadyRunningError,
    "`owui-dev up` is already running for {name!r}{pid}{where}.",
    "Use that one, stop it with Ctrl+C in its terminal, or pick another --name.",
)
AUTH_OFF = Problem(
    "Open WebUI runs with authentication off",
    UnsafeExposureError,
    "{what}: Open WebUI runs without accounts, so on a public URL every visitor would be its admin.",
    "Leave authentication on (the default). If you really want an open instance for a moment, pass "
    "--allow-no-auth — anyone with the URL can then use it, see every chat, and change settings.",
)

TRUSTED_HEADER = Problem(
    "Trusted-header sign-in is configured",
    UnsafeExposureError,
    "{what}: Open WebUI would sign in whoever sends that header, and through a public tunnel any visitor can send it.",
    "Trusted-header sign-in belongs behind your own authenticating proxy, not on a tunnel: remove the setting "
    "(for owui-dev's own container that already runs: `owui-dev down --rm`, then `up` without it; for one you run: "
    "where you start it).",
)
NOT_OPEN_WEBUI = Problem(
    "The image does not answer like Open WebUI",
    UnsafeExposureError,
    "Open WebUI at {url} did not describe itself (GET /api/config), so owui-dev cannot make sure strangers "
    "cannot claim it.",
    "Is --image really Open WebUI? `owui-dev logs` shows what it says.",
)
ADMIN_NOT_CREATED = Problem(
    "The admin account cannot be created",
    UnsafeExposureError,
    "Open WebUI has no admin yet and creating one failed ({why}).",
    "The first visitor of a public URL would become admin, so no tunnel was opened. `owui-dev logs` shows why "
    "the sign-up failed.",
)
STILL_NO_ADMIN = Problem(
    "Open WebUI still has no admin",
    UnsafeExposureError,
    "Open WebUI still has no admin account, so the first visitor of a public URL would claim it.",
    "`owui-dev logs` may say why; no tunnel was opened.",
)
GUEST_NEEDS_ADMIN = Problem(
    "--guest without an admin owui-dev can sign in as",
    UsageError,
    "--guest needs the admin account owui-dev created for this volume, and {why}.",
    "Only an admin can create the guest. Use a volume owui-dev set up (`--volume NEW` starts a fresh one), "
    "or create a user with role `user` yourself in Admin Panel → Users. The container was stopped again if "
    "this run started it.",
    examples=(("why", "this instance already had its own accounts"),),
)
GUEST_NOT_CREATED = Problem(
    "The guest account cannot be created",
    UsageError,
    "Open WebUI refused to create the guest account {email}: {why}.",
    "An account with that e-mail that owui-dev did not create is never touched: pick another with "
    "--guest-email, or delete that account in Admin Panel → Users.",
    examples=(("email", "guest@localhost"), ("why", "This email is already registered")),
)

# -- an Open WebUI owui-dev did not start (up --url, up --attach) -----------------------------------

EXTERNAL_NOTHING_LISTENS = Problem(
    "`up --url`: nothing answers at that address",
    NotReadyError,
    "Nothing answers at {url} ({why}).",
    "Start your Open WebUI first (`open-webui serve` listens on 8080; the documented `docker run -d -p 3000:8080 …` "
    "on 3000), or fix the port in --url.",
    examples=(("url", "http://127.0.0.1:8080"), ("why", "Connection refused")),
)
EXTERNAL_NOT_OPEN_WEBUI = Problem(
    "`up --url` / `--attach`: something else answers there",
    UnsafeExposureError,
    "{url} answers, but not like Open WebUI ({why}); no tunnel was opened.",
    'Check the port: Open WebUI answers GET /health with {{"status": true}} and describes itself at /api/config. '
    "Another program may hold that port.",
    examples=(("url", "http://127.0.0.1:8080"), ("why", "GET /health answered HTTP 404")),
)
EXTERNAL_NO_ADMIN = Problem(
    "`up --url` / `--attach`: the instance has no account yet",
    UnsafeExposureError,
    "The Open WebUI at {url} has no account yet: the first visitor of a public URL would become its admin.",
    "Open {url} in your browser on this machine and create the admin account (the first sign-up), then run "
    "`owui-dev up` again. owui-dev creates no account in an instance it did not start.",
    examples=(("url", "http://127.0.0.1:8080"),),
)
ATTACH_NOT_FOUND = Problem(
    "`up --attach`: no such container",
    ContainerNotFoundError,
    "There is no container named {name!r} on this Docker engine.",
    "`docker ps` lists the running containers: pass the NAMES column's value to --attach.",
)
ATTACH_OWN = Problem(
    "`up --attach` names owui-dev's own container",
    UsageError,
    "{name!r} is owui-dev's own container, not one to attach to.",
    "Serve it the usual way: `owui-dev up --name {name}` (which also stops it on the way out).",
)
ATTACH_NOT_RUNNING = Problem(
    "`up --attach`: the container is not running",
    ContainerError,
    "The container {name} is not running ({state}); owui-dev never starts a container it did not make.",
    "Start it yourself (`docker start {name}`), then run `owui-dev up --attach {name}` again.",
)
ATTACH_NO_PORT = Problem(
    "`up --attach`: Open WebUI's port is not published to this machine",
    ContainerError,
    "The container {name} {where}: Open WebUI's port 8080 cannot be reached at 127.0.0.1, where the tunnel connects.",
    "owui-dev does not re-create a container it did not make. Re-create it yourself with a published port, e.g. "
    "`docker run -d -p 127.0.0.1:3000:8080 …` (same volume, same data), or let owui-dev run one: `owui-dev up`.",
    examples=(("where", "publishes no port for it"),),
)
EXTERNAL_STOPPED = Problem(
    "The Open WebUI `up --url` / `--attach` served went away",
    NotReadyError,
    "Open WebUI at {where} stopped answering while serving; the tunnel was closed.",
    "owui-dev never restarts an instance it did not start: start it again yourself, then `owui-dev up {how}`.",
    examples=(("where", "the container open-webui (exited)"), ("how", "--attach open-webui")),
)

# -- owui-dev's own files ----------------------------------------------------------------------------

STATE_DIR_UNUSABLE = Problem(
    "owui-dev's state folder is unusable",
    StorageError,
    "owui-dev cannot write {path}: {why}.",
    "owui-dev keeps its run records and each instance's sign-in under {folder}. Make that a folder you can "
    "write to, or point XDG_STATE_HOME at one (for example `export XDG_STATE_HOME=$HOME/.local/state`).",
    examples=(("folder", "~/.local/state/owui-dev"),),
)
CONFIG_DIR_UNUSABLE = Problem(
    "ngrok's config folder is unusable (saving the authtoken)",
    StorageError,
    "owui-dev cannot write {path}: {why}.",
    "Make {folder} a folder you can write to, or point XDG_CONFIG_HOME at one; or do without saving: pass "
    "--authtoken or set NGROK_AUTHTOKEN.",
    examples=(("folder", "~/.config/ngrok"),),
)
NOT_RUNNING = Problem(
    "`qr` or `check` with no `up` running",
    NotRunningError,
    "No `owui-dev up` is running for {name!r}, so there is no public URL to show or check.",
    "Start one with `owui-dev up{name_option}` (in another terminal); `qr` and `check` only read what a running "
    "`up` published and start nothing themselves.",
    examples=(("name_option", ""),),
)

# -- owui-dev export -------------------------------------------------------------------------------

EXPORT_FILES_EXIST = Problem(
    "`export` finds files it would overwrite",
    UsageError,
    "{folder} already has {files}; owui-dev export does not overwrite them.",
    "Choose another folder with --out, or pass --force to replace them (keep the old .env if a server already "
    "uses it: its WEBUI_SECRET_KEY signs everyone's sessions).",
    examples=(("folder", "chat.example.com"), ("files", "chat.example.com/compose.yaml, chat.example.com/.env")),
)
EXPORT_UNWRITABLE = Problem(
    "`export` cannot write its folder",
    UsageError,
    "owui-dev cannot write the export into {folder}: {why}.",
    "Choose a folder you can write to with --out.",
    examples=(("why", "Permission denied"),),
)

SECTIONS: list[tuple[str, list[Problem]]] = [
    (
        "Docker",
        [DOCKER_PERMISSION, DOCKER_NO_SOCKET, DOCKER_REFUSED, DOCKER_OTHER, DOCKER_HOST_MALFORMED, DOCKER_SSH_FAILED,
         SSH_FORWARD_FAILED, SSH_FORWARD_REFUSED, DOCKER_CONTEXT_MISSING, IMAGE_ABSENT_PULL_NEVER, PULL_NOT_FOUND,
         PULL_DENIED, PULL_FAILED, DOCKER_API_FAILED, PORT_BUSY, NAME_TAKEN, GPU_IMPOSSIBLE, GPU_NO_DRIVER,
         EXITED_DURING_START, NOT_READY, DIED_WHILE_SERVING],
    ),
    (
        "ngrok",
        [NO_AUTHTOKEN, AUTHTOKEN_MALFORMED, AGENT_NO_AUTHTOKEN, AUTHTOKEN_INVALID, SESSION_LIMIT, ENDPOINT_ONLINE,
         LEFTOVER_AGENT, AGENT_TOO_OLD, USAGE_LIMIT, DOMAIN_NOT_OWNED, NGROK_UNREACHABLE, TUNNEL_FAILED,
         AGENT_START_FAILED, AGENT_DIED, AGENT_NOT_ANSWERING, BINARY_MISSING, BINARY_NOT_EXECUTABLE,
         BINARY_IS_PYNGROK_WRAPPER, DOWNLOAD_FAILED, VERIFY_CERT, VERIFY_NO_UPSTREAM, VERIFY_USAGE_LIMIT,
         VERIFY_FAILED],
    ),
    (
        "Running and safety",
        [ALREADY_RUNNING, NOT_RUNNING, AUTH_OFF, TRUSTED_HEADER, NOT_OPEN_WEBUI, ADMIN_NOT_CREATED, STILL_NO_ADMIN,
         GUEST_NEEDS_ADMIN, GUEST_NOT_CREATED],
    ),
    (
        "An Open WebUI you already run",
        [EXTERNAL_NOTHING_LISTENS, EXTERNAL_NOT_OPEN_WEBUI, EXTERNAL_NO_ADMIN, ATTACH_NOT_FOUND, ATTACH_OWN,
         ATTACH_NOT_RUNNING, ATTACH_NO_PORT, EXTERNAL_STOPPED],
    ),
    ("owui-dev's own files", [STATE_DIR_UNUSABLE, CONFIG_DIR_UNUSABLE]),
    ("Export to production", [EXPORT_FILES_EXIST, EXPORT_UNWRITABLE]),
]  # fmt: skip

BEGIN = "<!-- troubleshooting: generated by `python -m owui_dev.problems`; edit owui_dev/problems.py -->"
END = "<!-- end of troubleshooting -->"


def troubleshooting_markdown() -> str:
    parts = [BEGIN, ""]
    for heading, problems in SECTIONS:
        parts += [f"### {heading}", ""]
        for problem in problems:
            parts += [problem.as_markdown(), ""]
    parts.append(END)
    return "\n".join(parts)


if __name__ == "__main__":
    import sys

    sys.stdout.write(troubleshooting_markdown() + "\n")
