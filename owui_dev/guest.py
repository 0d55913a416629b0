"""`up --guest`: one shared account of role `user` for an audience, so nobody in the room needs the admin's.

Created by owui-dev's own admin on the local port before the URL is announced, with a typeable password
(six words, as the admin's). It is recorded in the volume's kept secrets (owui_dev.instance) the moment it
exists, so that whatever ends the run — Ctrl+C, a crash, SIGKILL — it can be found and removed: on the way
out, by `down`, or by the next `up`. Deleting a user in Open WebUI also deletes its chats.

Models: Open WebUI shows a model nobody configured access for to admins only, so owui-dev starts the
container it creates for --guest with BYPASS_MODEL_ACCESS_CONTROL=true (see the README for why).
"""

from __future__ import annotations

from dataclasses import dataclass

from owui_dev import instance, openwebui, problems
from owui_dev.instance import InstanceSecrets

GUEST_NAME = "Guest"
GUEST_ROLE = "user"


@dataclass(frozen=True)
class Guest:
    email: str
    password: str
    user_id: str
    reused: bool = False


def _admin_token(local_url: str, secrets: InstanceSecrets) -> str | None:
    if not secrets.admin_verified:
        return None
    return openwebui.sign_in_token(local_url, email=secrets.admin_email, password=secrets.admin_password)


def ensure_guest(local_url: str, volume: str, email: str, *, admin_token: str | None = None) -> Guest:
    """The guest account, created (or a kept one reused) and recorded; a problem when that cannot be done.
    `admin_token`: the admin's session from `up`'s own sign-in a moment ago (one password hash less)."""
    secrets = instance.load(volume)
    if secrets is None or not secrets.admin_verified:
        raise problems.GUEST_NEEDS_ADMIN(why="this instance already had its own accounts")
    token = admin_token or _admin_token(local_url, secrets)
    if token is None:
        raise problems.GUEST_NEEDS_ADMIN(why="Open WebUI refused its kept password (changed in Open WebUI?)")
    if secrets.guest_id and secrets.guest_email and secrets.guest_password:
        if secrets.guest_email == email and openwebui.sign_in_token(
            local_url, email=secrets.guest_email, password=secrets.guest_password
        ):
            instance.save(secrets.with_guest(email=email, password=secrets.guest_password, user_id=secrets.guest_id))
            return Guest(email, secrets.guest_password, secrets.guest_id, reused=True)
        openwebui.delete_user(local_url, token, secrets.guest_id)  # another e-mail now, or no longer signs in
        secrets = secrets.without_guest()
        instance.save(secrets)
    password = instance.generate_password()
    answer = openwebui.add_user(local_url, token, name=GUEST_NAME, email=email, password=password, role=GUEST_ROLE)
    body = answer.json()
    user_id = body.get("id") if answer.ok and isinstance(body, dict) else None
    if not user_id:
        detail = body.get("detail") if isinstance(body, dict) else None
        why = str(detail) if detail else (answer.error or f"HTTP {answer.status}")
        raise problems.GUEST_NOT_CREATED(email=email, why=why)
    instance.save(secrets.with_guest(email=email, password=password, user_id=str(user_id)))
    return Guest(email, password, str(user_id))


def remove_guest(local_url: str, volume: str, *, admin_token: str | None = None) -> list[str]:
    """Delete the recorded guest (and its chats); what was done, for the stop summary. `admin_token`: the admin's
    session from `up`'s own sign-in, tried first (a session Open WebUI no longer takes, after a short
    JWT_EXPIRES_IN, say, is replaced by a sign-in)."""
    secrets = instance.load(volume)
    if secrets is None or not secrets.guest_id:
        return []
    email = secrets.guest_email or "the guest"
    answer = openwebui.delete_user(local_url, admin_token, secrets.guest_id) if admin_token else None
    if answer is None or answer.status == 401:
        token = _admin_token(local_url, secrets)
        answer = openwebui.delete_user(local_url, token, secrets.guest_id) if token else None
    if answer is None or not answer.ok:
        why = "the admin could not sign in" if answer is None else (answer.error or f"HTTP {answer.status}")
        return [f"could NOT remove the guest account {email} ({why}): `owui-dev down` tries again"]
    instance.save(secrets.without_guest())
    return [f"removed the guest account {email} and its chats"]


def keep_guest(volume: str) -> list[str]:
    """--keep-guest: the account stays, marked as kept on purpose (only `up --guest` reuses it)."""
    secrets = instance.load(volume)
    if secrets is None or not secrets.guest_id or not secrets.guest_email or not secrets.guest_password:
        return []
    instance.save(
        secrets.with_guest(
            email=secrets.guest_email, password=secrets.guest_password, user_id=secrets.guest_id, kept=True
        )
    )
    return [f"kept the guest account {secrets.guest_email} and its chats (--keep-guest)"]


def leftover(volume: str) -> InstanceSecrets | None:
    """The secrets when a guest that a killed run left behind (not one kept on purpose) is recorded."""
    secrets = instance.load(volume)
    return secrets if secrets is not None and secrets.guest_id and not secrets.guest_kept else None
