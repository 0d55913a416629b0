"""`owui-dev export caddy`: the way out to production, from the same settings as the local instance.

Writes a folder to copy to a server: `compose.yaml` (Open WebUI, never published, behind Caddy, which alone
publishes 80 and 443 and gets its certificates itself over ACME), a `Caddyfile`, a `.env` (0600) with the
instance's secrets (the same WEBUI_SECRET_KEY as the local instance, so it is not printed nor written inline),
and a README of next steps. What only makes sense on a laptop behind a dev tunnel (ngrok URLs, a laptop's
Ollama at host.docker.internal, owui-dev's guest switch) is translated or dropped, and the README says which.

Open WebUI 0.12.4 behind a reverse proxy, as read from its code: `WEBUI_URL` is the public address (links,
OAuth redirects; stored in its database at first start); `CORS_ALLOW_ORIGIN` defaults to `*`, which it logs as
"NOT RECOMMENDED FOR PRODUCTION", and is also the Socket.IO origin list (socket/main.py:80), so it is set to
exactly https://DOMAIN. Caddy's reverse_proxy passes WebSocket upgrades and X-Forwarded-* on its own, and the
image's uvicorn trusts forwarded headers (FORWARDED_ALLOW_IPS defaults to `*`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from owui_dev import openwebui, problems
from owui_dev.errors import DockerUnavailableError, UsageError

if TYPE_CHECKING:
    from owui_dev.config import UpSettings

CADDY_IMAGE = "caddy:2"
SERVICE = "open-webui"
COMPOSE_FILE = "compose.yaml"
CADDY_FILE = "Caddyfile"
ENV_FILE = ".env"
README_FILE = "README.md"
FILES = (COMPOSE_FILE, CADDY_FILE, ENV_FILE, README_FILE)
# Caddy alone publishes these: 80 (ACME's HTTP challenge, then a redirect to HTTPS), 443 (HTTPS) and 443/udp
# (HTTP/3, which Caddy serves by default; browsers fall back to TCP without it).
PUBLISHED = ("80:80", "443:443", "443:443/udp")

# Go to .env (0600), never inline: the instance's own secrets, and whatever looks like a credential.
INSTANCE_SECRETS = (
    openwebui.SECRET_KEY_ENV,
    openwebui.ADMIN_EMAIL_ENV,
    openwebui.ADMIN_PASSWORD_ENV,
    openwebui.ADMIN_NAME_ENV,
)
_CREDENTIAL = re.compile(r"(KEY|KEYS|SECRET|PASSWORD|TOKEN)$")
# Addresses that mean "this laptop" or "its dev tunnel": nothing a server can reach.
# (As the host of a URL, or HOST:PORT; an e-mail such as admin@localhost is no address of a server.)
_LOCAL_HOST = r"(?:host\.docker\.internal|localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|0\.0\.0\.0)"
_LOCAL_ADDRESS = re.compile(
    rf"(?:://(?:[^/@\s]*@)?{_LOCAL_HOST}(?=[:/;,\s]|$))|(?:(?:^|[;,\s]){_LOCAL_HOST}:\d)", re.IGNORECASE
)
_NGROK_ADDRESS = re.compile(r"[a-z0-9.-]*\bngrok(?:-free)?\.(?:app|dev|io)\b", re.IGNORECASE)
_NGROK_DOMAIN = re.compile(r"(?:^|\.)ngrok(?:-free)?\.(?:app|dev|io)$")
# Top-level names no public CA issues certificates for (RFC 2606, RFC 6761, RFC 6762, RFC 8375, ICANN's .internal).
_PRIVATE_SUFFIXES = ("localhost", "local", "test", "invalid", "example", "internal", "home.arpa", "lan")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# -- the domain ------------------------------------------------------------------------------------


def validate_domain(value: str) -> str:
    """The public host name Caddy gets a certificate for; anything that cannot be one is a usage error."""
    text = value.strip()
    example = "--domain chat.example.com"
    if "://" in text:
        host = text.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
        raise UsageError(
            f"--domain {value!r} is a URL; it takes the host name alone.",
            hint=f"Type it without scheme or path: --domain {host or 'chat.example.com'}.",
        )
    bare = text.strip("[]")
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        pass
    else:
        raise UsageError(
            f"--domain {value!r} is an IP address; Caddy's automatic certificates need a domain name.",
            hint=f"Create a DNS A (or AAAA) record that points a name at the server ({bare}), then pass that name: "
            f"{example}.",
        )
    if "/" in text or ":" in text:
        host = text.split("/", 1)[0].split(":", 1)[0]
        raise UsageError(
            f"--domain {value!r} has a path or a port; it takes the host name alone (Caddy serves 80 and 443).",
            hint=f"Type only the name: --domain {host or 'chat.example.com'}.",
        )
    name = text.lower().removesuffix(".")
    if name == "localhost" or name.endswith(".localhost"):
        raise UsageError(
            f"--domain {value!r} is this machine; no certificate authority issues certificates for it.",
            hint="For this machine, `owui-dev up` gives an HTTPS URL; for a server, pass the public name its DNS "
            f"record has: {example}.",
        )
    if "." not in name:
        raise UsageError(
            f"--domain {value!r} is not a full domain name.",
            hint=f"Pass the full name of the server, with its domain: {example}.",
        )
    if not all(_LABEL.match(label) for label in name.split(".")) or len(name) > 253 or name[-1].isdigit():
        raise UsageError(
            f"--domain {value!r} is not a valid domain name.",
            hint=f"Use letters, digits, '-' and dots, e.g. {example} (no wildcard, no spaces).",
        )
    if _NGROK_DOMAIN.search(name):
        raise UsageError(
            f"--domain {value!r} is an ngrok domain: it points at ngrok's edge, not at your server.",
            hint=f"Pass a domain of your own whose DNS record points at the server: {example}.",
        )
    suffix = next((s for s in _PRIVATE_SUFFIXES if name == s or name.endswith("." + s)), None)
    if suffix is not None:
        raise UsageError(
            f"--domain {value!r} ends in .{suffix}, a name no public certificate authority issues certificates for.",
            hint=f"Pass a public domain whose DNS record points at the server: {example}.",
        )
    return name


def validate_email(value: str | None) -> str | None:
    if value is None:
        return None
    if not _EMAIL.match(value.strip()):
        raise UsageError(
            f"--email {value!r} is not an e-mail address.",
            hint="Give the address the certificate authority may write to about your certificates, e.g. "
            "--email you@example.com (or leave it out).",
        )
    return value.strip()


def default_folder(domain: str) -> Path:
    """A new folder named after the domain, in the current directory."""
    return Path(domain)


def slug(domain: str) -> str:
    """chat.example.com -> chat-example-com: the prefix of the volumes' names."""
    return domain.replace(".", "-")


