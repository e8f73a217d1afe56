"""The forge clients against a recording REST server on loopback: what each forge is sent
(GitLab's Draft: and Gitea's WIP: titles, their auth headers), "already exists" answered with
the open pull request, and the errors in the user's words."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from ren_lsp.forge import ForgeError
from ren_lsp.forge.api import Gitea, GitHub, GitLab
from ren_lsp.forge.remote import Remote

TOKEN = "forge-pat-integration-42"
REMOTE = Remote("127.0.0.1", "acme", "shop", "http")


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any, dict[str, str]]] = []
        self.answers: list[tuple[int, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        path = request.raw_path.split("?")[0]  # as sent: GitLab's project id stays encoded
        self.calls.append((request.method, path, dict(request.query), body,
                           dict(request.headers)))
        status, answer = self.answers.pop(0)
        return web.json_response(answer, status=status)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield recorder, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_github_already_exists_gives_the_open_one(server: tuple[Recorder, str]) -> None:
    recorder, base = server
    recorder.answers = [
        (422, {"message": "Validation Failed", "errors": [
            {"message": "A pull request already exists for acme:ren/x."}]}),
        (200, [{"html_url": "https://forge/acme/shop/pull/7", "number": 7}])]
    forge = GitHub(REMOTE, base + "/api/v3", TOKEN)
    pr = await forge.create(title="T", body="B", head="ren/x", base="main", draft=True)
    await forge.aclose()
    assert (pr.url, pr.number, pr.existing) == ("https://forge/acme/shop/pull/7", 7, True)
    assert recorder.calls[1][:3] == ("GET", "/api/v3/repos/acme/shop/pulls",
                                     {"head": "acme:ren/x", "state": "open"})


async def test_gitlab_merge_requests(server: tuple[Recorder, str]) -> None:
    recorder, base = server
    recorder.answers = [(201, {"web_url": "https://gl/acme/shop/-/merge_requests/3", "iid": 3})]
    forge = GitLab(REMOTE, base + "/api/v4", TOKEN)
    pr = await forge.create(title="Format totals", body="B", head="ren/x", base="main",
                            draft=True)
    await forge.aclose()
    method, path, _query, body, headers = recorder.calls[0]
    assert (method, path) == ("POST", "/api/v4/projects/acme%2Fshop/merge_requests")
    assert body == {"source_branch": "ren/x", "target_branch": "main", "description": "B",
                    "title": "Draft: Format totals"}
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert pr.url.endswith("/merge_requests/3")


async def test_gitea_pull_requests_and_conflict(server: tuple[Recorder, str]) -> None:
    recorder, base = server
    recorder.answers = [
        (409, {"message": "pull request already exists for these targets"}),
        (200, [{"head": {"ref": "other"}, "html_url": "x"},
               {"head": {"ref": "ren/x"}, "html_url": "https://gt/acme/shop/pulls/2",
                "number": 2}])]
    forge = Gitea(REMOTE, base + "/api/v1", TOKEN)
    pr = await forge.create(title="Format totals", body="B", head="ren/x", base="main",
                            draft=True)
    await forge.aclose()
    _method, path, _query, body, headers = recorder.calls[0]
    assert path == "/api/v1/repos/acme/shop/pulls"
    assert body["title"] == "WIP: Format totals"
    assert headers["Authorization"] == f"token {TOKEN}"
    assert (pr.url, pr.existing) == ("https://gt/acme/shop/pulls/2", True)


@pytest.mark.parametrize(("status", "answer", "expected"), [
    (401, {"message": "Bad credentials"}, "the forge refused the token (401 Unauthorized)"),
    (404, {"message": "Not Found"}, "no access to acme/shop on 127.0.0.1 (404: Not Found)"),
    (422, {"message": "Validation Failed", "errors": [{"message": "base is invalid"}]},
     "the forge refused to open the pull request (422): Validation Failed; base is invalid"),
    (500, {"message": "oops"}, "the forge failed (500) while trying to open the pull request"),
])
async def test_errors_say_the_fix(server: tuple[Recorder, str], status: int, answer: Any,
                                  expected: str) -> None:
    recorder, base = server
    recorder.answers = [(status, answer)]
    forge = GitHub(REMOTE, base + "/api/v3", TOKEN)
    with pytest.raises(ForgeError) as caught:
        await forge.create(title="T", body="B", head="ren/x", base="main", draft=False)
    await forge.aclose()
    assert str(caught.value).startswith(expected)
    assert TOKEN not in str(caught.value)


async def test_github_a_fork_in_the_same_organisation_names_its_repository(
        server: tuple[Recorder, str]) -> None:
    from ren_lsp.forge.api import Parent

    recorder, base = server
    recorder.answers = [(201, {"html_url": "https://forge/acme/shop/pull/9", "number": 9})]
    fork = Remote("127.0.0.1", "acme", "shop-fork", "http")
    forge = GitHub(fork, base + "/api/v3", TOKEN, parent=Parent(REMOTE, "main"))
    await forge.create(title="T", body="B", head="ren/x", base="main", draft=False)
    await forge.aclose()
    method, path, _query, body, _headers = recorder.calls[0]
    assert (method, path) == ("POST", "/api/v3/repos/acme/shop/pulls")
    # GitHub: head_repo "is required for cross-repository pull requests if both repositories
    # are owned by the same organization".
    assert (body["head"], body["head_repo"]) == ("acme:ren/x", "shop-fork")


async def test_a_lookup_that_is_not_a_fork_and_one_that_fails(
        server: tuple[Recorder, str]) -> None:
    recorder, base = server
    recorder.answers = [(200, {"full_name": "acme/shop", "fork": False,
                               "permissions": {"push": False}}),
                        (404, {"message": "Not Found"})]
    forge = Gitea(REMOTE, base + "/api/v1", TOKEN)
    info = await forge.repository()
    assert (info.parent, info.can_push) == (None, False)
    with pytest.raises(ForgeError, match=r"no access to acme/shop on 127\.0\.0\.1 \(404"):
        await forge.repository()
    await forge.aclose()
