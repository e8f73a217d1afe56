"""Create pull request (``ren.createPullRequest``): check, branch, commit, title and body,
confirm on an editable preview, push, open it on the forge, say where it is.

The contract is DESIGN.md's "Pull requests". git runs as the real CLI (``ren_lsp.forge.git``),
the forge is reached over its REST API (``ren_lsp.forge.api``); this module only orders the
steps and talks to the user. Whatever fails after the commit leaves the branch and the commit
in place, and the title and description in the preview document.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from lsprotocol import types

from ren_lsp import prompts
from ren_lsp.lsp.commands import register_command
from ren_lsp.lsp.sessions import SessionError
from ren_lsp.models import Request

if TYPE_CHECKING:
    from ren_lsp.forge import PullRequest
    from ren_lsp.forge.api import Forge
    from ren_lsp.forge.fork import Target
    from ren_lsp.forge.git import Git
    from ren_lsp.forge.repo import Plan
    from ren_lsp.lsp.output import OutputDocument
    from ren_lsp.lsp.protocol import Server
    from ren_lsp.lsp.sessions import Session

TITLE = "Astra: Create pull request"


@attrs.define
class PullRequestArgs:
    title: str | None = None
    body: str | None = None
    base: str | None = None
    draft: bool | None = None
    remote: str | None = None
    yes: bool = False


def create_pull_request(ls: Server, arg: PullRequestArgs) -> dict[str, str]:
    root = ls.workspace.root_path
    if not root:
        from ren_lsp.lsp.documents import invalid

        raise invalid("ren.createPullRequest needs a workspace folder: open the repository's "
                      "folder in the editor")

    async def run(s: Session) -> str:
        from ren_lsp.forge import ForgeError, RemoteError, RepoError, TokenError
        from ren_lsp.forge.git import GitError

        try:
            return await _propose(s, Path(root), arg)
        except (RepoError, ForgeError, RemoteError, TokenError, GitError) as error:
            raise SessionError(s.redact(str(error))) from None

    return ls.sessions.run("ren.createPullRequest", TITLE, run, root=root)


async def _propose(s: Session, root: Path, arg: PullRequestArgs) -> str:
    from ren_lsp.forge import repo
    from ren_lsp.forge.git import Git, askpass

    settings = s.ls.settings
    git = Git(root)
    s.report("checking the repository…")
    _root, remote_name, remote_url = await repo.locate(git, arg.remote)
    forge, token, username = await _forge(s, git, remote_url)
    try:
        with askpass(username, token) as auth:
            target = await _target(s, git, forge, remote_name, auth)
            base_arg = arg.base or (target.parent.default_branch if target.parent else None)
            plan = await repo.check(git, remote_arg=remote_name, base_arg=base_arg,
                                    secret_patterns=settings.secret_files, auth=auth,
                                    upstream=target.upstream)
            s.history.update(remote=plan.remote, base=plan.base, secrets_left_out=plan.secrets)
            branch = await _branch_and_commit(s, git, plan, arg, auth)
            doc, title, body = await _preview(s, git, plan, branch, arg)
            draft = settings.pull_requests__draft if arg.draft is None else arg.draft
            kind = "draft pull request" if draft else "pull request"
            head = forge.head_label(branch) if forge.parent is not None else branch
            where = f"from {head} into {plan.base} on {forge.target.slug}"
            if not arg.yes:
                # A fork the forge could not confirm: said before anything goes public.
                unsure = f" ({target.note}: add the parent as the `upstream` remote to open " \
                    "it there)" if target.note else ""
                confirmed = await _confirm(s, doc, f"Create a {kind} “{title}” {where}?"
                                           + unsure, branch)
                if isinstance(confirmed, str):
                    return confirmed
                title, body = confirmed
            s.history.update(title=title, body=body, branch=branch, draft=draft)
            s.hold()  # from here on: pushed and opened, or a clear message; never half-cut
            s.report(f"pushing {branch} to {plan.remote}…")
            await repo.push(git, plan.remote, branch, auth, slug=forge.remote.slug,
                            can_push=target.info.can_push if target.info else None)
        s.report(f"opening the {kind}…")
        pr = await _open(forge, doc, title=title, body=body, branch=branch, base=plan.base,
                         draft=draft)
    finally:
        await forge.aclose()
    s.history["pull_request"] = pr.url
    await _show_url(s, pr.url)
    secrets = (f" Secret files left out: {', '.join(plan.secrets)}." if plan.secrets else "")
    if pr.existing:
        message = f"A pull request for {branch} is already open: {pr.url} (no second one made)."
    else:
        message = f"Opened the {kind} {where}: {pr.url}"
    note = f" Note: {target.note}." if target.note and not pr.existing else ""
    s.ls.show_message(message + secrets + _left_on(branch, plan) + note,
                      types.MessageType.Info)
    return f"{'Already open' if pr.existing else 'Opened'}: {pr.url}"


async def _forge(s: Session, git: Git, remote_url: str) -> tuple[Forge, str, str]:
    """The forge client of the remote, with its token (known to the log redactor at once)."""
    from ren_lsp.forge.api import FORGES
    from ren_lsp.forge.remote import api_url, parse_remote_url, provider_for
    from ren_lsp.forge.token import USERNAMES, VARIABLES, resolve_token

    settings = s.ls.settings
    refused = s.ls.resolved.blocking_error("forge__provider", "forge__api_url")
    if refused is not None:  # an invalid forge setting never falls back to a guessed API
        raise SessionError(refused)
    remote = parse_remote_url(remote_url)
    provider = provider_for(remote, settings.forge__provider)
    token = await resolve_token(provider, remote, git, os.environ,
                                settings.forge__token_command)
    if not token:
        raise SessionError(
            f"no token for {remote.host}: set {' or '.join(VARIABLES[provider])}, or "
            "forge.tokenCommand (e.g. \"gh auth token\"), or store a credential for the host "
            "in git's credential helper")
    if s.ls.redactor is not None:
        s.ls.redactor.add(token)
    api = api_url(remote, provider, settings.forge__api_url)
    s.history.update(forge=provider, api=api, repository=remote.slug)
    return FORGES[provider](remote, api, token), token, USERNAMES[provider]


async def _target(s: Session, git: Git, forge: Forge, remote_name: str,
                  auth: dict[str, str]) -> Target:
    """Where the pull request opens: the fork's parent (the ``upstream`` remote, or the
    forge's word) or the pushed repository; the forge is aimed there."""
    from ren_lsp.forge.fork import find_target

    s.report(f"asking whether {forge.remote.slug} is a fork…")
    target = await find_target(git, forge, remote_name, auth)
    if target.parent is not None:
        forge.parent = target.parent
        s.history.update(fork=forge.remote.slug, target=target.parent.remote.slug,
                         upstream_remote=target.upstream)
    elif target.note:
        s.history["fork_lookup"] = target.note
    return target