# -- the local instance ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalInstance:
    """What the production copy starts from: the local container when it exists, else what `up` would run."""

    source: str  # "container" or "settings"
    description: str
    image: str
    environment: dict[str, str] = field(repr=False)
    notes: tuple[str, ...] = ()


def from_container(name: str) -> LocalInstance | None:
    """The local instance's container, or None when there is none (or no engine to ask, said in `notes`)."""
    from owui_dev.docker_engine import DockerEngine

    engine = DockerEngine.connect()
    try:
        info = engine.find(name)
        if info is None:
            return None
        image_env = engine.image_environment(name)
    finally:
        engine.close()
    notes: tuple[str, ...] = ()
    env = dict(info.environment)
    if image_env is None:
        notes = (
            f"The image of {name} is no longer on this engine, so its own settings (PATH, PORT, …) could not be told "
            "apart from yours: check the environment in compose.yaml.",
        )
    else:
        env = {key: value for key, value in env.items() if image_env.get(key) != value}
    if not env.get(openwebui.SECRET_KEY_ENV) and info.volume:
        from owui_dev import instance

        kept = instance.load(info.volume)
        if kept is not None:
            env[openwebui.SECRET_KEY_ENV] = kept.secret_key
    state = "running" if info.running else info.status
    return LocalInstance("container", f"the container {name} ({state})", info.image, env, notes)


