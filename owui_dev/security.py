"""Who can use the instance once its URL is public: decided, and enforced, before the tunnel opens.

Open WebUI makes the first account that signs up its admin, and ngrok URLs get scanned; so before
any tunnel exists the instance must have an admin and closed sign-up. Three cases:
- fresh (no users): Open WebUI >= 0.7.0 creates the admin from WEBUI_ADMIN_* at first start; older
  images need the first sign-up, done here on the local port, after which Open WebUI closes sign-up;
- existing users: nothing is created; their accounts sign in;
- authentication off (WEBUI_AUTH=False, every visitor is admin) or trusted-header sign-in (any visitor
  can send the header through a tunnel): refused, the former unless --allow-no-auth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from owui_dev import instance, openwebui, problems
from owui_dev.background import in_background
from owui_dev.config import UpSettings
from owui_dev.console import Reporter
from owui_dev.instance import InstanceSecrets

if TYPE_CHECKING:
    from owui_dev.openwebui import PublicConfig


def refuse_unsafe_environment(environment: dict[str, str], settings: UpSettings, *, reused: bool = False) -> None:
    where = f"The running container {settings.name} has" if reused else "You passed"
    headers = openwebui.trusted_headers_in(environment)
    if headers:
        raise problems.TRUSTED_HEADER(what=f"{where} {', '.join(headers)}")
    if openwebui.auth_disabled_by(environment) and not settings.allow_no_auth:
        raise problems.AUTH_OFF(what=f"{where} WEBUI_AUTH=False")


def instance_secrets(settings: UpSettings) -> InstanceSecrets:
    """This volume's admin sign-in and secret key; new ones are saved at once (0600)."""
    env = dict(settings.environment)
    email = settings.admin_email or env.get(openwebui.ADMIN_EMAIL_ENV)
    password = settings.admin_password.value if settings.admin_password else env.get(openwebui.ADMIN_PASSWORD_ENV)
    secrets, fresh = instance.load_or_create(settings.volume, email=email, password=password)
    if fresh:
        # Saved before the container exists: the secret key given to it must never be lost.
        instance.save(secrets)
    return secrets


def container_environment(settings: UpSettings, secrets: InstanceSecrets) -> tuple[tuple[str, str], ...]:
    """The user's --env on top of what secures a fresh instance; the user's values win."""
    env: dict[str, str] = {openwebui.SECRET_KEY_ENV: secrets.secret_key}
    if not openwebui.auth_disabled_by(dict(settings.environment)):
        env |= {
            openwebui.ADMIN_EMAIL_ENV: secrets.admin_email,
            openwebui.ADMIN_PASSWORD_ENV: secrets.admin_password,
            openwebui.ADMIN_NAME_ENV: secrets.admin_name,
        }
    if settings.guest:
        # The guest (role user) sees no model nobody granted access to; see owui_dev.guest and the README.
        env[openwebui.BYPASS_MODEL_ACCESS_ENV] = "true"
    env |= dict(settings.environment)
    return tuple(sorted(env.items()))


@dataclass(frozen=True)
class Access:
    """How the public URL is protected, to tell the user (panel) and machines (--json)."""

    accounts: bool
    admin_email: str | None = None
    admin_password: str | None = None
    signup_open: bool = False
    gates: list[str] = field(default_factory=list)
    # --guest: the shared account for the audience; --present: the admin's password stays off the screen.
    guest_email: str | None = None
    guest_password: str | None = None
    present: bool = False
    # The admin's session from that sign-in, for the call checks (one password hash less); never shown.
    admin_token: str | None = field(default=None, repr=False)

    def notes(self) -> list[str]:
        lines = []
        if not self.accounts:
            lines.append("⚠ NO AUTHENTICATION (--allow-no-auth): anyone with this URL is admin of this Open WebUI.")
        elif self.admin_email and self.present:
            lines.append(
                f"Admin: {self.admin_email} (password not shown: `owui-dev status --show-password` in a terminal "
                "the room cannot see)"
            )
        elif self.admin_email and self.admin_password:
            lines.append(
                f"Sign in: {self.admin_email} / {self.admin_password}   (again: `owui-dev status --show-password`)"
            )
        else:
            lines.append("Sign in with your existing Open WebUI account (this instance already had users).")
        who = "Who can reach it: anyone with the URL"
        if self.gates:
            who += ", past " + " and ".join(self.gates)
        if self.guest_email and not self.present:
            lines.append(f"Guest sign-in: {self.guest_email} / {self.guest_password}   (role user)")
        if self.accounts and self.guest_email:
            who += "; only the admin and the guest get in, nobody else" + (
                " — but sign-up is OPEN: anyone can ask for an account (pending until an admin approves)"
                if self.signup_open
                else "; sign-up is closed"
            )
        elif self.accounts:
            who += "; only accounts get in" + (
                " — but sign-up is OPEN: anyone can ask for an account (pending until an admin approves)"
                if self.signup_open
                else "; sign-up is closed"
            )
        lines.append(who + ".")
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "auth": self.accounts,
            "admin_email": self.admin_email,
            "admin_password": self.admin_password,
            "signup_open": self.signup_open,
            "gates": self.gates,
            "guest_email": self.guest_email,
            "guest_password": self.guest_password,
        }


def gates_of(settings: UpSettings) -> list[str]:
    gates = []
    if settings.allow_cidr:
        gates.append("an IP allow-list (" + ", ".join(settings.allow_cidr) + ")")
    if settings.oauth:
        who = f" for {', '.join(settings.oauth_allow)}" if settings.oauth_allow else " (any account of it)"
        gates.append(f"{settings.oauth.value} sign-in{who}")
    return gates


