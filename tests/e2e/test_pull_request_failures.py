"""Create pull request when something is in the way: each failure is one clear message with
the fix, nothing is forced, and the local branch and commit stay. Real git, the local forge."""

from __future__ import annotations

from pathlib import Path

import pytest

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import StartEditor
from tests.e2e.forge import git
from tests.e2e.pr_support import TOKEN, Setup, run_pr, secrets_absent, start


def read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


GIVEN = {"title": "Format totals", "body": "Adds format_total.", "yes": True}
BRANCH = "ren/format-totals"


async def test_a_bad_token_is_refused_by_the_push_and_the_work_kept(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    editor = await start(start_editor, setup, emulator, GH_TOKEN="forge-pat-wrong-0000")
    end = await run_pr(editor, GIVEN)
    assert end.startswith("Failed: origin refused the credentials for the push")
    assert "set GH_TOKEN" in end and f"the local branch {BRANCH} and its commits are kept" in end
    assert setup.branch() == BRANCH
    assert git("log", "-1", "--format=%s", cwd=setup.repo).strip() == "Format totals"
    assert BRANCH not in setup.forge.branches() and setup.forge.requests == []
    assert editor.leaks("forge-pat-wrong-0000") == []


async def test_the_api_refusing_the_token_keeps_the_description(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    setup.forge.fail_next(401, {"message": "Bad credentials"})
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, GIVEN)
    assert end.startswith("Failed: the forge refused the token (401 Unauthorized)")
    assert "set GH_TOKEN (or forge.tokenCommand)" in end
    kept = end.rsplit("kept in ", 1)[1].rstrip(")")
    assert read(kept) == "# Format totals\n\nAdds format_total.\n"
    assert BRANCH in setup.forge.branches(), "pushed: only the pull request failed"
    secrets_absent(editor, setup)


async def test_a_protected_branch_is_never_forced(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.forge.protect("release")
    git("switch", "-q", "release", cwd=setup.repo)
    setup.change_files()
    before = setup.forge.branches()["release"]
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, GIVEN)
    assert end.startswith("Failed: origin refused the push of release: the branch is protected")
    assert "GH006" in end and "git switch -c" in end
    assert setup.forge.branches()["release"] == before
    pushes = [line for line in setup.argv().splitlines() if line.startswith("push")]
    assert pushes == ["push -u origin refs/heads/release:refs/heads/release"]
    assert setup.branch() == "release"


async def test_nothing_to_propose(start_editor: StartEditor, emulator: Emulator,
                                  forge_repo: Setup) -> None:
    setup = forge_repo
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, {})
    assert end == ("Failed: nothing to propose: no uncommitted changes and no commits on main "
                   "that origin/main lacks")
    (setup.repo / ".env").write_text("TOKEN=x\n", encoding="utf-8")
    end = await run_pr(editor, {})
    assert end.endswith("(the only changes are secret files, never committed: .env)")
    git("switch", "-q", "--detach", "HEAD", cwd=setup.repo)
    end = await run_pr(editor, {})
    assert end.startswith("Failed: HEAD is detached and has nothing to propose")
    assert emulator.requests == [] and setup.forge.requests == []


async def test_not_a_repository_and_no_remote(start_editor: StartEditor, emulator: Emulator,
                                              forge_repo: Setup, tmp_path: Path) -> None:
    setup = forge_repo
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("hello\n", encoding="utf-8")
    editor = await start_editor(env=setup.env(emulator), workspace=plain)
    end = await run_pr(editor, {})
    assert end == (f"Failed: {plain} is not in a git repository: run `git init` (and add a "
                   "remote) to propose changes from it")
    git("init", "-q", cwd=plain)
    end = await run_pr(editor, {})
    assert end == ("Failed: the repository has no remote: add the forge's repository with "
                   "`git remote add origin <url>`")


async def test_the_no_commits_between_race_is_asked_again(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    setup.forge.fail_next(422, {"message": "Validation Failed", "errors": [
        {"resource": "PullRequest", "code": "custom",
         "message": f"No commits between main and {BRANCH}"}]}, method="POST")
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, GIVEN)
    assert end.startswith("Opened: ")
    assert [r.status for r in setup.forge.requests if r.method == "POST"] == [422, 201]


