"""Run a function as a user who may read but not write, also when the tests run as root.

Root ignores file permissions, so as root the function runs in a forked child that has
switched to the unprivileged user ``nobody`` (uid 65534); otherwise it runs here, where
permissions apply already. Everything the function needs must be imported before the fork
(``nobody`` may not be able to read the Python installation).
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

NOBODY = 65534


def _call(fn: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"value": repr(fn())}
    except BaseException as err:  # noqa: BLE001 - reported to the test
        return {"error": type(err).__name__, "message": str(err),
                "bases": [c.__name__ for c in type(err).__mro__]}


def unprivileged(fn: Callable[[], Any]) -> dict[str, Any]:
    """``{"value": repr(result)}`` or ``{"error": name, "message": text, "bases": [...]}``."""
    if os.geteuid() != 0:
        return _call(fn)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop root, run, report, never return into pytest
        try:
            os.close(read)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write, json.dumps(_call(fn)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        text = f.read()
    os.waitpid(pid, 0)
    return json.loads(text)


@contextmanager
def shared_folder() -> Iterator[Path]:
    """A fresh folder under the system temp dir that the unprivileged user can enter.

    (pytest's ``tmp_path`` sits below a folder only its owner may enter.)
    """
    folder = Path(tempfile.mkdtemp(prefix="qcgrad-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


def read_only(folder: Path) -> None:
    """Make ``folder`` and every file in it read-only for everybody."""
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
