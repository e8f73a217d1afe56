"""Create pull request from a fork, as contributors work: the branch goes to their fork, the
pull request opens on the parent repository with `head: "<fork owner>:<branch>"`. Real git,
the local forge serving acme/shop and dana's fork of it, the real server, the emulator."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import StartEditor
from tests.e2e.forge import LocalForge, git
from tests.e2e.pr_support import (
    COMMIT_ANSWER,
    PR_ANSWER,
    TOKEN,
    Setup,
    git_shim,
    run_pr,
    secrets_absent,
    start,
)

PARENT, FORK = "acme/shop", "dana/shop"
BRANCH = "ren/add-an-invoice-formatter"
GIVEN = {"title": "Format totals", "body": "Adds format_total.", "yes": True}


def user_clone(forge: LocalForge, tmp_path: Path, slug: str, *,
               upstream: str | None = None) -> Setup:
    return Setup(forge, forge.clone(tmp_path / "shop", slug, upstream=upstream),
                 git_shim(tmp_path), tmp_path)


async def test_with_an_upstream_remote_it_pushes_to_origin_and_opens_on_upstream(
        start_editor: StartEditor, emulator: Emulator, fork_forge: LocalForge,
        tmp_path: Path) -> None:
    setup = user_clone(fork_forge, tmp_path, FORK, upstream=PARENT)
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER))
    editor = await start(start_editor, setup, emulator)
    asked: list[str] = []

    def create(params: types.ShowMessageRequestParams) -> str:
        asked.append(params.message)
        return "Create"

    editor.message_answers.append(create)
    end = await run_pr(editor)

    url = f"{fork_forge.base}/{PARENT}/pull/1"
    assert end == f"Opened: {url}"
    # The preview's question names the parent repository and the fork's branch.
    assert asked == [f"Create a draft pull request “Add an invoice formatter” from "
                     f"dana:{BRANCH} into main on {PARENT}? (edit and save the preview first "
                     "to change them)"]
    assert BRANCH in fork_forge.branches(FORK) and BRANCH not in fork_forge.branches(PARENT)
    assert "push -u origin" in setup.argv() and "push -u upstream" not in setup.argv()
    post = next(r for r in fork_forge.requests if r.method == "POST")
    assert post.path == f"/api/v3/repos/{PARENT}/pulls"
    assert (post.body["head"], post.body["base"], post.body["draft"]) == (
        f"dana:{BRANCH}", "main", True)
    assert "head_repo" not in post.body  # another owner: the owner says which fork
    check = next(r for r in fork_forge.requests if r.method == "GET")
    assert check.query == {"head": f"dana:{BRANCH}", "state": "open"}
    assert fork_forge.lookups == [], "the upstream remote says where: the forge is not asked"
    message = await editor.wait_for_message(url)
    assert message.message.startswith(f"Opened the draft pull request from dana:{BRANCH} into "
                                      f"main on {PARENT}: {url}")
    secrets_absent(editor, setup)


async def test_a_fork_is_known_from_the_forge(start_editor: StartEditor, emulator: Emulator,
                                              fork_forge: LocalForge, tmp_path: Path) -> None:
    # Only origin (the fork): the forge says it is a fork of acme/shop, whose default branch
    # (as the API says) is develop.
    fork_forge.default_branches[PARENT] = "develop"
    setup = user_clone(fork_forge, tmp_path, FORK)
    setup.change_files()
    editor = await start(start_editor, setup, emulator, profile="bare")
    end = await run_pr(editor, GIVEN)
    url = f"{fork_forge.base}/{PARENT}/pull/1"
    assert end == f"Opened: {url}"
    [lookup] = fork_forge.lookups
    assert (lookup.path, lookup.status) == (f"/api/v3/repos/{FORK}", 200)
    assert lookup.response["parent"]["full_name"] == PARENT
    assert lookup.headers["Authorization"] == f"Bearer {TOKEN}"
    pull = fork_forge.pulls[0]
    assert pull["base"] == {"ref": "develop", "repo": {"full_name": PARENT}}
    assert pull["head"] == {"ref": "ren/format-totals", "label": "dana:ren/format-totals",
                            "repo": {"full_name": FORK}}
    await editor.wait_for_message(f"from dana:ren/format-totals into develop on {PARENT}: {url}")
    assert "ren/format-totals" in fork_forge.branches(FORK)
    assert "ren/format-totals" not in fork_forge.branches(PARENT)


async def test_the_open_pull_request_on_the_parent_is_found(
        start_editor: StartEditor, emulator: Emulator, fork_forge: LocalForge,
        tmp_path: Path) -> None:
    setup = user_clone(fork_forge, tmp_path, FORK)
    setup.change_files()
    editor = await start(start_editor, setup, emulator)
    first = await run_pr(editor, GIVEN)
    assert first == f"Opened: {fork_forge.base}/{PARENT}/pull/1"
    (setup.repo / "billing.py").write_text("# more\n", encoding="utf-8")
    again = await run_pr(editor, GIVEN)
    assert again == f"Already open: {fork_forge.base}/{PARENT}/pull/1"
    await editor.wait_for_message("A pull request for ren/format-totals is already open")
    assert len([r for r in fork_forge.requests if r.method == "POST"]) == 1
    checks = [r for r in fork_forge.requests if r.method == "GET"]
    assert [(r.path, r.query["head"]) for r in checks] == [
        (f"/api/v3/repos/{PARENT}/pulls", "dana:ren/format-totals")] * 2
    # The new commit went to the fork's branch, which the open pull request shows.
    assert fork_forge.log("ren/format-totals", FORK).count("Format totals") == 2


async def test_no_push_access_says_to_fork_and_the_fork_remote_then_works(
        start_editor: StartEditor, emulator: Emulator, fork_forge: LocalForge,
        tmp_path: Path) -> None:
    # Dana cloned acme/shop itself, which she may read but not push to.
    fork_forge.read_only(PARENT)
    setup = user_clone(fork_forge, tmp_path, PARENT)
    setup.change_files()
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, GIVEN)
    assert end.startswith(f"Failed: origin ({PARENT}) refused the push of ren/format-totals: "
                          "the forge says you have no push access to it (")
    assert "403" in end
    assert end.endswith("the local branch ren/format-totals and its commits are kept: if the "
                        "repository is not yours, fork it on the forge, add your fork as a "
                        "remote (git remote add fork <your fork's URL>) and run again with "
                        "\"remote\": \"fork\" (ren-lsp pr --remote fork); if it is yours, give "
                        "the token write access")
    assert fork_forge.requests == [] and "ren/format-totals" not in fork_forge.branches(PARENT)
    # As the message says: the fork as a remote, and "remote": "fork".
    git("remote", "add", "fork", fork_forge.url(FORK), cwd=setup.repo)
    end = await run_pr(editor, {**GIVEN, "remote": "fork"})
    assert end == f"Opened: {fork_forge.base}/{PARENT}/pull/1"
    assert fork_forge.pulls[0]["head"]["label"] == "dana:ren/format-totals"
    assert "push -u fork refs/heads/ren/format-totals:refs/heads/ren/format-totals" \
        in setup.argv()
    secrets_absent(editor, setup)


async def test_when_the_forge_cannot_say_it_is_a_fork_the_question_says_so(
        start_editor: StartEditor, emulator: Emulator, fork_forge: LocalForge,
        tmp_path: Path) -> None:
    fork_forge.lookup_failures.append((502, {"message": "Bad gateway"}))
    setup = user_clone(fork_forge, tmp_path, FORK)
    setup.change_files()
    editor = await start(start_editor, setup, emulator)
    editor.message_answers.append("Cancel")
    end = await run_pr(editor, {"title": "Format totals", "body": ""})
    assert end == "Cancelled: nothing pushed"
    [question] = editor.message_requests
    assert question.message.startswith(
        f"Create a draft pull request “Format totals” from ren/format-totals into main on "
        f"{FORK}? (the forge could not say whether {FORK} is a fork (the forge failed (502) "
        "while trying to look up the repository: it may be down; run the command again "
        "later): add the parent as the `upstream` remote to open it there)")
    assert fork_forge.requests == [] and "ren/format-totals" not in fork_forge.branches(FORK)