def from_settings(settings: UpSettings) -> LocalInstance:
    """What `up` would give a new container: its image and --env, and this volume's kept secrets (or new ones)."""
    from owui_dev import instance
    from owui_dev.security import container_environment

    env = dict(settings.environment)
    email = settings.admin_email or env.get(openwebui.ADMIN_EMAIL_ENV)
    password = settings.admin_password.value if settings.admin_password else env.get(openwebui.ADMIN_PASSWORD_ENV)
    secrets, fresh = instance.load_or_create(settings.volume, email=email, password=password)
    notes = (
        (f"No instance has used the volume {settings.volume} yet: a new secret key and admin password were made.",)
        if fresh
        else ()
    )
    return LocalInstance(
        "settings",
        f"the settings `up` would use (no container {settings.name})",
        settings.image,
        dict(container_environment(settings, secrets)),
        notes,
    )


# -- from local to production ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """A local setting that does not go to production as it was, and why (shown, and in the README)."""

    key: str
    action: str  # "dropped" or "replaced"
    why: str


@dataclass(frozen=True)
class Plan:
    domain: str
    image: str
    settings: dict[str, str] = field(repr=False)  # inline in compose.yaml
    secrets: dict[str, str] = field(repr=False)  # in .env
    changes: tuple[Change, ...] = ()
    email: str | None = None


def _why_dropped(key: str, value: str) -> str | None:
    if openwebui.auth_disabled_by({key: value}):
        return "sign-in was off (WEBUI_AUTH=False): on a public domain anyone would be admin"
    if key in openwebui.TRUSTED_HEADER_ENVS:
        return "anyone can send that header through Caddy and sign in as whoever they name"
    if key == openwebui.BYPASS_MODEL_ACCESS_ENV and openwebui.bypasses_model_access({key: value}):
        return (
            "owui-dev sets it for `up --guest` (every account sees every model); in production grant models to users "
            "or groups (Admin Panel → Models), or add it back with --env"
        )
    if _NGROK_ADDRESS.search(value):
        return "it points at the ngrok dev tunnel, which production does not use"
    if _LOCAL_ADDRESS.search(value):
        return (
            "it points at the laptop (host.docker.internal, localhost), which the server does not have; set the "
            "server's own address (e.g. its Ollama) with --env, or later in Admin Panel → Settings → Connections"
        )
    return None


def plan(
    local: LocalInstance,
    domain: str,
    *,
    image: str | None = None,
    overrides: tuple[tuple[str, str], ...] = (),
    new_secret_key: bool = False,
    email: str | None = None,
) -> Plan:
    """The production settings: the local ones, less what only a laptop has, plus what a public domain needs."""
    import secrets as random

    url = f"https://{domain}"
    wanted = dict(overrides)
    changes: list[Change] = []
    env: dict[str, str] = {}
    for key, value in sorted(local.environment.items()):
        if key in wanted:
            continue
        if key in {"WEBUI_URL", "CORS_ALLOW_ORIGIN"}:
            if value != url:
                changes.append(Change(key, "replaced", f"was {value or '(empty)'}; now {url}"))
            continue
        why = _why_dropped(key, value)
        if why is not None:
            changes.append(Change(key, "dropped", why))
            continue
        env[key] = value
    env |= {"WEBUI_URL": url, "CORS_ALLOW_ORIGIN": url} | wanted
    if (new_secret_key or not env.get(openwebui.SECRET_KEY_ENV)) and openwebui.SECRET_KEY_ENV not in wanted:
        env[openwebui.SECRET_KEY_ENV] = random.token_urlsafe(32)
        if not new_secret_key:
            changes.append(
                Change(openwebui.SECRET_KEY_ENV, "replaced", "the local instance had none kept: a new one was made")
            )
    if not env.get(openwebui.ADMIN_PASSWORD_ENV):
        # Without it the first visitor of the public domain to sign up becomes the admin.
        from owui_dev.instance import DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_NAME, generate_password

        env.setdefault(openwebui.ADMIN_EMAIL_ENV, DEFAULT_ADMIN_EMAIL)
        env.setdefault(openwebui.ADMIN_NAME_ENV, DEFAULT_ADMIN_NAME)
        env[openwebui.ADMIN_PASSWORD_ENV] = generate_password()
        changes.append(
            Change(
                openwebui.ADMIN_PASSWORD_ENV,
                "replaced",
                "the local instance had no first admin to copy: a new sign-in was made (in .env), so that nobody "
                "else can claim the new instance at its first start",
            )
        )
    inline = {k: v for k, v in env.items() if k not in INSTANCE_SECRETS and not _CREDENTIAL.search(k)}
    hidden = {k: v for k, v in env.items() if k not in inline}
    return Plan(domain, image or local.image, inline, hidden, tuple(changes), email)