async def test_a_secondary_rate_limit_is_waited_for_once(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    setup.forge.fail_next(403, {"message": "You have exceeded a secondary rate limit."},
                          {"retry-after": "1"}, method="POST")
    editor = await start(start_editor, setup, emulator)
    assert (await run_pr(editor, GIVEN)).startswith("Opened: ")
    assert [r.status for r in setup.forge.requests if r.method == "POST"] == [403, 201]


async def test_a_rate_limit_without_retry_after_reports_the_reset(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    setup.forge.fail_next(403, {"message": "API rate limit exceeded"},
                          {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"})
    editor = await start(start_editor, setup, emulator)
    end = await run_pr(editor, GIVEN)
    assert end.startswith("Failed: the forge's rate limit was hit (403); the local branch is "
                          "kept: run the command again after ")
    assert setup.forge.pulls == []


@pytest.mark.parametrize(("api", "expected"), [
    ("down", "the forge failed (502) while trying to list pull requests: it may be down"),
    ("refused", "cannot reach the forge API at http://127.0.0.1:9/api/v3 (ConnectError)"),
    ("http", "the forge API http://forge.invalid is not https: a token is never sent over "
             "plain http except to this machine"),
])
async def test_the_forge_down_or_unsafe(start_editor: StartEditor, emulator: Emulator,
                                        forge_repo: Setup, api: str, expected: str) -> None:
    setup = forge_repo
    setup.change_files()
    env = {}
    if api == "down":
        setup.forge.fail_next(502, {"message": "Bad gateway"})
    else:
        env["REN_FORGE_API_URL"] = ("http://127.0.0.1:9/api/v3" if api == "refused"
                                    else "http://forge.invalid/api/v3")
    editor = await start(start_editor, setup, emulator, **env)
    end = await run_pr(editor, GIVEN)
    assert end.startswith("Failed: " + expected)
    if api == "http":  # refused before anything happened
        assert setup.branch() == "main" and setup.forge.git_requests == []


async def test_no_token_says_where_to_put_one(start_editor: StartEditor, emulator: Emulator,
                                              forge_repo: Setup) -> None:
    setup = forge_repo
    setup.change_files()
    editor = await start(start_editor, setup, emulator, GH_TOKEN="")
    end = await run_pr(editor, GIVEN)
    assert end.startswith(f"Failed: no token for 127.0.0.1:{setup.forge.port}: set GH_TOKEN or "
                          "GITHUB_TOKEN, or forge.tokenCommand")


async def test_the_token_command_and_an_unusable_answer(
        start_editor: StartEditor, emulator: Emulator, forge_repo: Setup,
        tmp_path: Path) -> None:
    setup = forge_repo
    setup.change_files()
    script = tmp_path / "token.sh"
    script.write_text(f"#!/bin/sh\necho {TOKEN}\n", encoding="utf-8")
    script.chmod(0o755)
    # Astra answers only chatter: the commit and the pull request fall back to a summary.
    emulator.script(Fault(text="Sure! Here is a commit message:\n\n```\n```\n"),
                    Fault(text="Certainly!\n"))
    editor = await start(start_editor, setup, emulator, GH_TOKEN="",
                         REN_FORGE_TOKEN_COMMAND=str(script))
    end = await run_pr(editor, {"yes": True})
    assert end.startswith("Opened: ")
    pull = setup.forge.pulls[0]
    assert pull["title"] == "Update 2 files: billing.py, invoice_test.py"
    assert "- `billing.py`" in pull["body"] and "- `invoice_test.py`" in pull["body"]
    assert pull["head"]["ref"] == "ren/update-2-files-billing-py-invoice-test"
    secrets_absent(editor, setup)


async def test_a_bad_argument_names_the_field(start_editor: StartEditor, emulator: Emulator,
                                              forge_repo: Setup) -> None:
    editor = await start(start_editor, forge_repo, emulator)
    with pytest.raises(Exception, match="draft: 'yes' is not of type 'boolean'"):
        await editor.command("ren.createPullRequest", {"draft": "yes"})
