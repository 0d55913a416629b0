"""`owui-dev export caddy`: files that the real tools accept, only 80/443 published, the local secret key, no
overwrite without --force, and a domain that can get a certificate.

The compose file is judged by the compose tool itself (`docker compose config` or Debian's `docker-compose
config`) and by an independent YAML reading; the Caddyfile by `caddy validate` and `caddy adapt` (both
installed by scripts/provision). Nothing here reuses owui-dev's own structures to check its output.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import cli_env, run_cli

DOMAIN = "chat.example.com"
# Ports a reverse proxy in front of a web app may publish: HTTP, HTTPS, and HTTPS over QUIC (HTTP/3).
ALLOWED_PUBLISHED = {(80, "tcp"), (443, "tcp"), (443, "udp")}


def compose_command() -> list[str]:
    """The compose CLI this machine has: the plugin, else Debian's docker-compose (scripts/provision installs one)."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    found = shutil.which("docker-compose")
    assert found, "no `docker compose` nor `docker-compose`: run scripts/provision"
    return [found]


def caddy() -> str:
    found = shutil.which("caddy")
    assert found, "no `caddy`: run scripts/provision"
    return found


def published(ports: list[object]) -> set[tuple[int, str]]:
    """(host port, protocol) of every compose `ports` entry, short ("[ip:]host:container[/proto]") or long syntax."""
    result = set()
    for entry in ports:
        if isinstance(entry, dict):
            if entry.get("published") is not None:
                result.add((int(str(entry["published"])), str(entry.get("protocol") or "tcp")))
            continue
        text = str(entry)
        spec, _, protocol = text.partition("/")
        parts = spec.rsplit(":", 2)
        host = parts[-2] if len(parts) >= 2 else parts[-1]  # "8080" alone publishes a random host port
        result.add((int(host) if host else -1, protocol or "tcp"))
    return result


def all_published(compose: dict[str, object]) -> dict[str, set[tuple[int, str]]]:
    services = compose["services"]
    assert isinstance(services, dict)
    found = {}
    for name, service in services.items():
        assert service.get("network_mode") != "host", f"{name} uses the host network: every port of it is open"
        ports = list(service.get("ports") or [])  # (`expose` publishes nothing)
        if ports:
            found[name] = published(ports)
    return found


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            values[key.strip()] = value
    return values


