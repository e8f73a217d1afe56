"""Where a pull request opens: on the repository pushed to, or on its parent when that is a
fork.

Two signs, in this order, as users set forks up: an ``upstream`` remote beside the one pushed
to (``git remote add upstream <parent>``: push to origin, open on upstream), else the forge
saying the pushed repository is a fork (GitHub's and Gitea's ``fork`` and ``parent``,
GitLab's ``forked_from_project``). When the forge cannot be asked, the pushed repository is
the target and ``note`` says why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import attrs

from ren_lsp.forge.api import Forge, ForgeError, Parent, RepoInfo
from ren_lsp.forge.git import Git
from ren_lsp.forge.remote import Remote, RemoteError, parse_remote_url
from ren_lsp.forge.repo import UPSTREAM, RepoError, default_branch

log = logging.getLogger(__name__)


@attrs.frozen
class Target:
    """The parent a pull request opens on (None: the pushed repository itself)."""

    parent: Parent | None = None
    #: the local remote that holds the parent's branches, when there is one
    upstream: str | None = None
    #: what the forge said of the pushed repository (None: not asked, or it failed)
    info: RepoInfo | None = None
    #: why the forge could not say whether the pushed repository is a fork
    note: str | None = None


async def find_target(git: Git, forge: Forge, pushed: str, auth: Mapping[str, str]) -> Target:
    """The target of a pull request pushed to the remote ``pushed`` (``forge.remote``)."""
    remotes = await _remote_repositories(git)
    upstream = remotes.get(UPSTREAM)
    if pushed != UPSTREAM and upstream is not None and _other(upstream, forge.remote):
        try:
            default: str | None = await default_branch(git, UPSTREAM, auth)
        except RepoError as error:  # the base argument, or the check, says what to do
            log.info("the upstream remote's default branch is unknown: %s", error)
            default = None
        return Target(Parent(upstream, default), UPSTREAM)
    try:
        info = await forge.repository()
    except ForgeError as error:
        log.info("could not ask the forge whether %s is a fork: %s", forge.remote.slug, error)
        return Target(note=f"the forge could not say whether {forge.remote.slug} is a fork "
                           f"({error})")
    parent = info.parent
    if parent is None or not _other(parent.remote, forge.remote):
        return Target(info=info)
    holder = next((name for name, found in remotes.items()
                   if name != pushed and found.slug == parent.remote.slug), None)
    return Target(parent, holder, info)


def _other(candidate: Remote, pushed: Remote) -> bool:
    """Another repository on the same forge (a parent on another host cannot take the pull
    request from this one)."""
    return candidate.host == pushed.host and candidate.slug != pushed.slug


async def _remote_repositories(git: Git) -> dict[str, Remote]:
    """The forge repository of each remote whose URL names one."""
    found = {}
    for name in await git.remotes():
        url = await git.config(f"remote.{name}.url")
        if not url:
            continue
        try:
            found[name] = parse_remote_url(url)
        except RemoteError:
            continue  # a local path or another scheme: not a forge repository
    return found
