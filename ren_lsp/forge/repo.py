"""The repository side of a pull request: what there is to propose, the branch, the commit
and the push, each through the real git (``ren_lsp.forge.git``).

Nothing here touches the user's working files: staging, committing and ``git switch -c``
leave them byte-identical; secret files (the context engine's rules) are never staged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from ren_lsp.context import is_secret_file
from ren_lsp.forge.git import NETWORK_TIMEOUT, Git, GitError

#: the remote that names the repository a fork's pull requests open on, beside ``origin``
UPSTREAM = "upstream"


class RepoError(Exception):
    """The repository cannot be proposed from as it is (the message says what to do)."""


@attrs.define
class Plan:
    """What ``check`` found: where to push, what to compare with, what to commit."""

    root: Path
    remote: str
    remote_url: str
    base: str
    #: the ref the base is compared with (the remote-tracking branch when there is one)
    base_ref: str | None
    #: the checked-out branch; None when HEAD is detached
    branch: str | None
    #: uncommitted changed paths that will be committed
    changes: list[str]
    #: changed secret files, left out and named
    secrets: list[str]
    #: commits on HEAD that the base does not have
    ahead: int
    #: the remote's default branch (None when it could not be told)
    default: str | None = None

    @property
    def needs_branch(self) -> bool:
        """On the base, detached, or on the remote's default branch (pushing that would
        push straight to it): a new branch."""
        return self.branch is None or self.branch in (self.base, self.default)


async def locate(git: Git, remote_arg: str | None) -> tuple[Path, str, str]:
    """(root, remote name, remote URL): the repository and the remote to push to."""
    root = await git.toplevel()
    if root is None:
        raise RepoError(f"{git.cwd} is not in a git repository: run `git init` (and add a "
                        "remote) to propose changes from it")
    git.cwd = root
    remotes = await git.remotes()
    branch = await git.current_branch()
    remote = remote_arg
    if remote is None and branch is not None:
        remote = await git.config(f"branch.{branch}.remote")
        if remote == ".":  # a branch that tracks a local one: no remote of its own
            remote = None
        if remote == UPSTREAM and "origin" in remotes:
            # The fork workflow: main tracks upstream, but what is proposed goes to the fork.
            remote = "origin"
    if remote is None:
        remote = "origin"
    if remote not in remotes:
        if not remotes:
            raise RepoError("the repository has no remote: add the forge's repository with "
                            "`git remote add origin <url>`")
        raise RepoError(f"the repository has no remote {remote!r} (it has "
                        f"{', '.join(remotes)}): pass \"remote\" or add it with "
                        f"`git remote add {remote} <url>`")
    url = await git.config(f"remote.{remote}.pushurl") or await git.config(
        f"remote.{remote}.url")
    if not url:
        raise RepoError(f"the remote {remote!r} has no URL: set one with "
                        f"`git remote set-url {remote} <url>`")
    return root, remote, url


async def default_branch(git: Git, remote: str, auth: Mapping[str, str]) -> str:
    """The remote's default branch: its remote-tracking HEAD, else what the remote says."""
    head = (await git.run("symbolic-ref", "--short", "-q", f"refs/remotes/{remote}/HEAD",
                          check=False)).strip()
    if head.startswith(remote + "/"):
        return head[len(remote) + 1:]
    try:
        out = await git.run("ls-remote", "--symref", remote, "HEAD", timeout=NETWORK_TIMEOUT,
                            extra_env=auth)
    except GitError as exc:
        raise RepoError(f"cannot ask the remote {remote!r} for its default branch ({exc}): "
                        "pass \"base\" (ren-lsp pr --base main)") from None
    for line in out.splitlines():
        if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
            return line[len("ref: refs/heads/"):-len("\tHEAD")]
    raise RepoError(f"the remote {remote!r} has no default branch (is it empty?): push the "
                    "base branch first, or pass \"base\"")


async def check(git: Git, *, remote_arg: str | None, base_arg: str | None,
                secret_patterns: Sequence[str], auth: Mapping[str, str],
                upstream: str | None = None) -> Plan:
    """What there is to propose, or ``RepoError`` saying why nothing can be. ``upstream``:
    the remote of the repository the pull request opens on, when it is not ``remote_arg``
    (its branches are what the base is compared with, when fetched)."""
    root, remote, url = await locate(git, remote_arg)
    branch = await git.current_branch()
    default = None
    if branch is not None or base_arg is None:
        try:
            default = await default_branch(git, remote, auth)
        except RepoError:
            if base_arg is None:
                raise
    base = base_arg or default
    assert base is not None
    base_ref = None
    refs = [f"refs/remotes/{remote}/{base}", f"refs/heads/{base}"]
    if upstream is not None:
        refs.insert(0, f"refs/remotes/{upstream}/{base}")
    for ref in refs:
        if await git.ok("rev-parse", "-q", "--verify", ref + "^{commit}"):
            base_ref = ref
            break
    if base_ref is None:
        raise RepoError(f"the base branch {base!r} is not known here: `git fetch {remote} "
                        f"{base}`, or pass \"base\" with an existing branch")
    changed = await git.changed_paths()
    secrets = [p for p in changed if is_secret_file(p, secret_patterns)]
    changes = [p for p in changed if p not in secrets]
    ahead = 0
    if base_ref is not None and await git.ok("rev-parse", "-q", "--verify", "HEAD"):
        ahead = int((await git.run("rev-list", "--count", f"{base_ref}..HEAD")).strip() or 0)
    plan = Plan(root, remote, url, base, base_ref, branch, changes, secrets, ahead, default)
    if not changes and ahead == 0:
        left = (f" (the only changes are secret files, never committed: "
                f"{', '.join(secrets)})" if secrets else "")
        if branch is None:
            raise RepoError(f"HEAD is detached and has nothing to propose: no uncommitted "
                            f"changes and no commits that {base} lacks{left}; check out a "
                            "branch with commits, or change something first")
        raise RepoError(f"nothing to propose: no uncommitted changes and no commits on "
                        f"{branch} that {remote}/{base} lacks{left}")
    return plan


