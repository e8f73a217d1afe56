"""Commands the agent runs: approval first, then a process group of their own in the workspace
root, with a timeout, no stdin, and the tail of their output kept.

Approval (DESIGN.md): ``window/showMessageRequest`` naming the exact command, with ``Run``,
``Skip``, ``Stop`` and "Run all `<program>` commands in this session". The run's ``verify``
command and the ``agent.allowedCommands`` prefixes run without asking, unless the command is
destructive or chains others through the shell, which always asks. A client that cannot ask
(Helix) runs only those pre-approved commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from ren_lsp.lsp.features.agent.tools import Outcome

if TYPE_CHECKING:
    from ren_lsp.lsp.sessions import Session

#: characters of a command's output the model gets (the tail: where failures are)
OUTPUT_TAIL = 6_000

RUN, SKIP, STOP = "Run", "Skip", "Stop"

_DESTRUCTIVE = re.compile(
    r"""(?x)
    \brm\s+(-\w*[rR]\w*|--recursive)\b      # rm -r, -rf, -fr, --recursive
    | \bgit\s+reset\s+.*--hard\b
    | \bgit\s+clean\b
    | \bgit\s+push\b.*(\s-f\b|--force)
    | \bgit\s+checkout\s+(--\s+)?\.(\s|$)
    | \bsudo\b | \bdoas\b | \bmkfs | \bdd\s+ | \bshred\b
    | \bchmod\s+-R\b | \bchown\s+-R\b
    | >\s*/dev/(sd|nvme|disk)
    | :\(\)\s*\{                             # a fork bomb
    """)
#: shell operators that run more than the approved program
_CHAINS = re.compile(r"[;&|`<>\n]|\$\(")


def is_destructive(command: str) -> bool:
    """Whether a command can destroy work beyond undo (always asked, whatever the settings)."""
    return bool(_DESTRUCTIVE.search(command))


def program_of(command: str) -> str:
    """The program a command runs (its first word), for "run all … commands"."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    return words[0] if words else command


def _words(command: str) -> list[str] | None:
    try:
        return shlex.split(command)
    except ValueError:
        return None


def pre_approved(command: str, *, verify: str | None, prefixes: list[str]) -> bool:
    """Whether a command runs without asking: the verify command, or an allowed prefix
    word for word, and neither destructive nor chaining other commands."""
    if is_destructive(command):
        return False
    if verify is not None and command.strip() == verify.strip():
        return True
    if _CHAINS.search(command):
        return False
    words = _words(command)
    if not words:
        return False
    for prefix in prefixes:
        wanted = _words(prefix)
        if wanted and words[:len(wanted)] == wanted:
            return True
    return False


class StopRun(Exception):
    """The user chose Stop: the run ends here."""


@attrs.define
class Finished:
    exit_code: int | None  # None: killed (timeout)
    output: str
    seconds: float


class CommandRunner:
    """Runs one agent run's commands, asking first where the rules say so."""

    def __init__(self, session: Session, root: Path, *, verify: str | None,
                 prefixes: list[str], timeout: float) -> None:
        self.session = session
        self.root = root
        self.verify = verify
        self.prefixes = list(prefixes)
        self.timeout = timeout
        #: programs the user allowed for the rest of the session
        self.programs: set[str] = set()

    async def run(self, command: str) -> Outcome:
        """The ``run_command`` tool: approval, then the command; StopRun if the user stops."""
        approved = pre_approved(command, verify=self.verify, prefixes=self.prefixes) or (
            not is_destructive(command) and not _CHAINS.search(command)
            and program_of(command) in self.programs)
        if not approved:
            everything = f"Run all `{program_of(command)}` commands in this session"
            danger = " It can destroy work that undo cannot bring back." \
                if is_destructive(command) else ""
            actions = [RUN, SKIP, STOP]
            if not is_destructive(command) and not _CHAINS.search(command):
                actions.append(everything)
            choice = await self.session.confirm(
                f"Astra wants to run in {self.root.name}: {command}{danger}", actions)
            if choice is None:
                if not self.session.can_confirm():
                    return Outcome(
                        f"Not run: the user could not be asked to approve `{command}` (this "
                        "editor cannot ask). Only the verify command and the agent."
                        "allowedCommands prefixes run here.", True, "not run: cannot ask")
                choice = SKIP  # the question was dismissed
            if choice == STOP:
                raise StopRun(f"stopped by the user at `{command}`")
            if choice == SKIP:
                return Outcome(f"The user skipped `{command}`: it was not run. Go on without "
                               "it, or explain why it is needed.", True, "skipped by the user")
            if choice == everything:
                self.programs.add(program_of(command))
        done = await self.execute(command)
        return self.outcome(command, done)

    def outcome(self, command: str, done: Finished) -> Outcome:
        if done.exit_code is None:
            return Outcome(f"`{command}` was killed after {self.timeout:g} s (the "
                           f"agent.commandTimeout setting). Output so far:\n"
                           f"{tail(done.output)}", True, "timed out")
        return Outcome(f"`{command}` exited with status {done.exit_code} in "
                       f"{done.seconds:.1f} s. Output:\n{tail(done.output)}",
                       done.exit_code != 0, f"exit {done.exit_code}", exit_code=done.exit_code)

    async def execute(self, command: str) -> Finished:
        """Run ``command`` through the shell in its own process group; a cancel or timeout
        kills the whole group at once."""
        started = time.monotonic()
        proc = await asyncio.create_subprocess_shell(
            command, cwd=self.root, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True, env=command_env())
        chunks: list[bytes] = []

        async def read() -> None:
            assert proc.stdout is not None
            while chunk := await proc.stdout.read(65536):
                chunks.append(chunk)
                if sum(map(len, chunks)) > 4 * OUTPUT_TAIL:  # keep the tail only
                    joined = b"".join(chunks)[-2 * OUTPUT_TAIL:]
                    chunks[:] = [joined]

        try:
            async with asyncio.timeout(self.timeout):
                await read()
                code: int | None = await proc.wait()
        except TimeoutError:
            _kill(proc.pid)
            await proc.wait()
            code = None
        except BaseException:
            _kill(proc.pid)  # cancelled: the whole group goes, at once
            with contextlib.suppress(Exception):
                await asyncio.shield(proc.wait())
            raise
        output = b"".join(chunks).decode("utf-8", "replace")
        return Finished(code, output, time.monotonic() - started)


#: the model keys ren-lsp holds: a command the agent runs never inherits them
MODEL_KEYS = ("REN_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "REN_API_KEY_COMMAND")


def command_env() -> dict[str, str]:
    """The environment of an agent's command: the server's, without the model keys, no
    prompts (git would wait on a terminal nobody sees)."""
    env = {k: v for k, v in os.environ.items() if k not in MODEL_KEYS}
    env.update(CI="1", GIT_TERMINAL_PROMPT="0")
    return env


def _kill(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def tail(output: str) -> str:
    """The end of a command's output, where its failures are."""
    if len(output) <= OUTPUT_TAIL:
        return output or "(no output)"
    return f"[… {len(output) - OUTPUT_TAIL} characters cut before this]\n" + output[-OUTPUT_TAIL:]
