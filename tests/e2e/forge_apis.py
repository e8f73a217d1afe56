"""GitLab and Gitea REST fakes beside the local forge's git (tests/e2e/forge.py): they answer
from its bare repositories and refuse what the forges' documentation does not allow.

    async with ForgeApi(forge, "gitlab") as api:   # or "gitea"
        api.url                 # http://127.0.0.1:PORT/api/v4 (GitLab), /api/v1 (Gitea)
        api.requests            # every call: method, path (as sent), query, headers, body, answer

Checked as documented: GitLab's auth (`Authorization: Bearer` or `PRIVATE-TOKEN`), the
create-merge-request attributes (`source_branch`, `target_branch`, `title` required; only
documented ones; `target_project_id` an integer of a project the source was forked from;
the request sent to the source project), drafts as a `Draft:` title. Gitea's `Authorization:
token`, `CreatePullRequestOption` (only its fields; `head` as `owner:branch` across a fork),
drafts as a `WIP:` title. A refused request answers 400/422 with the reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aiohttp import web

from tests.e2e.forge import LocalForge, Recorded, git, serve

GITLAB_FIELDS = {"source_branch", "target_branch", "title", "description", "target_project_id",
                 "assignee_id", "assignee_ids", "reviewer_ids", "labels", "milestone_id",
                 "remove_source_branch", "allow_collaboration", "squash", "merge_after"}
GITEA_FIELDS = {"head", "base", "title", "body", "assignee", "assignees", "labels", "milestone",
                "due_date", "reviewers", "team_reviewers"}


class ForgeApi:
    def __init__(self, forge: LocalForge, provider: str) -> None:
        assert provider in ("gitlab", "gitea")
        self.forge = forge
        self.provider = provider
        self.requests: list[Recorded] = []
        self.created: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: slug -> project id (GitLab's numeric ids)
        self.ids = {slug: index + 1 for index, slug in enumerate(forge.repos)}

    async def __aenter__(self) -> ForgeApi:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self.port = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/" + ("v4" if self.provider == "gitlab"
                                                       else "v1")

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        record = Recorded(request.method, request.raw_path.split("?")[0], dict(request.query),
                          dict(request.headers), body)
        self.requests.append(record)
        if not self._authorised(request):
            status, answer = 401, {"message": "401 Unauthorized"}
        elif self.provider == "gitlab":
            status, answer = self._gitlab(request.method, record.path, request.query, body)
        else:
            status, answer = self._gitea(request.method, record.path, request.query, body)
        record.status, record.response = status, answer
        return web.json_response(answer, status=status)

    def _authorised(self, request: web.Request) -> bool:
        token = self.forge.token
        if self.provider == "gitlab":
            return (request.headers.get("Authorization") == f"Bearer {token}"
                    or request.headers.get("PRIVATE-TOKEN") == token)
        return request.headers.get("Authorization") == f"token {token}"

    def _commits_between(self, target: str, base: str, source: str, head: str) -> bool:
        bases, heads = self.forge.branches(target), self.forge.branches(source)
        return bool(git("rev-list", f"{bases[base]}..{heads[head]}",
                        cwd=self.forge.bare_of(source)).strip())

    # -- GitLab ---------------------------------------------------------------------------

    def _project(self, slug: str) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.ids[slug], "path_with_namespace": slug,
                                "default_branch": "main",
                                "web_url": f"{self.forge.base}/{slug}"}
        parent = self.forge.repos[slug]
        if parent is not None:
            data["forked_from_project"] = self._project(parent)
        return data

    def _gitlab(self, method: str, path: str, query: Any, body: Any) -> tuple[int, Any]:
        parts = path.removeprefix("/api/v4/projects/").split("/")
        slug = unquote(parts[0])  # the documented form: the URL-encoded path, or the id
        if slug.isdigit():
            slug = next((s for s, i in self.ids.items() if i == int(slug)), "")
        if slug not in self.forge.repos:
            return 404, {"message": "404 Project Not Found"}
        if len(parts) == 1 and method == "GET":
            return 200, self._project(slug)
        if parts[1:] != ["merge_requests"]:
            return 404, {"message": "404 Not Found"}
        if method == "GET":
            return 200, [m for m in self.created if m["target_project_id"] == self.ids[slug]
                         and m["source_branch"] == query.get("source_branch")
                         and m["state"] == query.get("state")]
        unknown = set(body) - GITLAB_FIELDS
        missing = {"source_branch", "target_branch", "title"} - set(body)
        if unknown or missing:
            return 400, {"message": f"unknown {sorted(unknown)}, missing {sorted(missing)}"}
        target_id = body.get("target_project_id", self.ids[slug])
        target = next((s for s, i in self.ids.items() if i == target_id), None)
        if not isinstance(target_id, int) or target is None or (
                target != slug and self.forge.repos[slug] != target):
            return 400, {"message": "target_project_id is not this project or its parent"}
        head, base = body["source_branch"], body["target_branch"]
        if head not in self.forge.branches(slug) or base not in self.forge.branches(target):
            return 400, {"message": "Invalid source or target branch"}
        if any(m["state"] == "opened" and m["source_project_id"] == self.ids[slug]
               and m["source_branch"] == head for m in self.created):
            return 409, {"message": ["Another open merge request already exists for this "
                                     "source branch"]}
        number = 1 + len([m for m in self.created if m["target_project_id"] == target_id])
        merge_request = {
            "iid": number, "state": "opened", "title": body["title"],
            "draft": body["title"].startswith("Draft:"),
            "description": body.get("description"), "source_branch": head,
            "target_branch": base, "source_project_id": self.ids[slug],
            "target_project_id": target_id,
            "web_url": f"{self.forge.base}/{target}/-/merge_requests/{number}"}
        self.created.append(merge_request)
        return 201, merge_request

    # -- Gitea ----------------------------------------------------------------------------

    def _repository(self, slug: str) -> dict[str, Any]:
        parent = self.forge.repos[slug]
        data: dict[str, Any] = {"full_name": slug, "default_branch": "main",
                                "fork": parent is not None,
                                "permissions": {"admin": False, "push": True, "pull": True}}
        if parent is not None:
            data["parent"] = self._repository(parent)
        return data

    def _gitea(self, method: str, path: str, query: Any, body: Any) -> tuple[int, Any]:
        parts = path.removeprefix("/api/v1/repos/").split("/")
        slug = "/".join(parts[:2])
        if slug not in self.forge.repos:
            return 404, {"message": "The target couldn't be found."}
        if len(parts) == 2 and method == "GET":
            return 200, self._repository(slug)
        if parts[2:] != ["pulls"]:
            return 404, {"message": "Not Found"}
        if method == "GET":
            return 200, [p for p in self.created if p["base"]["repo"]["full_name"] == slug
                         and p["state"] == query.get("state")]
        unknown = set(body) - GITEA_FIELDS
        if unknown or not body.get("head") or not body.get("base") or not body.get("title"):
            return 422, {"message": f"invalid CreatePullRequestOption ({sorted(unknown)})"}
        owner, _, head = body["head"].rpartition(":")
        source = f"{owner}/{slug.split('/')[1]}" if owner else slug
        if source != slug and self.forge.repos.get(source) != slug:
            return 404, {"message": "the head repository is not a fork of this one"}
        if head not in self.forge.branches(source) or \
                body["base"] not in self.forge.branches(slug):
            return 404, {"message": "branch does not exist"}
        if not self._commits_between(slug, body["base"], source, head):
            return 422, {"message": "no commits between base and head"}
        if any(p["state"] == "open" and p["head"]["label"] == f"{source.split('/')[0]}:{head}"
               for p in self.created):
            return 409, {"message": "pull request already exists for these targets"}
        number = 1 + len([p for p in self.created if p["base"]["repo"]["full_name"] == slug])
        pull = {"number": number, "state": "open", "title": body["title"],
                "body": body.get("body"),
                "head": {"ref": head, "label": f"{source.split('/')[0]}:{head}",
                         "repo": {"full_name": source}},
                "base": {"ref": body["base"], "repo": {"full_name": slug}},
                "html_url": f"{self.forge.base}/{slug}/pulls/{number}"}
        self.created.append(pull)
        return 201, pull
