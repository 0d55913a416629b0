"""The names of `up`'s settings: defaults, choices, flags, config-file keys and environment variables.

What the command line is declared with, so it is all that `owui-dev --help` loads of the settings: building and
checking them (owui_dev.config) is loaded only by a command that runs.
"""

from __future__ import annotations

from enum import StrEnum

DEFAULT_NAME = "owui-dev"
DEFAULT_VOLUME = "owui-dev-data"
DEFAULT_PORT = 3000
DEFAULT_IMAGE = "ghcr.io/open-webui/open-webui:main"
# Open WebUI's first start downloads its embedding model; on a slow line that takes minutes.
DEFAULT_READY_TIMEOUT = 600.0

ENV_NGROK_PATH = "NGROK_PATH"
ENV_NGROK_AUTHTOKEN = "NGROK_AUTHTOKEN"


class PullPolicy(StrEnum):
    MISSING = "missing"
    ALWAYS = "always"
    NEVER = "never"


class OAuthProvider(StrEnum):
    GOOGLE = "google"
    GITHUB = "github"
    MICROSOFT = "microsoft"


class QrStyle(StrEnum):
    HALF = "half"
    FULL = "full"
    NONE = "none"


# ngrok's regions (https://ngrok.com/docs/cloud-edge/pops/); without --region the agent picks the nearest.
NGROK_REGIONS = ("us", "us-cal-1", "eu", "ap", "au", "sa", "jp", "in")

# build_up_settings argument -> the flag that sets it, to name a value from the command line in an error.
FLAGS = {
    "name": "--name",
    "image": "--image",
    "pull": "--pull",
    "port": "--port",
    "volume": "--volume",
    "env": "--env",
    "timeout": "--timeout",
    "ngrok_path": "--ngrok-path",
    "domain": "--domain",
    "region": "--region",
    "qr_style": "--qr",
    "no_qr": "--no-qr",
    "qr_png": "--qr-png",
    "keep": "--keep",
    "restart": "--restart",
    "admin_email": "--admin-email",
    "admin_password": "--admin-password",
    "oauth": "--oauth",
    "oauth_allow": "--oauth-allow",
    "allow_cidr": "--allow-cidr",
    "call": "--call",
    "model": "--model",
    "open_browser": "--open",
    "no_ollama_detect": "--no-ollama-detect",
    "check_voice": "--check-voice",
    "guest": "--guest",
    "guest_email": "--guest-email",
    "keep_guest": "--keep-guest",
    "present": "--present",
    "gpu": "--gpu",
    "bundled_ollama": "--bundled-ollama",
    "openwebui_version": "--version",
    "authtoken": "--authtoken",
    "allow_no_auth": "--allow-no-auth",
    "url": "--url",
    "attach": "--attach",
}


# -- the config file and the environment: defaults for `up` (and `doctor`), below the flags --------------

ENV_CONFIG = "OWUI_DEV_CONFIG"
ENV_PROFILE = "OWUI_DEV_PROFILE"
# Every setting of the file can also come from the environment, as OWUI_DEV_<KEY> (above the file, below the
# flag), except where a variable of long standing already names it.
ENV_PREFIX = "OWUI_DEV_"
ENV_OVERRIDES = {"ngrok_path": ENV_NGROK_PATH, "authtoken": ENV_NGROK_AUTHTOKEN}

# key in [up] -> (build_up_settings argument, accepted TOML types)
FILE_KEYS: dict[str, tuple[str, tuple[type, ...]]] = {
    "name": ("name", (str,)),
    "image": ("image", (str,)),
    "pull": ("pull", (str,)),
    "port": ("port", (int,)),
    "volume": ("volume", (str,)),
    "env": ("env", (dict, list)),
    "timeout": ("timeout", (int, float)),
    "ngrok_path": ("ngrok_path", (str,)),
    "domain": ("domain", (str,)),
    "region": ("region", (str,)),
    "qr": ("qr_style", (str,)),
    "no_qr": ("no_qr", (bool,)),
    "keep": ("keep", (bool,)),
    "restart": ("restart", (bool,)),
    "admin_email": ("admin_email", (str,)),
    "oauth": ("oauth", (str,)),
    "oauth_allow": ("oauth_allow", (list,)),
    "allow_cidr": ("allow_cidr", (list,)),
    "call": ("call", (bool,)),
    "model": ("model", (str,)),
    "open": ("open_browser", (bool,)),
    "no_ollama_detect": ("no_ollama_detect", (bool,)),
    "check_voice": ("check_voice", (bool,)),
    "guest": ("guest", (bool,)),
    "guest_email": ("guest_email", (str,)),
    "keep_guest": ("keep_guest", (bool,)),
    "present": ("present", (bool,)),
    "gpu": ("gpu", (bool,)),
    "bundled_ollama": ("bundled_ollama", (bool,)),
    "version": ("openwebui_version", (str,)),
}


# Settings that are one choice made two ways: a layer that sets either replaces a lower layer's choice of both.
ONE_CHOICE = ({"qr_style", "no_qr"},)


def name_option(name: str) -> str:
    """What a quoted `owui-dev up` needs to reach the instance `name`: nothing for the default name."""
    return "" if name == DEFAULT_NAME else f" --name {name}"


def envvar_for(argument: str) -> str | None:
    """The environment variable of a setting of `up`: OWUI_DEV_<KEY> for the file's keys, or a long-standing one."""
    if argument in ENV_OVERRIDES:
        return ENV_OVERRIDES[argument]
    key = file_key(argument)
    return f"{ENV_PREFIX}{key.upper()}" if key else None


def file_key(argument: str) -> str | None:
    """The key in [up] of a build_up_settings argument (None: the file does not set it)."""
    return next((key for key, (arg, _) in FILE_KEYS.items() if arg == argument), None)
