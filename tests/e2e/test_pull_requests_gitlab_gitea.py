"""Create pull request on GitLab (merge requests) and Gitea, from a fork: the push goes to
the local forge's git, the REST calls to fakes that refuse what the forges' documentation
does not allow (tests/e2e/forge_apis.py). Real git, the real server, the emulator."""

from __future__ import annotations

from pathlib import Path

from ren_lsp.emulator import Emulator
from tests.e2e.conftest import StartEditor
from tests.e2e.forge import LocalForge
from tests.e2e.forge_apis import ForgeApi
from tests.e2e.pr_support import TOKEN, Setup, git_shim, run_pr, secrets_absent, start

PARENT, FORK = "acme/shop", "dana/shop"
GIVEN = {"title": "Format totals", "body": "Adds format_total.", "yes": True}
BRANCH = "ren/format-totals"


def clone(forge: LocalForge, tmp_path: Path, *, upstream: str | None = None) -> Setup:
    setup = Setup(forge, forge.clone(tmp_path / "shop", FORK, upstream=upstream),
                  git_shim(tmp_path), tmp_path)
    setup.change_files()
    return setup


def env(api: ForgeApi) -> dict[str, str]:
    variable = "GITLAB_TOKEN" if api.provider == "gitlab" else "GITEA_TOKEN"
    return {"GH_TOKEN": "", variable: TOKEN, "REN_FORGE_PROVIDER": api.provider,
            "REN_FORGE_API_URL": api.url}


async def test_gitlab_a_merge_request_from_a_fork(start_editor: StartEditor, emulator: Emulator,
                                                  fork_forge: LocalForge, tmp_path: Path) -> None:
    setup = clone(fork_forge, tmp_path)
    async with ForgeApi(fork_forge, "gitlab") as api:
        editor = await start(start_editor, setup, emulator, **env(api))
        end = await run_pr(editor, GIVEN)
        url = f"{fork_forge.base}/{PARENT}/-/merge_requests/1"
        assert end == f"Opened: {url}", [(r.method, r.path, r.response) for r in api.requests]
        lookup, listed, created = api.requests
        # GET /projects/:id of the pushed project, the URL-encoded path as its id.
        assert (lookup.method, lookup.path) == ("GET", "/api/v4/projects/dana%2Fshop")
        # The open ones are looked for on the parent; the new one is made on the fork.
        assert (listed.path, listed.query) == ("/api/v4/projects/acme%2Fshop/merge_requests",
                                               {"source_branch": BRANCH, "state": "opened"})
        assert (created.method, created.path, created.status) == (
            "POST", "/api/v4/projects/dana%2Fshop/merge_requests", 201)
        assert created.body == {"source_branch": BRANCH, "target_branch": "main",
                                "description": "Adds format_total.",
                                "title": "Draft: Format totals",
                                "target_project_id": api.ids[PARENT]}
        assert created.headers["Authorization"] == f"Bearer {TOKEN}"
        assert created.response["draft"] is True
        await editor.wait_for_message(f"from dana:{BRANCH} into main on {PARENT}: {url}")
        # Again: the open merge request (from this fork) is found, no second one.
        (setup.repo / "billing.py").write_text("# more\n", encoding="utf-8")
        assert await run_pr(editor, GIVEN) == f"Already open: {url}"
        assert len(api.created) == 1
        secrets_absent(editor, setup)


async def test_gitlab_with_an_upstream_remote(start_editor: StartEditor, emulator: Emulator,
                                              fork_forge: LocalForge, tmp_path: Path) -> None:
    setup = clone(fork_forge, tmp_path, upstream=PARENT)
    async with ForgeApi(fork_forge, "gitlab") as api:
        editor = await start(start_editor, setup, emulator, **env(api))
        end = await run_pr(editor, {**GIVEN, "draft": False})
        assert end == f"Opened: {fork_forge.base}/{PARENT}/-/merge_requests/1"
        [created] = [r for r in api.requests if r.method == "POST"]
        # The upstream remote names the parent; its id is asked for (target_project_id).
        assert created.body["target_project_id"] == api.ids[PARENT]
        assert created.body["title"] == "Format totals"  # not a draft: no prefix
        assert {r.path for r in api.requests if r.method == "GET"} >= {
            "/api/v4/projects/acme%2Fshop", "/api/v4/projects/dana%2Fshop"}


async def test_gitea_a_pull_request_from_a_fork(start_editor: StartEditor, emulator: Emulator,
                                                fork_forge: LocalForge, tmp_path: Path) -> None:
    setup = clone(fork_forge, tmp_path)
    async with ForgeApi(fork_forge, "gitea") as api:
        editor = await start(start_editor, setup, emulator, **env(api))
        end = await run_pr(editor, GIVEN)
        url = f"{fork_forge.base}/{PARENT}/pulls/1"
        assert end == f"Opened: {url}", [(r.method, r.path, r.response) for r in api.requests]
        lookup, listed, created = api.requests
        assert (lookup.method, lookup.path) == ("GET", "/api/v1/repos/dana/shop")
        assert (listed.path, listed.query) == ("/api/v1/repos/acme/shop/pulls",
                                               {"state": "open"})
        assert (created.path, created.status) == ("/api/v1/repos/acme/shop/pulls", 201)
        assert created.body == {"title": "WIP: Format totals", "body": "Adds format_total.",
                                "head": f"dana:{BRANCH}", "base": "main"}
        assert created.headers["Authorization"] == f"token {TOKEN}"
        await editor.wait_for_message(f"from dana:{BRANCH} into main on {PARENT}: {url}")
        (setup.repo / "billing.py").write_text("# more\n", encoding="utf-8")
        assert await run_pr(editor, GIVEN) == f"Already open: {url}"
        assert len(api.created) == 1
        secrets_absent(editor, setup)
