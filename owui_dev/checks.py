"""One shape for every check owui-dev runs — `doctor`'s preflight and the call-path checks of `up` and
`check` — so that one renderer (table or JSON) serves them all."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    id: str  # stable, for machines
    name: str  # for people
    status: Status
    detail: str
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_check(ids: tuple[str, str], status: Status, detail: str, hint: str | None = None) -> Check:
    """A check of the kind `ids` = (id, name)."""
    return Check(ids[0], ids[1], status, detail, hint)


def failed(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check.status == "fail"]


def report(checks: list[Check]) -> dict[str, Any]:
    """The `--json` shape: every check, and ok = no check failed (warnings do not count)."""
    return {"checks": [check.as_dict() for check in checks], "ok": not failed(checks)}