def secure_instance(
    local_url: str,
    config: PublicConfig | None,
    secrets: InstanceSecrets,
    settings: UpSettings,
    reporter: Reporter,
    *,
    new_volume: bool = False,
) -> Callable[[], Access]:
    """Make sure the instance has an admin and closed sign-up, on the local port, before any tunnel.

    `config`: what the instance said of itself at GET /api/config, its first answer (None: it answered, but not like
    Open WebUI). Returns once the instance is fit to go online. What is left, the admin's sign-in (does the kept
    password still work, to show it?) and "What's New" marked as read, changes nothing about who can get in: it
    runs on in the background while the tunnel opens and its URL is shown (on the real image its password hash
    takes a good part of a second), and the returned call waits for it, tells the user and gives the Access (with
    the sign-in's session, for the call checks). It goes out only once accounts are known to be on: with them off,
    Open WebUI's sign-in makes an admin of an instance without users.

    `new_volume`: this run created the data volume, so an account that signs in with this volume's kept
    secrets can only be the one WEBUI_ADMIN_* made at first start: owui-dev's own."""
    if config is None:
        raise problems.NOT_OPEN_WEBUI(url=local_url)
    if not config.auth:
        if not settings.allow_no_auth:
            raise problems.AUTH_OFF(what="Open WebUI reports authentication off")
        reporter.warn("AUTHENTICATION IS OFF (--allow-no-auth): anyone with the URL will be admin of this instance.")
        unguarded = Access(accounts=False, gates=gates_of(settings))
        return lambda: unguarded
    if config.trusted_header:
        raise problems.TRUSTED_HEADER(what="Open WebUI reports WEBUI_AUTH_TRUSTED_EMAIL_HEADER set")
    created = config.onboarding or new_volume
    after = config
    if config.onboarding:
        # No users yet: this image predates WEBUI_ADMIN_* (0.7.0), so claim it ourselves, locally.
        answer = openwebui.sign_up(
            local_url, name=secrets.admin_name, email=secrets.admin_email, password=secrets.admin_password
        )
        if not answer.ok:
            raise problems.ADMIN_NOT_CREATED(
                why=answer.error or answer.status, details=[answer.body[:300]] if answer.body else []
            )
        reporter.step(f"Admin account {secrets.admin_email} created (Open WebUI closes sign-up after it)")
        # Read again only after owui-dev claimed the instance itself: otherwise nothing here changed it.
        reread = openwebui.public_config(local_url)
        if reread is None or reread.onboarding:
            raise problems.STILL_NO_ADMIN()
        after = reread
    if after.signup_enabled:
        reporter.warn(
            "Sign-up is open on this instance: anyone with the URL can request an account "
            "(admins can close it in Admin Panel → Settings → General)."
        )
    signing_in = in_background(
        lambda: _admin_sign_in(local_url, secrets, config.version, created=created),
        name="owui-dev-admin-sign-in",
    )

    def access() -> Access:
        signed_in = signing_in()
        if signed_in is None:
            reporter.note("This instance already has accounts: they sign in as before; owui-dev created none.")
        else:
            reporter.step(f"Admin account {secrets.admin_email} signs in")
            if signed_in.release_notes_marked:
                reporter.step(f"Open WebUI {config.version}'s “What's New” marked as read for {secrets.admin_email}")
            elif signed_in.release_notes_failed:
                reporter.note(
                    "Could not mark Open WebUI's “What's New” as read: the phone may show it once (close it)."
                )
        return Access(
            accounts=True,
            admin_email=secrets.admin_email if signed_in is not None else None,
            admin_password=secrets.admin_password if signed_in is not None else None,
            admin_token=signed_in.token if signed_in is not None else None,
            signup_open=after.signup_enabled,
            gates=gates_of(settings),
        )

    return access


@dataclass(frozen=True)
class _SignedIn:
    token: str | None = field(default=None, repr=False)
    release_notes_marked: bool = False
    release_notes_failed: bool = False


def _admin_sign_in(
    local_url: str,
    secrets: InstanceSecrets,
    version: str,
    *,
    created: bool,
) -> _SignedIn | None:
    """The kept admin's sign-in (None: it does not work, the instance had its own accounts), kept as verified,
    and for the admin owui-dev created, "What's New" marked as read. Says nothing: safe in a thread."""
    signed_in = openwebui.sign_in(local_url, email=secrets.admin_email, password=secrets.admin_password)
    if not signed_in.ok:
        return None
    body = signed_in.json()
    token = str(body["token"]) if isinstance(body, dict) and body.get("token") else None
    kept = secrets
    if not kept.admin_verified or (created and not kept.admin_created):
        kept = kept.verified(created=created)
    outcome = _SignedIn(token=token)
    if kept.admin_created and version and kept.release_notes_seen != version:
        marked = _release_notes_seen(local_url, token, version)
        outcome = replace(outcome, release_notes_marked=marked, release_notes_failed=not marked)
        if marked:
            kept = replace(kept, release_notes_seen=version)
    if kept != secrets:
        instance.save(kept)
    return outcome


def _release_notes_seen(local_url: str, token: str | None, version: str) -> bool:
    """Open WebUI's "What's New" dialog would cover the phone's screen (and the call): marked as read, as its own
    dismissal does, for the admin owui-dev created only, once per version (kept with the instance's secrets).
    Not worth failing `up` for."""
    return bool(token and openwebui.mark_version_seen(local_url, token, version))
