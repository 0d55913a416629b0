"""Every failure a user can meet, as one hierarchy.

Adapters raise these (translating third-party errors at their edge); only the CLI turns them into a
message, a hint and an exit code. Each class owns its exit code so the README table and the code cannot
disagree: `EXIT_CODES` is generated from the classes below.
"""

from __future__ import annotations

from collections.abc import Sequence


class OwuiDevError(Exception):
    """A failure with a message for a person: what happened, and (hint) what to do about it."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Evidence worth showing under the message, such as the container's last log lines.
        self.details = list(details)

    def as_dict(self) -> dict[str, object]:
        return {
            "error": self.kind,
            "message": self.message,
            "hint": self.hint,
            "details": self.details,
            "exit_code": self.exit_code,
        }


class UsageError(OwuiDevError):
    """Bad input, found before any side effect."""

    exit_code = 2
    kind = "usage"


class DockerUnavailableError(OwuiDevError):
    exit_code = 3
    kind = "docker-unavailable"


class ImageError(OwuiDevError):
    exit_code = 4
    kind = "image"


class ContainerError(OwuiDevError):
    exit_code = 5
    kind = "container"


class NameConflictError(ContainerError):
    kind = "name-conflict"


class PortInUseError(ContainerError):
    kind = "port-in-use"


class ContainerNotFoundError(ContainerError):
    kind = "container-not-found"


class ContainerExitedError(ContainerError):
    kind = "container-exited"


class GpuUnavailableError(ContainerError):
    """--gpu on an engine that offers no GPU."""


class NotReadyError(OwuiDevError):
    exit_code = 6
    kind = "not-ready"


class NgrokError(OwuiDevError):
    exit_code = 7
    kind = "ngrok"


class NgrokBinaryError(NgrokError):
    kind = "ngrok-binary"


class AuthtokenError(NgrokError):
    kind = "ngrok-authtoken"


class TunnelError(NgrokError):
    kind = "tunnel"


class TunnelVerifyError(OwuiDevError):
    exit_code = 8
    kind = "tunnel-verify"


class AlreadyRunningError(OwuiDevError):
    exit_code = 9
    kind = "already-running"


class ChecksFailedError(OwuiDevError):
    """`owui-dev doctor` found at least one failing check (each check reports its own fix)."""

    exit_code = 10
    kind = "checks-failed"


class UnsafeExposureError(OwuiDevError):
    """Refused before the tunnel opens: on a public URL this instance would be open to strangers."""

    exit_code = 11
    kind = "unsafe-exposure"


class StorageError(OwuiDevError):
    """A folder owui-dev keeps its files in (its state, ngrok's config) is missing, a file, or not writable."""

    exit_code = 12
    kind = "storage"


class NotRunningError(OwuiDevError):
    """`qr` and `check` read what a running `up` published; there is none for that name."""

    exit_code = 13
    kind = "not-running"


class CallCheckFailedError(OwuiDevError):
    """`owui-dev check` found a call-path check that fails (each check says how to fix it)."""

    exit_code = 14
    kind = "call-check-failed"


class Interrupted(Exception):  # noqa: N818 - a stop the user asked for, not an error
    """Raised in the main thread on SIGTERM so that teardown runs as it does for Ctrl+C."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


EXIT_OK = 0
EXIT_INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    0: "success; also Ctrl+C / SIGTERM after the URL was announced (a normal stop)",
    1: "unexpected internal error (a bug: please report it with --debug output)",
    UsageError.exit_code: "bad arguments or settings, found before anything was started "
    "(or, for --guest, undone at once)",
    DockerUnavailableError.exit_code: "the Docker engine cannot be reached (or, for a remote ssh:// engine, "
    "the SSH forward to its Open WebUI cannot be opened)",
    ImageError.exit_code: "the image is missing or could not be pulled",
    ContainerError.exit_code: "container problem: name taken by another container, port in use, "
    "container not found, the container exited, or no GPU for --gpu",
    NotReadyError.exit_code: "Open WebUI did not become healthy within --timeout",
    NgrokError.exit_code: "ngrok problem: binary, authtoken, account limits, or the tunnel could not open",
    TunnelVerifyError.exit_code: "the tunnel opened but Open WebUI did not answer through it over HTTPS",
    AlreadyRunningError.exit_code: "another `owui-dev up` already runs for this container name",
    ChecksFailedError.exit_code: "owui-dev doctor found a failing check",
    UnsafeExposureError.exit_code: "refused to open a public tunnel: anyone with the URL could use or claim "
    "the instance (authentication off, trusted headers, or no admin could be secured)",
    StorageError.exit_code: "a folder owui-dev keeps its files in (its state, ngrok's config) is not a writable folder",
    NotRunningError.exit_code: "no `owui-dev up` runs for that name (`qr`, `check`)",
    CallCheckFailedError.exit_code: "owui-dev check found a call-path check that fails",
    EXIT_INTERRUPTED: "interrupted (Ctrl+C / SIGTERM) before the URL was announced; "
    "what the run had started was undone",
}
