"""Resolving the API key: the setting, else the first line a key command prints."""

from __future__ import annotations

import shlex
import subprocess
from typing import TYPE_CHECKING

from ren_lsp.models.errors import MissingKeyError

if TYPE_CHECKING:
    from ren_lsp.config import Settings


def resolve_api_key(settings: Settings, *, timeout: float = 10.0) -> str | None:
    """The API key: ``settings.api_key``, else the first line ``api_key_command`` prints.

    Returns None when neither is set (the caller raises ``MissingKeyError()``). Raises
    ``MissingKeyError`` naming the command and how it failed, never what it printed.
    """
    if settings.api_key:
        return settings.api_key
    command = settings.api_key_command
    if not command:
        return None
    return secret_from_command(command, f"apiKeyCommand `{command}`", MissingKeyError,
                               timeout=timeout)


def secret_from_command(command: str, what: str, error: type[Exception], *,
                        timeout: float = 10.0) -> str | None:
    """The first line a secret's command prints (``pass show …``, ``gh auth token``); None for
    an empty command. Raises ``error`` naming ``what`` and how it failed, never what it printed.
    Runs without a shell; stdin and stdout are not ours (over stdio they are the LSP transport).
    """
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise error(f"{what} could not be parsed ({exc})") from None
    if not argv:
        return None
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise error(f"{what} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise error(f"{what} could not be run ({exc.strerror})") from None
    if done.returncode != 0:
        raise error(
            f"{what} failed with exit status {done.returncode} (run it in a terminal to see why)"
        )
    lines = done.stdout.decode("utf-8", errors="replace").strip().splitlines()
    if not lines:
        raise error(f"{what} printed nothing (exit status 0)")
    # `pass show` prints the secret on the first line and optional metadata after it.
    return lines[0].strip()