# -- the files -------------------------------------------------------------------------------------


def _yaml(value: str) -> str:
    """A YAML double-quoted scalar (JSON's string syntax is one), with `$` kept from compose's interpolation."""
    return json.dumps(value.replace("$", "$$"))


def _env_line(key: str, value: str) -> str:
    """KEY=value as both compose v2 and v1 read env files: plain when safe, else in single quotes (literal)."""
    if re.fullmatch(r"[A-Za-z0-9_./:@+,=-]*", value):
        return f"{key}={value}"
    if "'" in value or "\n" in value:
        raise UsageError(
            f"The setting {key} has a quote or a line break that an env file cannot carry safely.",
            hint=f"Pass a value without them with --env {key}=…, or set it in .env by hand afterwards.",
        )
    return f"{key}='{value}'"


def compose_yaml(p: Plan) -> str:
    base = slug(p.domain)
    lines = [
        f"# Open WebUI at https://{p.domain}, behind Caddy (automatic HTTPS). Written by `owui-dev export caddy`.",
        "# Only Caddy publishes ports: 80 (certificate challenge, then a redirect to HTTPS), 443 (HTTPS) and",
        "# 443/udp (HTTP/3). Open WebUI's own port 8080 is reachable from Caddy only, on this project's network.",
        "services:",
        f"  {SERVICE}:",
        f"    image: {_yaml(p.image)}",
        "    restart: unless-stopped",
        "    environment:",
        *(f"      {key}: {_yaml(value)}" for key, value in sorted(p.settings.items())),
        "    env_file:",
        f"      - {ENV_FILE}  # the secret key and the first admin's sign-in: keep this file (mode 0600)",
        "    volumes:",
        f"      - {SERVICE}:{openwebui.DATA_PATH}",
        "  caddy:",
        f"    image: {CADDY_IMAGE}",
        "    restart: unless-stopped",
        "    ports:",
        *(f'      - "{port}"' for port in PUBLISHED),
        "    volumes:",
        f"      - ./{CADDY_FILE}:/etc/caddy/Caddyfile:ro",
        "      - caddy-data:/data  # the certificates and the ACME account: keep it, or Caddy asks for new ones",
        "      - caddy-config:/config",
        "    depends_on:",
        f"      - {SERVICE}",
        "volumes:",
        f"  {SERVICE}:",
        f"    name: {base}-open-webui",
        "  caddy-data:",
        f"    name: {base}-caddy-data",
        "  caddy-config:",
        f"    name: {base}-caddy-config",
    ]
    return "\n".join(lines) + "\n"