def export(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    import sys

    return subprocess.run(
        [sys.executable, "-m", "owui_dev", "export", "caddy", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


# -- the whole export, checked by the real tools ------------------------------------------------------


@pytest.fixture
def local_container(docker_client, names, fake_image: str):  # type: ignore[no-untyped-def]
    """A local instance as `up` leaves it, with a known secret key and the settings a dev tunnel adds."""
    key = "test-key-" + secrets.token_urlsafe(24)
    env = {
        "WEBUI_SECRET_KEY": key,
        "WEBUI_ADMIN_EMAIL": "admin@localhost",
        "WEBUI_ADMIN_PASSWORD": "correct-horse-battery-staple",
        "WEBUI_ADMIN_NAME": "Admin",
        "WEBUI_URL": "https://abc-123.ngrok-free.app",
        "OLLAMA_BASE_URL": "http://host.docker.internal:11434",
        "BYPASS_MODEL_ACCESS_CONTROL": "true",
        "OPENAI_API_KEY": "sk-test-" + secrets.token_hex(8),
        "ENABLE_SIGNUP": "false",
        "WEBUI_NAME": "Team chat $HOME",
    }
    docker_client.containers.create(
        fake_image,
        name=names.container,
        environment=env,
        labels={"owui-dev.managed": "true"},
        volumes={names.volume: {"bind": "/app/backend/data", "mode": "rw"}},
    )
    return env


def test_export_from_the_local_container_validates_and_publishes_only_80_and_443(  # type: ignore[no-untyped-def]
    local_container: dict[str, str], names, fake_image: str, tmp_path: Path
) -> None:
    out = tmp_path / "prod"
    result = export("--domain", DOMAIN, "--out", str(out), "--name", names.container, "--email", "ops@example.com",
                    "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    # Secrets never on the terminal.
    for secret in ("WEBUI_SECRET_KEY", "WEBUI_ADMIN_PASSWORD", "OPENAI_API_KEY"):
        assert local_container[secret] not in result.stdout + result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    written = {Path(path).name for path in data["files"]}
    assert written == {"compose.yaml", "Caddyfile", ".env", "README.md"}
    assert all(Path(path).parent == out for path in data["files"])
    assert stat.S_IMODE((out / ".env").stat().st_mode) == 0o600

    # The secret key: the local one, in .env, not inline in compose.yaml.
    env_file = read_env_file(out / ".env")
    assert env_file["WEBUI_SECRET_KEY"] == local_container["WEBUI_SECRET_KEY"]
    raw_compose = (out / "compose.yaml").read_text(encoding="utf-8")
    for secret in ("WEBUI_SECRET_KEY", "WEBUI_ADMIN_PASSWORD", "OPENAI_API_KEY"):
        assert local_container[secret] not in raw_compose

    # The compose tool reads it, and its view of the result: what the container would get.
    config = subprocess.run([*compose_command(), "-f", "compose.yaml", "config"], cwd=out, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert config.returncode == 0, config.stderr
    resolved = yaml.safe_load(config.stdout)
    services = resolved["services"]
    assert set(services) == {"open-webui", "caddy"}
    webui = services["open-webui"]
    environment = webui["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    assert environment["WEBUI_SECRET_KEY"] == local_container["WEBUI_SECRET_KEY"]
    assert environment["OPENAI_API_KEY"] == local_container["OPENAI_API_KEY"]
    assert environment["WEBUI_URL"] == f"https://{DOMAIN}"
    assert environment["CORS_ALLOW_ORIGIN"] == f"https://{DOMAIN}"
    assert environment["ENABLE_SIGNUP"] == "false"
    # `$` survives compose's interpolation (config's output is a compose file again: it writes it as `$$`).
    assert environment["WEBUI_NAME"].replace("$$", "$") == "Team chat $HOME"
    assert environment["WEBUI_ADMIN_EMAIL"] == "admin@localhost"
    for dropped in ("OLLAMA_BASE_URL", "BYPASS_MODEL_ACCESS_CONTROL"):
        assert dropped not in environment
    # The image's own settings (PATH, PORT, …) are not copied as if they were the user's.
    assert "FAKE_OPENWEBUI" not in environment
    assert "PATH" not in environment
    assert webui["image"] == fake_image
    # Named volumes for Open WebUI's data and Caddy's data and config.
    mounts = {str(v).split(":")[1] if isinstance(v, str) else v["target"]: v for v in webui["volumes"]}
    assert "/app/backend/data" in mounts
    caddy_targets = {str(v).split(":")[1] if isinstance(v, str) else v["target"] for v in services["caddy"]["volumes"]}
    assert {"/data", "/config", "/etc/caddy/Caddyfile"} <= caddy_targets
    assert len(resolved["volumes"]) == 3

    # Only Caddy publishes, only 80/443 (and 443/udp): in the tool's view and in the file as written.
    for compose in (resolved, yaml.safe_load(raw_compose)):
        assert all_published(compose) == {"caddy": ALLOWED_PUBLISHED}

    # Caddy accepts its file; adapted to JSON it serves the domain and proxies to the Open WebUI service.
    valid = subprocess.run([caddy(), "validate", "--config", "Caddyfile", "--adapter", "caddyfile"], cwd=out,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert valid.returncode == 0, valid.stderr
    adapted = subprocess.run([caddy(), "adapt", "--config", "Caddyfile", "--adapter", "caddyfile"], cwd=out,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert adapted.returncode == 0, adapted.stderr
    caddy_json = json.loads(adapted.stdout)
    text = json.dumps(caddy_json)
    assert f'"host": ["{DOMAIN}"]' in text
    assert '"dial": "open-webui:8080"' in text
    assert caddy_json["apps"]["tls"]["automation"]["policies"][0]["issuers"][0]["email"] == "ops@example.com"

    readme = (out / "README.md").read_text(encoding="utf-8")
    for needed in ("docker compose up -d", "A** record", "443/udp", "tar czf", "docker compose pull",
                   "OLLAMA_BASE_URL", "BYPASS_MODEL_ACCESS_CONTROL", "Keep `.env`"):  # fmt: skip
        assert needed in readme, needed


def test_without_a_container_the_settings_up_would_use(names, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No container of that name: the image from the config file, the secret key kept for its volume."""
    from owui_dev import instance

    key = "kept-key-" + secrets.token_urlsafe(24)
    instance.save(instance.InstanceSecrets(names.volume, "me@example.org", "pass-word-pass-word", "Admin", key))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[up]\nvolume = "{names.volume}"\nimage = "ghcr.io/open-webui/open-webui:v0.12.4"\n'
        'env = { OLLAMA_BASE_URL = "http://gpu-box.example.net:11434" }\n',
        encoding="utf-8",
    )
    result = export("--domain", DOMAIN, "--name", names.container, "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout + result.stderr
    out = tmp_path / DOMAIN  # the default folder: named after the domain, in the current directory
    assert read_env_file(out / ".env")["WEBUI_SECRET_KEY"] == key
    compose = yaml.safe_load((out / "compose.yaml").read_text(encoding="utf-8"))
    webui = compose["services"]["open-webui"]
    assert webui["image"] == "ghcr.io/open-webui/open-webui:v0.12.4"
    assert webui["environment"]["OLLAMA_BASE_URL"] == "http://gpu-box.example.net:11434"  # a server's address stays
    assert "settings `up` would use" in result.stdout


# -- never overwrite without --force -------------------------------------------------------------------


def test_existing_files_are_kept_without_force(names, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "prod"
    out.mkdir()
    (out / "Caddyfile").write_text("mine\n", encoding="utf-8")
    (out / ".env").write_text("WEBUI_SECRET_KEY=the-one-in-use\n", encoding="utf-8")
    os.chmod(out / ".env", 0o644)

    refused = export("--domain", DOMAIN, "--out", str(out), "--name", names.container)
    assert refused.returncode == 2
    assert str(out / "Caddyfile") in refused.stderr
    assert str(out / ".env") in refused.stderr
    assert "--force" in refused.stderr
    assert (out / "Caddyfile").read_text(encoding="utf-8") == "mine\n"
    assert (out / ".env").read_text(encoding="utf-8") == "WEBUI_SECRET_KEY=the-one-in-use\n"
    assert sorted(p.name for p in out.iterdir()) == [".env", "Caddyfile"]  # nothing else written either

    as_json = export("--domain", DOMAIN, "--out", str(out), "--name", names.container, "--json")
    assert as_json.returncode == 2
    error = json.loads(as_json.stderr.strip().splitlines()[-1])
    assert error["exit_code"] == 2
    assert str(out / "Caddyfile") in error["message"]

    forced = export("--domain", DOMAIN, "--out", str(out), "--name", names.container, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "reverse_proxy" in (out / "Caddyfile").read_text(encoding="utf-8")
    assert stat.S_IMODE((out / ".env").stat().st_mode) == 0o600  # private again, though it was 0644


# -- the domain ----------------------------------------------------------------------------------------

REFUSED = [
    ("localhost", "owui-dev up"),
    ("app.localhost", "owui-dev up"),
    ("127.0.0.1", "DNS A"),
    ("203.0.113.7", "DNS A"),
    ("2001:db8::1", "DNS A"),
    ("[2001:db8::1]", "DNS A"),
    ("chat", "chat.example.com"),
    ("https://chat.example.com", "--domain chat.example.com"),
    ("http://chat.example.com/", "--domain chat.example.com"),
    ("https://chat.example.com:8443/x", "--domain chat.example.com"),
    ("chat.example.com:443", "--domain chat.example.com"),
    ("chat.example.com/webui", "--domain chat.example.com"),
    ("*.example.com", "letters, digits"),
    ("chat_box.example.com", "letters, digits"),
    ("-chat.example.com", "letters, digits"),
    ("chat..example.com", "letters, digits"),
    ("my-name.ngrok-free.app", "domain of your own"),
    ("nas.local", "public domain"),
    ("box.internal", "public domain"),
    ("", "chat.example.com"),
]


@pytest.mark.parametrize(("domain", "hint"), REFUSED)
def test_a_domain_that_cannot_get_a_certificate_is_a_usage_error(domain: str, hint: str, tmp_path: Path) -> None:
    out = tmp_path / "prod"
    result = run_cli("export", "caddy", "--domain", domain, "--out", str(out), "--json", env=cli_env())
    assert result.returncode == 2, result.stdout + result.stderr
    error = json.loads(result.stderr.strip().splitlines()[-1])
    assert error["error"] == "usage"
    assert hint in f"{error['message']} {error['hint']}"
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize(
    ("typed", "domain"),
    [
        ("chat.example.com", "chat.example.com"),
        ("Chat.Example.COM", "chat.example.com"),
        ("chat.example.com.", "chat.example.com"),
        ("ai.team-7.co.uk", "ai.team-7.co.uk"),
        ("xn--bcher-kva.example.org", "xn--bcher-kva.example.org"),
    ],
)
def test_a_public_domain_is_taken(typed: str, domain: str) -> None:
    from owui_dev.export import validate_domain

    assert validate_domain(typed) == domain


def test_a_folder_that_cannot_be_made_is_a_usage_error_before_anything_is_read(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = run_cli("export", "caddy", "--domain", DOMAIN, "--out", str(blocker / "prod"), env=cli_env())
    assert result.returncode == 2, result.stderr
    assert f"{blocker} is a file, not a folder" in result.stderr
    assert "--out" in result.stderr


def test_an_instance_without_accounts_gets_an_admin_not_an_open_door(  # type: ignore[no-untyped-def]
    docker_client, names, fake_image: str, tmp_path: Path
) -> None:
    """Local sign-in off (WEBUI_AUTH=False, no WEBUI_ADMIN_*): production turns it on and names a first admin."""
    docker_client.containers.create(fake_image, name=names.container, environment={"WEBUI_AUTH": "False"})
    out = tmp_path / "prod"
    result = export("--domain", DOMAIN, "--out", str(out), "--name", names.container)
    assert result.returncode == 0, result.stderr
    secrets_file = read_env_file(out / ".env")
    assert len(secrets_file["WEBUI_ADMIN_PASSWORD"]) >= 20
    assert secrets_file["WEBUI_ADMIN_PASSWORD"] not in result.stdout + result.stderr
    assert secrets_file["WEBUI_ADMIN_EMAIL"]
    compose = yaml.safe_load((out / "compose.yaml").read_text(encoding="utf-8"))
    assert "WEBUI_AUTH" not in compose["services"]["open-webui"]["environment"]
    assert "WEBUI_AUTH" in (out / "README.md").read_text(encoding="utf-8")