async def _branch_and_commit(s: Session, git: Git, plan: Plan, arg: PullRequestArgs,
                             auth: dict[str, str]) -> str:
    """Step 2 and 3: the branch (a new ``ren/<slug>`` from the base) and the commit."""
    from ren_lsp.forge import repo, text

    message = None
    if plan.changes:
        s.report(f"staging {len(plan.changes)} changed files…")
        diff, stat = await repo.stage(git, plan.changes)
        if arg.title:
            message = arg.title
        else:
            log = await git.run("log", "-n", "10", "--format=%s", check=False)
            reply = await s.ask(Request.ask(
                prompts.commit_message(diff=_redacted(s, text.bounded_diff(diff, stat)),
                                       log=log), system=prompts.PLAIN_TEXT_SYSTEM))
            cleaned = text.clean_message(reply.text)
            subject, body = cleaned or text.fallback_message(plan.changes)
            subject, more = text.limit_subject(subject)
            body = "\n\n".join(p for p in (more, body) if p)
            message = subject + ("\n\n" + body if body else "")
    branch = plan.branch
    if plan.needs_branch:
        seed = arg.title or (message.split("\n", 1)[0] if message else "") or (
            await git.run("log", "-1", "--format=%s")).strip()
        taken = await repo.taken_branches(git, plan.remote, auth)
        branch = text.unique_branch(f"ren/{text.slug(seed)}", taken)
        s.report(f"creating the branch {branch}…")
        await git.run("switch", "-q", "-c", branch)
    assert branch is not None
    if message is not None:
        sha = await repo.commit(git, message, plan.changes)
        s.history["commit"] = sha
    s.history["branch"] = branch
    return branch


