"""The forge token: the forge's usual variables, ``forge.tokenCommand``, or git's credentials.

In that order: ``GH_TOKEN`` / ``GITHUB_TOKEN`` (GitHub), ``GITLAB_TOKEN`` (GitLab),
``GITEA_TOKEN`` (Gitea); the first line ``forge.tokenCommand`` prints (``gh auth token``);
the password the git credential helper holds for the host. Never logged, never in argv.
"""

from __future__ import annotations

import asyncio
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
    from ren_lsp.keys import secret_from_command

    what = f"forge.tokenCommand `{command}`"
    # A password manager may take seconds: never on the event loop.
    token = await asyncio.to_thread(secret_from_command, command, what, TokenError,
                                    timeout=timeout)
    if token is None:
        raise TokenError(f"{what} is empty")
    return token


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
