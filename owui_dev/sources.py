"""Where each setting of `up` comes from, in one place: click's own cascade.

click already knows flag > environment > default_map > default, and records which one gave each value
(`ctx.get_parameter_source`). The config file's [up] table, with the chosen [profile.NAME] on top, is the
default_map; every setting gets an environment variable (setting_names.envvar_for). The file's origins (path, line,
table) tell [up] from the profile. `up`, `doctor` and `config show` read their settings through `resolve`, so
what `config show` says is what `up` does.

Values are still checked by config.build_up_settings, whichever layer gave them: a file value is handed over
as it is (not through the flag's click type), so that its error names the file and the line, not the flag.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from click.core import ParameterSource

from owui_dev.errors import OwuiDevError, UsageError

# Only the names at import: the commands are declared with them, and `--help` reads no config file (owui_dev.config
# is loaded by the functions that read one).
from owui_dev.setting_names import ENV_CONFIG, ENV_PROFILE, ONE_CHOICE, envvar_for, file_key

if TYPE_CHECKING:
    from owui_dev.config import ConfigFile, Origin, UpSettings

P = ParamSpec("P")
R = TypeVar("R")

# Parameters of `up` that are how to run the command, not settings of the session.
NOT_SETTINGS = frozenset({"json_output", "debug", "config", "profile"})

_PENDING = "owui_dev.sources.pending"
_LOADED = "owui_dev.sources.loaded"
_ERROR = "owui_dev.sources.error"


class Layer(IntEnum):
    """Where a value came from, lowest first: a higher layer replaces a lower one."""

    DEFAULT = 0
    FILE = 1
    PROFILE = 2
    ENVIRONMENT = 3
    FLAG = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class LayeredOption(click.Option):
    """A click option whose value from the config file skips click's type (build_up_settings checks it, naming
    the line), and whose bad value from the environment names the variable instead of the flag."""

    def process_value(self, ctx: click.Context, value: Any) -> Any:
        if self.name and ctx.get_parameter_source(self.name) is ParameterSource.DEFAULT_MAP:
            return tuple(value) if self.multiple else value
        return super().process_value(ctx, value)

    def get_error_hint(self, ctx: click.Context | None) -> str:
        from_environment = ctx is not None and self.name and ctx.get_parameter_source(self.name)
        if from_environment is ParameterSource.ENVIRONMENT and isinstance(self.envvar, str):
            return self.envvar
        return super().get_error_hint(ctx)


def setting_option(*declarations: str, **attributes: Any) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """@click.option for a setting of `up`: layered (LayeredOption). Adding a setting stays one such option,
    plus its FLAGS / FILE_KEYS entries in setting_names.py."""
    return click.option(*declarations, cls=LayeredOption, **attributes)


class SettingsCommand(click.Command):
    """A command that takes `up`'s settings: each option layered and given its environment variable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if not isinstance(param, click.Option) or not param.name or param.name in NOT_SETTINGS:
                continue
            if not isinstance(param, LayeredOption):
                raise TypeError(f"{self.name}: declare the setting {param.name!r} with setting_option")
            _give_envvar(param)


