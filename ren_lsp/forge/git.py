"""Running the real ``git`` CLI: argv lists, no shell, no prompts, a timeout, git's own words.

Everything pull requests need from a repository goes through ``Git.run``. A forge token is
handed to git only through ``askpass``: a small script (which holds no secret) that prints the
token from the environment of that one git process, so the token is never on a command line,
in a URL or in ``.git/config``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

#: seconds a local git command may take; a push or ls-remote gets ``NETWORK_TIMEOUT``
TIMEOUT = 60.0
NETWORK_TIMEOUT = 300.0

_ASKPASS = """#!/bin/sh
# ren-lsp: answers git's credential prompt from this process's environment (no secret here).
case "$1" in
  Username*|username*) printf '%s\\n' "$REN_GIT_USERNAME" ;;
  *) printf '%s\\n' "$REN_GIT_PASSWORD" ;;
esac
"""


class GitError(Exception):
    """A git command failed; the message is git's own (its last lines of stderr)."""

    def __init__(self, message: str, *, argv: tuple[str, ...] = (), stderr: str = "",
                 code: int | None = None) -> None:
        super().__init__(message)
        self.argv = argv
        self.stderr = stderr
        self.code = code


class Git:
    """One repository's git, run as a subprocess from ``cwd``."""

    def __init__(self, cwd: Path, *, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self._env = dict(os.environ if env is None else env)
        # Never a prompt: the server has no terminal, and a prompt would hang the session.
        self._env["GIT_TERMINAL_PROMPT"] = "0"
        self._env.pop("GIT_ASKPASS", None)
        self._env.setdefault("LC_ALL", "C")  # git's messages in English: we match on them

    async def run(self, *args: str, stdin: bytes | None = None, check: bool = True,
                  timeout: float = TIMEOUT,  # noqa: ASYNC109
                  extra_env: Mapping[str, str] | None = None) -> str:
        """``git <args>``; its stdout. Raises ``GitError`` with git's message when it fails
        (unless ``check`` is false) or does not finish within ``timeout`` seconds."""
        argv = ("git", *args)
        env = {**self._env, **(extra_env or {})}
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=self.cwd, env=env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                start_new_session=True)
        except FileNotFoundError:
            raise GitError("git is not installed (or not on PATH): install git") from None
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
            raise GitError(f"`git {args[0]}` did not finish within {timeout:g} s",
                           argv=argv) from None
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        stderr = err.decode("utf-8", "replace")
        if check and process.returncode != 0:
            raise GitError(git_message(stderr) or f"`git {args[0]}` failed with exit status "
                           f"{process.returncode}", argv=argv, stderr=stderr,
                           code=process.returncode)
        return out.decode("utf-8", "replace")

    async def ok(self, *args: str) -> bool:
        """Whether ``git <args>`` succeeds (for questions git answers with its exit status)."""
        try:
            await self.run(*args)
        except GitError:
            return False
        return True

    async def toplevel(self) -> Path | None:
        """The repository's root, or None when ``cwd`` is not inside one."""
        try:
            return Path((await self.run("rev-parse", "--show-toplevel")).strip())
        except GitError:
            return None

    async def current_branch(self) -> str | None:
        """The checked-out branch, or None when HEAD is detached (or there is no commit)."""
        name = (await self.run("symbolic-ref", "--short", "-q", "HEAD", check=False)).strip()
        return name or None

    async def config(self, key: str) -> str | None:
        value = (await self.run("config", "--get", key, check=False)).strip()
        return value or None

    async def remotes(self) -> list[str]:
        return (await self.run("remote")).split()

    async def changed_paths(self) -> list[str]:
        """Every path with uncommitted changes (staged, unstaged, untracked; renames give
        both paths), as git prints them, ignored files left out."""
        out = await self.run("status", "--porcelain=v1", "-z", "--untracked-files=all")
        paths: list[str] = []
        fields = iter(out.split("\0"))
        for entry in fields:
            if len(entry) < 4:
                continue
            paths.append(entry[3:])
            if entry[0] in "RC":  # a rename or copy: its source path follows
                paths.append(next(fields, ""))
        return [p for p in paths if p]


def git_message(stderr: str, lines: int = 6) -> str:
    """git's own explanation: the last few meaningful lines of its stderr, joined."""
    kept = [line.strip() for line in stderr.splitlines()
            if line.strip() and not line.startswith(("hint:", "To "))]
    return " ".join(kept[-lines:])


@contextlib.contextmanager
def askpass(username: str, token: str | None) -> Iterator[dict[str, str]]:
    """The environment that gives git ``token`` when it asks for a password (and only then:
    git first uses the user's own credential helpers). Empty when there is no token."""
    if not token:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="ren-askpass-") as directory:
        script = Path(directory) / "askpass.sh"
        script.write_text(_ASKPASS, encoding="utf-8")
        script.chmod(stat.S_IRWXU)
        yield {"GIT_ASKPASS": str(script), "SSH_ASKPASS_REQUIRE": "never",
               "REN_GIT_USERNAME": username, "REN_GIT_PASSWORD": token}