async def stage(git: Git, paths: Sequence[str]) -> tuple[str, str]:
    """Stage exactly ``paths`` (never anything else); (their staged diff, its stat)."""
    spec = _pathspec(paths)
    await git.run("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=spec)
    # git diff takes no --pathspec-from-file: the paths go as arguments (paths, not secrets).
    literal = [f":(literal){p}" for p in paths]
    diff = await git.run("diff", "--cached", "--no-color", "--no-ext-diff", "--", *literal)
    stat = await git.run("diff", "--cached", "--stat", "--", *literal)
    return diff, stat


async def taken_branches(git: Git, remote: str, auth: Mapping[str, str]) -> set[str]:
    """Branch names in use: local ones and the remote's (asked, when it answers)."""
    out = await git.run("for-each-ref", "--format=%(refname)", "refs/heads",
                        f"refs/remotes/{remote}")
    names = {ref.removeprefix("refs/heads/").removeprefix(f"refs/remotes/{remote}/")
             for ref in out.split()}
    listed = await git.run("ls-remote", "--heads", remote, "refs/heads/ren/*", check=False,
                           timeout=NETWORK_TIMEOUT, extra_env=auth)
    for line in listed.splitlines():
        _, _, ref = line.partition("\t")
        names.add(ref.removeprefix("refs/heads/"))
    return names


async def commit(git: Git, message: str, paths: Sequence[str]) -> str:
    """Commit exactly ``paths`` (staged by ``stage``) with ``message``; the new commit."""
    with tempfile.TemporaryDirectory(prefix="ren-commit-") as directory:
        file = Path(directory) / "message"
        file.write_text(message.rstrip() + "\n", encoding="utf-8")
        # With paths, git commits only those (a secret file the user staged stays out).
        await git.run("commit", "-q", "--cleanup=strip", "-F", str(file),
                      "--pathspec-from-file=-", "--pathspec-file-nul", stdin=_pathspec(paths))
    return (await git.run("rev-parse", "--short", "HEAD")).strip()


async def branch_text(git: Git, base_ref: str) -> tuple[str, str, str, list[str]]:
    """(diff, stat, log, changed files) of HEAD against the base: what the pull request has."""
    diff = await git.run("diff", "--no-color", "--no-ext-diff", f"{base_ref}...HEAD")
    stat = await git.run("diff", "--stat", f"{base_ref}...HEAD")
    log = await git.run("log", "--no-color", "--format=- %s%n%w(0,2,2)%b", f"{base_ref}..HEAD")
    files = (await git.run("diff", "--name-only", "-z", f"{base_ref}...HEAD")).split("\0")
    return diff, stat, log.strip(), [f for f in files if f]


async def push(git: Git, remote: str, branch: str, auth: Mapping[str, str], *,
               slug: str = "", can_push: bool | None = None) -> None:
    """``git push -u <remote> <branch>``, never forced; a rejection explained (``slug`` and
    ``can_push``: the pushed repository and whether the forge said the token may push)."""
    try:
        await git.run("push", "-u", remote, f"refs/heads/{branch}:refs/heads/{branch}",
                      timeout=NETWORK_TIMEOUT, extra_env=auth)
    except GitError as exc:
        raise RepoError(push_message(str(exc), exc.stderr, remote, branch, slug=slug,
                                     can_push=can_push)) from None


def push_message(message: str, stderr: str, remote: str, branch: str, *, slug: str = "",
                 can_push: bool | None = None) -> str:
    """One clear message for a failed push, with git's own words and the fix."""
    text = stderr.lower()
    kept = f"the local branch {branch} and its commits are kept"
    denied = "error: 403" in text or ("permission to" in text and "denied" in text)
    if denied or (can_push is False and "403" in text):
        # Authenticated, but not allowed: most often someone else's repository.
        name = f"{remote} ({slug})" if slug else remote
        why = ("the forge says you have no push access to it" if can_push is False else
               "no push access with these credentials")
        return (f"{name} refused the push of {branch}: {why} ({message}); {kept}: if the "
                "repository is not yours, fork it on the forge, add your fork as a remote "
                "(git remote add fork <your fork's URL>) and run again with \"remote\": "
                "\"fork\" (ren-lsp pr --remote fork); if it is yours, give the token write "
                "access")
    if "protected branch" in text or "gh006" in text or "pre-receive hook declined" in text:
        return (f"{remote} refused the push of {branch}: the branch is protected ({message}); "
                f"{kept}: propose from another branch (git switch -c <name>) and run again")
    if "non-fast-forward" in text or "fetch first" in text or "[rejected]" in text:
        return (f"{remote} refused the push of {branch}: it has commits your branch lacks "
                f"({message}); {kept}: `git pull --rebase {remote} {branch}` and run again "
                "(ren-lsp never force-pushes)")
    if ("authentication failed" in text or "could not read username" in text
            or "could not read password" in text or "403" in text or "permission" in text):
        return (f"{remote} refused the credentials for the push ({message}); {kept}: give git "
                "a credential for the host, or set GH_TOKEN (GITLAB_TOKEN, GITEA_TOKEN) or "
                "forge.tokenCommand")
    return f"git push to {remote} failed: {message}; {kept}"


def _pathspec(paths: Sequence[str]) -> bytes:
    # :(literal): a file named "*.py" or ":x" is itself, not a pattern or a magic pathspec.
    return b"\0".join(f":(literal){p}".encode() for p in paths)
