"""The forge token: the forge's usual variables, ``forge.tokenCommand``, or git's credentials.

In that order: ``GH_TOKEN`` / ``GITHUB_TOKEN`` (GitHub), ``GITLAB_TOKEN`` (GitLab),
``GITEA_TOKEN`` (Gitea); the first line ``forge.tokenCommand`` prints (``gh auth token``);
the password the git credential helper holds for the host. Never logged, never in argv.
"""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Mapping

from ren_lsp.forge.git import Git, GitError
from ren_lsp.forge.remote import Remote

VARIABLES: Mapping[str, tuple[str, ...]] = {
    "github": ("GH_TOKEN", "GITHUB_TOKEN"), "gitlab": ("GITLAB_TOKEN",),
    "gitea": ("GITEA_TOKEN",)}
#: the user name that goes with a token over git's https (any works for Gitea)
USERNAMES: Mapping[str, str] = {"github": "x-access-token", "gitlab": "oauth2",
                                "gitea": "ren-lsp"}


class TokenError(Exception):
    """The token could not be found or the command failed (the message says the fix)."""


async def resolve_token(provider: str, remote: Remote, git: Git, env: Mapping[str, str],
                        command: str | None, *, timeout: float = 10.0,  # noqa: ASYNC109
                        ) -> str | None:
    """The token for ``remote``'s forge, or None when no source has one."""
    for name in VARIABLES[provider]:
        value = env.get(name, "").strip()
        if value:
            return value
    if command:
        return await _from_command(command, timeout)
    return await _from_credential_helper(git, remote)


async def _from_command(command: str, timeout: float) -> str:  # noqa: ASYNC109
    what = f"forge.tokenCommand `{command}`"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise TokenError(f"{what} could not be parsed ({exc})") from None
    if not argv:
        raise TokenError(f"{what} is empty")
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL)
    except OSError as exc:
        raise TokenError(f"{what} could not be run ({exc.strerror})") from None
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise TokenError(f"{what} did not finish within {timeout:g} s") from None
    if process.returncode != 0:
        raise TokenError(f"{what} failed with exit status {process.returncode} (run it in a "
                         "terminal to see why)")
    lines = out.decode("utf-8", "replace").strip().splitlines()
    if not lines:
        raise TokenError(f"{what} printed nothing")
    return lines[0].strip()


async def _from_credential_helper(git: Git, remote: Remote) -> str | None:
    """The password git's credential helpers hold for the host (no prompt: None if none)."""
    query = f"protocol={remote.scheme}\nhost={remote.host}\n\n".encode()
    try:
        # GIT_ASKPASS=true: no prompt program either (a GUI askpass would pop up otherwise).
        out = await git.run("credential", "fill", stdin=query, timeout=20,
                            extra_env={"GIT_ASKPASS": "true"})
    except GitError:
        return None  # no helper, or it has nothing for this host
    for line in out.splitlines():
        key, _, value = line.partition("=")
        if key == "password" and value:
            return value
    return None
