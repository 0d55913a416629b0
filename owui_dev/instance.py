"""The secrets of one Open WebUI instance (one data volume): its admin sign-in and its WEBUI_SECRET_KEY.

Kept in the user's state directory, one file per volume, readable by the user only (0600), so that
`status --show-password` can show the sign-in again and re-creating the container keeps everyone signed
in. They never go to logs; the tunnel's public side never sees them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from owui_dev.state import remove_private, state_dir, write_private

DEFAULT_ADMIN_EMAIL = "admin@localhost"  # Open WebUI accepts @localhost addresses explicitly
DEFAULT_ADMIN_NAME = "Admin"
PASSWORD_BYTES = 18  # 24 URL-safe characters, well under bcrypt's 72-byte limit


def generate_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


@dataclass(frozen=True)
class InstanceSecrets:
    volume: str
    admin_email: str
    admin_password: str
    admin_name: str
    secret_key: str
    # True once owui-dev has signed in with these credentials: only then are they shown as the way in.
    admin_verified: bool = False

    def __repr__(self) -> str:
        return f"InstanceSecrets(volume={self.volume!r}, admin_email={self.admin_email!r}, <secrets hidden>)"

    def verified(self) -> InstanceSecrets:
        return replace(self, admin_verified=True)


def secrets_path(volume: str) -> Path:
    return state_dir() / "instances" / f"{volume}.json"


def load(volume: str) -> InstanceSecrets | None:
    try:
        data = json.loads(secrets_path(volume).read_text(encoding="utf-8"))
        return InstanceSecrets(**{**data, "volume": volume})
    except (OSError, ValueError, TypeError):
        return None


def load_or_create(volume: str, *, email: str | None, password: str | None) -> tuple[InstanceSecrets, bool]:
    """The stored secrets for `volume`, or new ones (not yet saved); True when new."""
    existing = load(volume)
    if existing is not None:
        return existing, False
    fresh = InstanceSecrets(
        volume=volume,
        admin_email=(email or DEFAULT_ADMIN_EMAIL).strip().lower(),
        admin_password=password or generate_password(),
        admin_name=DEFAULT_ADMIN_NAME,
        secret_key=secrets.token_urlsafe(32),
    )
    return fresh, True


def save(instance: InstanceSecrets) -> Path:
    path = secrets_path(instance.volume)
    data = asdict(instance)
    data.pop("volume")
    write_private(path, json.dumps(data, indent=2))
    return path


def forget(volume: str) -> bool:
    return remove_private(secrets_path(volume))
