"""Create pull request, as the user lives it: real git, a local forge on loopback (git's smart
HTTP with authentication and a GitHub REST fake), the real server over stdio, the emulator.

The user changes files, runs "Create pull request", reads the preview Astra wrote, edits it
or not, confirms, and gets the pull request's URL; their files are the same afterwards."""

from __future__ import annotations

from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import StartEditor
from tests.e2e.editor import Editor
from tests.e2e.forge import OWNER, REPO, git
from tests.e2e.pr_support import (
    COMMIT_ANSWER,
    PR_ANSWER,
    TEMPLATE,
    TOKEN,
    Setup,
    run_pr,
    secrets_absent,
    start,
)
from tests.e2e.test_helix import documented_commands, parse_workspace_command

BRANCH = "ren/add-an-invoice-formatter"


def preview_uri(editor: Editor) -> str:
    shown = [d.uri for d in editor.shown_documents if not d.external]
    assert shown, "the preview was not opened"
    return shown[-1]


async def test_the_happy_path_opens_a_draft_pull_request(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    before = setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER, trickle=0.005))
    editor = await start(start_editor, setup, emulator)
    asked: list[str] = []

    def create(params: types.ShowMessageRequestParams) -> str:
        asked.append(params.message)
        # The preview as the user reads it when asked: the title line, then the body.
        asked.append(editor.text(preview_uri(editor)))
        return "Create"

    editor.message_answers.append(create)
    end = await run_pr(editor)

    url = f"{setup.forge.base}/{OWNER}/{REPO}/pull/1"
    assert end == f"Opened: {url}"
    assert asked[0] == (f"Create a draft pull request “Add an invoice formatter” from {BRANCH} "
                        f"into main on {OWNER}/{REPO}? (edit and save the preview first to "
                        "change them)")
    assert asked[1] == "# " + PR_ANSWER
    # The commit: Astra's message without the chatter and the fence, the secret left out.
    assert BRANCH in setup.forge.branches()
    assert setup.forge.log(BRANCH).startswith(
        "Add an invoice formatter\n\nformat_total renders a total with the shop's currency.\n")
    assert ".env" not in setup.forge.files(BRANCH)
    assert {"billing.py", "invoice_test.py"} <= set(setup.forge.files(BRANCH))
    # The pull request as the forge received it.
    posts = [r for r in setup.forge.requests if r.method == "POST"]
    assert len(posts) == 1
    post = posts[0]
    assert post.body == {"title": "Add an invoice formatter", "body": PR_ANSWER.split("\n\n", 1)[1]
                         .strip(), "head": BRANCH, "base": "main", "draft": True}
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Accept"] == "application/vnd.github+json"
    assert post.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert post.path == f"/api/v3/repos/{OWNER}/{REPO}/pulls"  # GitHub Enterprise's API path
    # Astra was asked with the repository's template and the diff, and without the secret.
    pr_prompt = emulator.requests[1].body["messages"][0]["content"]
    assert TEMPLATE.strip() in pr_prompt and "format_total" in pr_prompt
    assert all("hunter2" not in str(r.body) for r in emulator.requests)
    # What the user is told, and where they are left.
    message = await editor.wait_for_message(url)
    assert ".env" in message.message and f"now on the branch {BRANCH}" in message.message
    assert [d.uri for d in editor.shown_documents if d.external] == [url]
    assert setup.branch() == BRANCH
    assert setup.digests() == before, "the user's working files are byte-identical"
    assert "push -u origin" in setup.argv() and "--force" not in setup.argv()
    secrets_absent(editor, setup)


async def test_the_edited_preview_wins(start_editor: StartEditor, emulator: Emulator,
                                       forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER))
    editor = await start(start_editor, setup, emulator, profile="neovim")

    def edit_then_create(params: types.ShowMessageRequestParams) -> str:
        uri = preview_uri(editor)
        editor.type(uri, editor.range_of(uri, "Add an invoice formatter"), "Format invoice totals")
        end = editor.range_of(uri, "- [x] Tests added").end
        editor.type(uri, end, "\n- [x] Reviewed by Dana")
        return "Create"

    editor.message_answers.append(edit_then_create)
    await run_pr(editor)
    post = next(r for r in setup.forge.requests if r.method == "POST")
    assert post.body["title"] == "Format invoice totals"
    assert post.body["body"].endswith("- [x] Tests added\n- [x] Reviewed by Dana")
    # The branch was named before the edit, from the commit's subject.
    assert post.body["head"] == BRANCH


