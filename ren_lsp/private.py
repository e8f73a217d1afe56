"""Files only their owner can read: everything the server writes holds code, answers or keys.

The server's own folders (``<state dir>/ren-lsp`` and what is under it) are 0700, tightened
when they already exist with a wider mode (an older version made them 0755); a folder the user
named (the log file's) is created 0700 when missing and otherwise left as the user has it.
Every file is 0600, an existing one tightened too, before a byte is written to it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path, *, tighten: bool = True) -> Path:
    """Make ``path`` (and missing parents) exist; ``path`` itself 0700 when it is created, and
    also when it exists with a wider mode if ``tighten`` (the server's own folders)."""
    path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
    if tighten:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            with contextlib.suppress(OSError):  # not ours to change: the files are still 0600
                path.chmod(mode & ~0o077 | 0o700)
    return path


def open_private(path: Path, mode: str = "w") -> IO[str]:
    """Open a text file for writing (``"w"``) or appending (``"a"``), readable by its owner
    only, whatever mode the file had before."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)
    except OSError:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, mode, encoding="utf-8")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a 0600 file."""
    with open_private(path, "w") as file:
        file.write(text)