class InstanceCommand(click.Command):
    """A command that acts on the instance `up` made (`down`, `status`, `qr`…): the settings it shares with `up`
    (--name; qr's --qr and --call) come from `up`'s cascade, so that a profile's or the file's name reaches it as it
    reaches `up`. Its other options are its own. Its callback is wrapped in `shares_up_settings`, which checks the
    shared values from the file; both rules are enforced when the command is built, so none is forgotten."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not getattr(self.callback, _SHARES_UP_SETTINGS, False):
            raise TypeError(f"{self.name}: wrap the command in @shares_up_settings (under its error boundary)")
        for param in self.params:
            if not isinstance(param, click.Option) or not param.name or file_key(param.name) is None:
                continue
            if not isinstance(param, LayeredOption):
                raise TypeError(f"{self.name}: the file's setting {param.name!r} needs setting_option here too")
            if param.name not in _SHARED_CHECKS and not param.is_flag:  # a flag's file value is a checked bool
                raise TypeError(f"{self.name}: give the shared setting {param.name!r} a check in _SHARED_CHECKS")
            _give_envvar(param)


def _give_envvar(param: click.Option) -> None:
    if param.envvar is None and param.name:
        param.envvar = envvar_for(param.name)


def _check_name(value: str, origin: Origin | None) -> str:
    from owui_dev.config import validate_name

    return validate_name(value, origin=origin)


def _check_qr_style(value: str, origin: Origin | None) -> str:
    from owui_dev.config import validate_qr_style

    return validate_qr_style(value, origin)


# How a shared setting's value from the config file is checked: as build_up_settings checks it for `up`.
_SHARED_CHECKS: dict[str, Callable[[Any, Origin | None], Any]] = {"name": _check_name, "qr_style": _check_qr_style}
_SHARES_UP_SETTINGS = "shares_up_settings"


def shares_up_settings(command: Callable[..., R]) -> Callable[..., R]:
    """An InstanceCommand's callback, under its error boundary: a config file that could not be read is raised,
    and each shared setting from the file is checked, naming its line (click's own type and callback do not see
    such a value: LayeredOption). --config and --profile were read by then (eager): the callback does not take them."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> R:
        ctx = click.get_current_context()
        _raise_file_error(ctx)
        kwargs.pop("config", None)
        kwargs.pop("profile", None)
        _, _, origins = ctx.meta.get(_LOADED, (None, None, {}))
        for name, check in _SHARED_CHECKS.items():
            if name in kwargs and ctx.get_parameter_source(name) is ParameterSource.DEFAULT_MAP:
                kwargs[name] = check(kwargs[name], origins.get(name))
        return command(*args, **kwargs)

    setattr(checked, _SHARES_UP_SETTINGS, True)
    return checked


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """--config and --profile are eager: once both are known, the file becomes the default_map of the rest.

    An error is kept for the command to raise (inside its error boundary, after click's own checks)."""
    pending = ctx.meta.setdefault(_PENDING, {})
    pending[param.name] = value
    if {"config", "profile"} <= pending.keys():
        from owui_dev.config import file_layers, load_config_file

        try:
            file = load_config_file(pending["config"])
            profile = pending["profile"]
            asked_by = f"{ENV_PROFILE}={profile}" if _from_environment(ctx, "profile") else f"--profile {profile}"
            values, origins = file_layers(file, profile, asked_by)
        except OwuiDevError as err:
            ctx.meta[_ERROR] = err
            return value
        ctx.default_map = {**(ctx.default_map or {}), **values}
        ctx.meta[_LOADED] = (file, profile, origins)
    return value


def _raise_file_error(ctx: click.Context) -> None:
    """What `_remember` kept of a config file that could not be read, raised inside the command's error boundary."""
    if _ERROR in ctx.meta:
        raise ctx.meta[_ERROR]


def _from_environment(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is ParameterSource.ENVIRONMENT


def _complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from owui_dev.config import load_config_file

    try:
        file = load_config_file(ctx.params.get("config"))
    except OwuiDevError:
        return []
    return [name for name in sorted(file.profiles) if name.startswith(incomplete)]


def config_options(command: Callable[P, R]) -> Callable[P, R]:
    """--config and --profile, for the commands that read the config file."""
    command = click.option(
        "--profile",
        default=None,
        metavar="NAME",
        envvar=ENV_PROFILE,
        is_eager=True,
        callback=_remember,
        shell_complete=_complete_profiles,
        help=f"Settings of [profile.NAME] in the config file, on top of [up] [env {ENV_PROFILE}].",
    )(command)
    return click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar=ENV_CONFIG,
        is_eager=True,
        callback=_remember,
        help=f"Config file with defaults for `up` [env {ENV_CONFIG}; default ~/.config/owui-dev/config.toml].",
    )(command)


@dataclass(frozen=True)
class Resolved:
    """Every setting of `up` with its value, its layer and, above the default, where it was set."""

    values: dict[str, Any]
    layers: dict[str, Layer]
    origins: dict[str, Origin]
    file: ConfigFile
    profile: str | None = None

    def arguments(self) -> dict[str, Any]:
        """build_up_settings arguments: what is not at its default, and where file and environment values came
        from (a flag's value is named by its flag)."""
        given = {name: value for name, value in self.values.items() if self.layers[name] > Layer.DEFAULT}
        origins = {name: origin for name, origin in self.origins.items() if self.layers[name] < Layer.FLAG}
        return {**given, "origins": origins} if origins else given


