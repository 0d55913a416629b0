"""The secrets of one Open WebUI instance (one data volume): its admin sign-in and its WEBUI_SECRET_KEY.

Kept in the user's state directory, one file per volume, readable by the user only (0600), so that
`status --show-password` can show the sign-in again and re-creating the container keeps everyone signed
in. They never go to logs; the tunnel's public side never sees them.
"""

from __future__ import annotations

import functools
import json
import math
import secrets
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from pathlib import Path

from owui_dev.state import remove_private, state_dir, write_private

DEFAULT_ADMIN_EMAIL = "admin@localhost"  # Open WebUI accepts @localhost addresses explicitly
DEFAULT_ADMIN_NAME = "Admin"
# The admin password is typed on a phone: lowercase words joined by hyphens, drawn from the EFF long word
# list (7,776 words) as the xkcdpass package ships it (BSD-3-Clause; the list itself is the EFF's, CC BY 3.0 US).
# Six words are log2(7772) * 6 ≈ 77.5 bits; the longest is 6 * 9 + 5 = 59 bytes, under the 72 bytes that
# Open WebUI's bcrypt accepts (utils/auth.py validate_password). Its optional password rule
# (ENABLE_PASSWORD_VALIDATION, off by default) is never applied to WEBUI_ADMIN_PASSWORD.
WORDLIST_PACKAGE = "xkcdpass"
WORDLIST_FILE = "static/eff-long"
PASSWORD_WORDS = 6
PASSWORD_SEPARATOR = "-"  # noqa: S105 - the separator, not a password


@functools.cache
def wordlist() -> tuple[str, ...]:
    """The EFF long list, less its four hyphenated words (t-shirt, yo-yo, …): the separator must stay one."""
    text = resources.files(WORDLIST_PACKAGE).joinpath(WORDLIST_FILE).read_text(encoding="utf-8")
    return tuple(word for word in text.split() if word.isascii() and word.isalpha() and word.islower())


def password_bits(words: int = PASSWORD_WORDS) -> float:
    return words * math.log2(len(wordlist()))


def generate_password() -> str:
    words = wordlist()
    return PASSWORD_SEPARATOR.join(secrets.choice(words) for _ in range(PASSWORD_WORDS))


@dataclass(frozen=True)
class InstanceSecrets:
    volume: str
    admin_email: str
    admin_password: str
    admin_name: str
    secret_key: str
    # True once owui-dev has signed in with these credentials: only then are they shown as the way in.
    admin_verified: bool = False
    # True when owui-dev made this account (WEBUI_ADMIN_* on a volume it created, or its own first sign-up):
    # only then does it change the account's settings (the "What's New" dialog marked as read).
    admin_created: bool = False
    # The Open WebUI version whose "What's New" owui-dev last marked as read for that admin: once per version.
    release_notes_seen: str | None = None
    # The shared guest account of `up --guest` (owui_dev.guest), while it exists: kept here as soon as it is
    # created, so that `down` or the next `up` can remove one that a killed run left behind.
    guest_email: str | None = None
    guest_password: str | None = None
    guest_id: str | None = None
    # True when the last run kept it on purpose (--keep-guest): then only `up --guest` reuses it.
    guest_kept: bool = False

    def __repr__(self) -> str:
        return f"InstanceSecrets(volume={self.volume!r}, admin_email={self.admin_email!r}, <secrets hidden>)"

    def verified(self, *, created: bool = False) -> InstanceSecrets:
        return replace(self, admin_verified=True, admin_created=self.admin_created or created)

    def with_guest(self, *, email: str, password: str, user_id: str, kept: bool = False) -> InstanceSecrets:
        return replace(self, guest_email=email, guest_password=password, guest_id=user_id, guest_kept=kept)

    def without_guest(self) -> InstanceSecrets:
        return replace(self, guest_email=None, guest_password=None, guest_id=None, guest_kept=False)


def secrets_path(volume: str) -> Path:
    return state_dir() / "instances" / f"{volume}.json"


def load(volume: str) -> InstanceSecrets | None:
    try:
        data = json.loads(secrets_path(volume).read_text(encoding="utf-8"))
        known = {field.name for field in fields(InstanceSecrets)}  # a newer owui-dev's keys: not unreadable
        return InstanceSecrets(**{key: value for key, value in data.items() if key in known}, volume=volume)
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