def caddyfile(p: Plan) -> str:
    lines = [f"# Caddy in front of Open WebUI for {p.domain}. Written by `owui-dev export caddy`.", ""]
    if p.email:
        lines += ["{", "\t# The ACME account: the certificate authority writes here about expiring certificates.",
                  f"\temail {p.email}", "}", ""]  # fmt: skip
    lines += [
        f"{p.domain} {{",
        "\t# Caddy gets and renews the certificate for this name itself (ACME), once DNS points here and ports",
        "\t# 80 and 443 are open. reverse_proxy passes WebSocket upgrades (Open WebUI's /ws/socket.io/) and",
        "\t# streams server-sent events as they come.",
        f"\treverse_proxy {SERVICE}:{openwebui.CONTAINER_PORT}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def env_file(p: Plan) -> str:
    lines = [
        f"# Secrets of the Open WebUI at https://{p.domain} (owui-dev export caddy). Keep this file, readable by you",
        "# only (chmod 600): WEBUI_SECRET_KEY signs every session (a new one signs everybody out), and",
        "# WEBUI_ADMIN_* create the first admin at the very first start (ignored once accounts exist).",
        *(_env_line(key, value) for key, value in sorted(p.secrets.items())),
    ]
    return "\n".join(lines) + "\n"


def readme(p: Plan, local: LocalInstance, folder: Path) -> str:
    base = slug(p.domain)
    url = f"https://{p.domain}"
    changed = (
        "\n".join(f"- `{c.key}` {c.action}: {c.why}." for c in p.changes)
        if p.changes
        else "- Nothing: every local setting applies on the server as it was."
    )
    backup = (
        f'docker run --rm -v {base}-open-webui:/data:ro -v "$PWD":/backup busybox \\\n'
        f"  tar czf /backup/open-webui-$(date +%F).tar.gz -C /data ."
    )
    return f"""# Open WebUI at {url}

Written by `owui-dev export caddy` from {local.description}: the image `{p.image}`, its settings and its
secret key. Open WebUI runs behind Caddy, which gets and renews the HTTPS certificate itself and is the only
thing that publishes ports (80, 443 and 443/udp for HTTP/3); Open WebUI's port 8080 is never published.

| file | what |
| --- | --- |
| `compose.yaml` | the two services and their named volumes |
| `Caddyfile` | Caddy: `{p.domain}` → Open WebUI, automatic HTTPS |
| `.env` | the secrets: `WEBUI_SECRET_KEY` (the same as the local instance's) and the first admin's sign-in |

**Keep `.env`** (and keep it private: `chmod 600 .env`). Its `WEBUI_SECRET_KEY` signs every session: lose or
change it and everybody is signed out; it is the one file you cannot make again.

## 1. DNS

At your DNS provider, point the name at the server: an **A** record `{p.domain}` → the server's IPv4 address
(and an **AAAA** record → its IPv6 address, if it has one; only then). Check from anywhere:
`dig +short {p.domain}` shows the server's address.

## 2. Firewall

Open **80/tcp**, **443/tcp** and **443/udp** to the world (with ufw: `sudo ufw allow 80/tcp && sudo ufw allow
443/tcp && sudo ufw allow 443/udp`; on a cloud server, also in its security group). Port 80 is needed: the
certificate authority checks it, and Caddy redirects it to HTTPS. Nothing else needs to be open.

## 3. First start

Copy this folder to the server (`scp -rp {folder.absolute().name} server:` keeps `.env` private), then, in it:

    docker compose up -d
    docker compose logs -f caddy        # "certificate obtained successfully" once DNS and ports are right

(With Debian's `docker-compose` v1, type `docker-compose` for `docker compose`.) Open WebUI's first start takes a
few minutes (it downloads its models); `docker compose logs -f {SERVICE}` shows it.

## 4. First sign-in

Open {url} and sign in as the admin whose e-mail and password are `WEBUI_ADMIN_EMAIL` and
`WEBUI_ADMIN_PASSWORD` in `.env` (the same sign-in as the local instance, when it came from there:
`owui-dev status --show-password`). Open WebUI created that account at its first start and closed sign-up, so
nobody else can claim the instance. Change the password (Settings → Account); add people in Admin Panel → Users.

## 5. Backup

The data (accounts, chats, files, settings) is the volume `{base}-open-webui`. A consistent copy, in this folder:

    docker compose stop {SERVICE}
    {backup.replace(chr(10), chr(10) + "    ")}
    docker compose start {SERVICE}

Keep the archive and `.env` together, off the server. To restore into a new volume: `docker compose down`, then
`docker run --rm -v {base}-open-webui:/data -v "$PWD":/backup busybox tar xzf /backup/open-webui-DATE.tar.gz -C /data`,
then `docker compose up -d`. (The volumes `{base}-caddy-data` and `-config` hold the certificates; Caddy gets new
ones if they are lost.)

## 6. Update

Back up first (above), then:

    docker compose pull
    docker compose up -d

To update deliberately rather than to whatever `{p.image}` means today, pin a release in `compose.yaml`
(e.g. `ghcr.io/open-webui/open-webui:v0.12.4`).

## What changed from the local instance

{changed}

Settings such as `WEBUI_URL` and sign-up are stored in Open WebUI's database at its first start; after that,
change them in Admin Panel → Settings, not here.
"""


# -- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    files: tuple[Path, ...]
    source: str
    description: str
    image: str
    domain: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "url": f"https://{self.domain}",
            "folder": str(self.folder),
            "files": [str(path) for path in self.files],
            "source": self.source,
            "image": self.image,
            "changes": [{"key": c.key, "action": c.action, "why": c.why} for c in self.changes],
            "notes": list(self.notes),
        }