def setting_params(command: click.Command) -> Iterable[click.Option]:
    return (p for p in command.params if isinstance(p, click.Option) and p.name and p.name not in NOT_SETTINGS)


def resolve(ctx: click.Context, settings_command: click.Command) -> Resolved:
    """The settings of `settings_command` (`up`) as the invoked command's context sees them.

    A setting that command does not take as an option (doctor has only a few) is looked up the same way:
    environment, then the file, then the default."""
    from owui_dev.config import ConfigFile, Origin, merge_env

    _raise_file_error(ctx)
    file, profile, file_origins = ctx.meta.get(_LOADED, (ConfigFile(), None, {}))
    values: dict[str, Any] = {}
    layers: dict[str, Layer] = {}
    origins: dict[str, Origin] = {}
    for param in setting_params(settings_command):
        name = str(param.name)
        if name in ctx.params:
            value, source = ctx.params[name], ctx.get_parameter_source(name)
        else:
            value, source = param.consume_value(ctx, {})
            ctx.set_parameter_source(name, source)
            try:
                value = param.process_value(ctx, value)
            except click.BadParameter as err:
                err.ctx = ctx
                raise UsageError(err.format_message(), hint="Fix that value, or unset the variable.") from None
        layer = _layer(source, file_origins.get(name))
        values[name], layers[name] = value, layer
        if layer in (Layer.FILE, Layer.PROFILE):
            origins[name] = file_origins[name]
        elif layer is Layer.ENVIRONMENT and isinstance(param.envvar, str):
            origins[name] = Origin(param.envvar, key=file_key(name), environment=True)
    lower_env = (ctx.default_map or {}).get("env")
    if lower_env and layers.get("env", Layer.DEFAULT) >= Layer.ENVIRONMENT:
        # --env (or OWUI_DEV_ENV) adds to the file's env per key instead of replacing it.
        values["env"] = tuple(merge_env(lower_env, values["env"]))
    for group in ONE_CHOICE:
        top = max(layers[name] for name in group)
        for name in group:
            if Layer.DEFAULT < layers[name] < top:  # a higher layer made this choice the other way
                param = next(p for p in setting_params(settings_command) if p.name == name)
                values[name], layers[name] = param.get_default(ctx), Layer.DEFAULT
                origins.pop(name, None)
    return Resolved(values, layers, origins, file, profile)


def _layer(source: ParameterSource | None, origin: Origin | None) -> Layer:
    if source is ParameterSource.COMMANDLINE:
        return Layer.FLAG
    if source is ParameterSource.ENVIRONMENT:
        return Layer.ENVIRONMENT
    if source is ParameterSource.DEFAULT_MAP and origin is not None:
        return Layer.FILE if origin.section == "up" else Layer.PROFILE
    return Layer.DEFAULT


# -- owui-dev config show ---------------------------------------------------------------------------

MASK = "********"
# Names of Open WebUI settings (--env) whose values are secrets: API keys, the session secret, passwords.
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def describe(resolved: Resolved, settings: UpSettings, command: click.Command) -> dict[str, Any]:
    """Each visible setting of `up`: the value it runs with (secrets masked), its layer, and where it was set."""
    from owui_dev.config import Secret

    rows: dict[str, Any] = {}
    for param in setting_params(command):
        if param.hidden:
            continue
        name = str(param.name)
        value: Any = getattr(settings, name, resolved.values[name])  # what `up` runs with, e.g. port 3000
        if name == "env":
            value = {key: MASK if _SECRET_NAME.search(key) else text for key, text in settings.environment}
        elif isinstance(value, Secret):
            value = MASK
        layer = resolved.layers[name]
        origin = resolved.origins.get(name)
        where = {Layer.DEFAULT: None, Layer.FLAG: param.opts[0]}.get(layer, origin.where if origin else None)
        if layer is Layer.ENVIRONMENT and origin is not None:
            where = origin.flag
        rows[file_key(name) or name] = {"value": _plain(value), "source": layer.label, "from": where}
    return rows


def _plain(value: Any) -> Any:
    """JSON's types: enums as their text, paths as text, tuples as lists."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value