async def _preview(s: Session, git: Git, plan: Plan, branch: str,
                   arg: PullRequestArgs) -> tuple[OutputDocument, str, str]:
    """Step 4: the title and body, streamed into the preview (``# <title>``, then the body)."""
    from ren_lsp.forge import repo, text

    doc = await s.open_transcript("")
    assert plan.base_ref is not None
    diff, stat, log, files = await repo.branch_text(git, plan.base_ref)
    if arg.title and arg.body is not None:
        title, body = arg.title, arg.body
    else:
        s.report("Astra is writing the title and description…")
        doc.append("# ")
        reply = await s.ask(Request.ask(prompts.pull_request(
            diff=_redacted(s, text.bounded_diff(diff, stat)), log=_redacted(s, log),
            base=plan.base, branch=branch, template=text.find_template(plan.root)),
            system=prompts.PLAIN_TEXT_SYSTEM), on_text=doc.append)
        cleaned = text.clean_message(reply.text)
        title, body = cleaned or text.fallback_message(files)
        title = arg.title or title
        body = arg.body if arg.body is not None else body
    final = f"# {title}\n\n{body}\n" if body else f"# {title}\n"
    if doc.content != final:
        await doc.replace_all(final)
    await doc.close()
    return doc, title, body


async def _confirm(s: Session, doc: OutputDocument, question: str,
                   branch: str) -> tuple[str, str] | str:
    """Step 5: (title, body) from the preview as the user left it, or the session's summary
    when it stops here (cancelled, or a client that cannot ask)."""
    from ren_lsp.forge.text import parse_preview

    window = s.ls.client_capabilities.window
    kept = f"the branch {branch} and its commit are kept locally"
    if window is None or window.show_message is None:
        s.ls.show_message(
            f"The pull request preview is in {doc.path}; this editor cannot ask to confirm: "
            f"run ren.createPullRequest again with {{\"yes\": true}} to push and open it "
            f"({kept}).", types.MessageType.Info)
        return "Preview ready: run again with \"yes\": true to create it"
    choice = await s.confirm(question + " (edit and save the preview first to change them)",
                             ["Create", "Cancel"])
    if choice != "Create":
        s.ls.show_message(f"Pull request cancelled: nothing was pushed; {kept}.",
                          types.MessageType.Info)
        return "Cancelled: nothing pushed"
    edited = _read_preview(s, doc)
    parsed = parse_preview(edited)
    if parsed is None:
        raise SessionError(f"the preview {doc.path} has no \"# <title>\" first line: put the "
                           f"title there and run again (nothing was pushed; {kept})")
    doc.adopt(edited)  # a later close keeps the user's text
    return parsed


def _read_preview(s: Session, doc: OutputDocument) -> str:
    """The preview as the user sees it: the editor's buffer when open, else the file."""
    opened = s.ls.workspace.text_documents.get(doc.uri)
    if opened is not None:
        return opened.source
    try:
        return doc.path.read_text(encoding="utf-8")
    except OSError:
        return doc.content


async def _open(forge: Forge, doc: OutputDocument, *, title: str, body: str, branch: str,
                base: str, draft: bool) -> PullRequest:
    """Step 7: the open pull request for the branch, else a new one; a failure keeps the
    text in the preview and says so."""
    from ren_lsp.forge import ForgeError

    try:
        existing = await forge.find_open(branch)
        if existing is not None:
            return existing
        return await forge.create(title=title, body=body, head=branch, base=base, draft=draft)
    except ForgeError as error:
        raise SessionError(f"{error} (the branch {branch} is pushed; the title and "
                           f"description are kept in {doc.path})") from None


async def _show_url(s: Session, url: str) -> None:
    window = s.ls.client_capabilities.window
    if not (window and window.show_document and window.show_document.support):
        return
    try:
        await s.ls.window_show_document_async(types.ShowDocumentParams(uri=url, external=True))
    except Exception as exc:  # the URL is in the message and the history regardless
        s.report(f"could not open {url}: {type(exc).__name__}")


def _left_on(branch: str, plan: Plan) -> str:
    if plan.needs_branch:
        return f" You are now on the branch {branch}."
    return ""


def _redacted(s: Session, value: str) -> str:
    from ren_lsp.context import redact

    return redact(value, s.ls.settings.secret_patterns)[0]


def register(server: Server) -> None:
    register_command(server, "ren.createPullRequest", PullRequestArgs, create_pull_request)