def refuse_overwrite(folder: Path, *, force: bool) -> None:
    """Before anything is read or written: existing files stay unless --force; the folder must be one."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder} is a file, not a folder.", hint="Give a folder (it is created if missing).")
    nearest = next((step for step in (folder.absolute(), *folder.absolute().parents) if step.exists()), None)
    if nearest is not None and not nearest.is_dir():
        raise problems.EXPORT_UNWRITABLE(folder=folder, why=f"{nearest} is a file, not a folder")
    existing = [folder / name for name in FILES if (folder / name).exists() or (folder / name).is_symlink()]
    if existing and not force:
        raise problems.EXPORT_FILES_EXIST(folder=folder, files=", ".join(str(path) for path in existing))


def write(folder: Path, p: Plan, local: LocalInstance) -> tuple[Path, ...]:
    contents = {
        COMPOSE_FILE: compose_yaml(p),
        CADDY_FILE: caddyfile(p),
        ENV_FILE: env_file(p),
        README_FILE: readme(p, local, folder),
    }
    written = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            path = folder / name
            if path.is_symlink():  # --force replaces a link itself, never the file it points at
                path.unlink()
            # .env is made private before a byte of it is written; the others readable as usual.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name == ENV_FILE else 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                if name == ENV_FILE:
                    os.fchmod(out.fileno(), 0o600)  # also when --force rewrites a file that had other modes
                out.write(text)
            written.append(path)
    except OSError as err:
        raise problems.EXPORT_UNWRITABLE(folder=folder, why=err.strerror or str(err)) from err
    return tuple(written)


def export_caddy(
    domain: str,
    *,
    folder: Path | None,
    force: bool,
    local: LocalInstanceSource,
    image: str | None = None,
    overrides: tuple[tuple[str, str], ...] = (),
    new_secret_key: bool = False,
    email: str | None = None,
) -> ExportResult:
    """Validate, refuse to overwrite, read the local instance, translate, write. Prints nothing."""
    domain = validate_domain(domain)
    email = validate_email(email)
    target = folder if folder is not None else default_folder(domain)
    refuse_overwrite(target, force=force)
    instance = local()
    production = plan(instance, domain, image=image, overrides=overrides, new_secret_key=new_secret_key, email=email)
    files = write(target, production, instance)
    return ExportResult(
        target, files, instance.source, instance.description, production.image, domain, production.changes,
        instance.notes,
    )  # fmt: skip


if TYPE_CHECKING:
    from collections.abc import Callable

    LocalInstanceSource = Callable[[], LocalInstance]


def local_instance(name: str, settings: Callable[[], UpSettings]) -> LocalInstance:
    """The container `name` when it exists; else the settings `up` would use. An engine that does not answer is
    no container: then the settings, with a note."""
    try:
        found = from_container(name)
    except DockerUnavailableError as err:
        fallback = from_settings(settings())
        note = f"No Docker engine answered ({err.message}), so no container was read."
        return LocalInstance(fallback.source, fallback.description, fallback.image, fallback.environment,
                             (note, *fallback.notes))  # fmt: skip
    return found if found is not None else from_settings(settings())
