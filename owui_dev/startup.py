"""The garbage collector waits while a command starts.

Start-up is mostly imports (click, docker-py with requests, pyngrok: some 500 modules), and Python's cyclic
collector, run every 700 new objects, would walk the growing heap again and again while they load: about a
sixth of the time before `up` can start the container. Nearly all of those objects (modules, classes,
functions) live as long as the process, so once a command has imported what it needs they are frozen out of
every later collection and the collector runs as usual from there."""

from __future__ import annotations

import gc


def pause_collector() -> None:
    gc.disable()


def start_up_over() -> None:
    """Idempotent; every command that keeps running (`up`, `logs --follow`) calls it once its imports are done."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