async def test_cancel_pushes_nothing(start_editor: StartEditor, emulator: Emulator,
                                     forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER))
    editor = await start(start_editor, setup, emulator)
    editor.message_answers.append("Cancel")
    end = await run_pr(editor)
    assert end == "Cancelled: nothing pushed"
    await editor.wait_for_message(f"nothing was pushed; the branch {BRANCH} and its commit are "
                                  "kept locally")
    assert BRANCH not in setup.forge.branches()
    assert [r for r in setup.forge.requests if r.method == "POST"] == []
    assert not any("push" in line.split()[:1] for line in setup.argv().splitlines())


async def test_helix_previews_then_creates_with_yes(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    emulator.script(Fault(text=COMMIT_ANSWER), Fault(text=PR_ANSWER), Fault(text=PR_ANSWER))
    editor = await start(start_editor, setup, emulator, profile="helix")
    end = await run_pr(editor)
    assert end == 'Preview ready: run again with "yes": true to create it'
    told = await editor.wait_for_message('run ren.createPullRequest again with {"yes": true}')
    assert "The pull request preview is in" in told.message
    assert editor.message_requests == [], "Helix cannot answer showMessageRequest: not asked"
    assert BRANCH not in setup.forge.branches()

    # `:lsp-workspace-command ren.createPullRequest {"yes": true}`: on the branch now, with
    # its commit, so nothing more is committed; pushed and opened without asking.
    name, arguments = parse_workspace_command(documented_commands()[2])  # the Helix README's
    assert name == "ren.createPullRequest" and arguments is not None
    end = await run_pr(editor, arguments[0])
    assert end.startswith("Opened: ")
    assert setup.forge.pulls[0]["head"]["ref"] == BRANCH
    assert setup.forge.pulls[0]["title"] == "Add an invoice formatter"
    secrets_absent(editor, setup)


async def test_given_title_body_and_base_ask_astra_nothing(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    editor = await start(start_editor, setup, emulator, profile="bare")
    end = await run_pr(editor, {"title": "Fix the rounding of totals", "body": "Closes #12.",
                                "base": "develop", "draft": False, "yes": True})
    assert "Opened: " in end
    assert emulator.requests == []
    pull = setup.forge.pulls[0]
    assert (pull["title"], pull["body"], pull["base"]["ref"], pull["draft"]) == (
        "Fix the rounding of totals", "Closes #12.", "develop", False)
    assert pull["head"]["ref"] == "ren/fix-the-rounding-of-totals"
    assert setup.forge.log("ren/fix-the-rounding-of-totals").startswith(
        "Fix the rounding of totals\n")


async def test_an_open_pull_request_is_not_made_twice(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    editor = await start(start_editor, setup, emulator)
    first = await run_pr(editor, {"title": "Format totals", "body": "", "yes": True})
    assert first.startswith("Opened: ")
    # More work on the same branch: the pull request that is open gets it.
    (setup.repo / "billing.py").write_text("# more\n", encoding="utf-8")
    again = await run_pr(editor, {"title": "Format totals", "body": "", "yes": True})
    url = setup.forge.pulls[0]["html_url"]
    assert again == f"Already open: {url}"
    await editor.wait_for_message("is already open")
    assert len(setup.forge.pulls) == 1
    assert len([r for r in setup.forge.requests if r.method == "POST"]) == 1


async def test_a_unique_branch_name(start_editor: StartEditor, emulator: Emulator,
                                    forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    # Someone else pushed a branch of that name since the user cloned (not fetched).
    git("update-ref", "refs/heads/ren/format-totals", "main", cwd=setup.forge.bare)
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, {"title": "Format totals", "body": "", "yes": True})
    assert end.startswith("Opened: ")
    assert setup.forge.pulls[0]["head"]["ref"] == "ren/format-totals-2"
