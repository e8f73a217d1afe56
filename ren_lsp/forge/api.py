"""The forges' REST APIs behind one small interface: is the repository a fork, find an open
pull request, open one.

GitHub (and GitHub Enterprise): ``POST {api}/repos/{owner}/{repo}/pulls``. GitLab: merge
requests, a draft is a ``Draft:`` title. Gitea and Forgejo: ``POST /repos/.../pulls``, a draft
is a ``WIP:`` title. From a fork, the pull request opens on the parent (``target``): GitHub and
Gitea get ``head: "<fork owner>:<branch>"`` on the parent's repository, GitLab gets the merge
request on the fork with the parent's ``target_project_id``. Every error becomes one
``ForgeError`` whose message says the fix; the token is only ever in a header (and httpx's
logs are kept quiet by ``ren_lsp.logs``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from ren_lsp import __version__
from ren_lsp.forge.remote import Remote, check_transport
from ren_lsp.forge.responses import (
    MAX_RETRY_AFTER,
    detail,
    json_list,
    rate_limit_message,
    rate_limit_wait,
    token_hint,
)

#: "No commits between": the forge has not seen the push yet; asked again once after this
RACE_DELAY = 2.0


class ForgeError(Exception):
    """The forge refused or failed; ``str()`` is the message for the user, with the fix."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@attrs.frozen
class PullRequest:
    url: str
    number: int | None = None
    #: True when it was open already (no second one was made)
    existing: bool = False


@attrs.frozen
class Parent:
    """The repository a pull request opens on when it is not the one pushed to: the fork's
    parent (as the forge or the ``upstream`` remote names it)."""

    remote: Remote
    default_branch: str | None = None
    #: GitLab's numeric project id (``target_project_id``), when known
    project_id: int | None = None


@attrs.frozen
class RepoInfo:
    """What the forge says of the repository pushed to."""

    parent: Parent | None = None
    #: whether the token may push to it (None: the forge did not say)
    can_push: bool | None = None
    project_id: int | None = None


class Forge:
    """One repository on one forge. ``client`` is injectable (tests, proxies); ``parent`` is
    where pull requests open when the pushed repository is a fork."""

    provider = "github"
    kind = "pull request"

    def __init__(self, remote: Remote, api: str, token: str, *,
                 client: httpx.AsyncClient | None = None, timeout: float = 30.0,
                 parent: Parent | None = None) -> None:
        check_transport(api)
        self.remote = remote
        self.api = api.rstrip("/")
        self.parent = parent
        self._token = token
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=True)
        self._own_client = client is None

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    @property
    def target(self) -> Remote:
        """The repository the pull request opens on."""
        return self.parent.remote if self.parent is not None else self.remote

    def head_label(self, branch: str) -> str:
        """The branch as the target repository names it: ``owner:branch``."""
        return f"{self.remote.owner}:{branch}"

    # -- the interface -------------------------------------------------------------------

    async def repository(self) -> RepoInfo:
        """What the forge says of the pushed repository: its parent when it is a fork."""
        raise NotImplementedError

    async def find_open(self, branch: str) -> PullRequest | None:
        """The open pull request from ``branch`` (of the pushed repository) on the target."""
        raise NotImplementedError

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        """Open the pull request from the branch ``head`` into ``base`` of the target; an open
        one for ``head`` is returned instead of a second."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}", "Accept": "application/json",
                "User-Agent": f"ren-lsp/{__version__}"}

    async def request(self, method: str, path: str, *, json: Any = None,
                      params: dict[str, str] | None = None) -> httpx.Response:
        """One API call; a rate limit with a short ``retry-after`` is waited for once."""
        for attempt in (1, 2):
            try:
                response = await self._client.request(
                    method, self.api + path, json=json, params=params, headers=self.headers())
            except httpx.TimeoutException:
                raise ForgeError(f"the forge API at {self.api} did not answer in time: "
                                 "check the network and run the command again") from None
            except httpx.HTTPError as exc:
                raise ForgeError(f"cannot reach the forge API at {self.api} "
                                 f"({type(exc).__name__}): check forge.apiUrl and the "
                                 "network") from None
            wait = rate_limit_wait(response)
            if wait is None:
                return response
            if attempt == 1 and wait <= MAX_RETRY_AFTER:
                await asyncio.sleep(wait)
                continue
            raise ForgeError(rate_limit_message(response), status=response.status_code)
        raise AssertionError("unreachable")

    def fail(self, response: httpx.Response, what: str, *,
             repository: Remote | None = None) -> ForgeError:
        """The error for a refused call, naming the fix."""
        status = response.status_code
        where = f"{(repository or self.target).slug} on {self.remote.host}"
        said = detail(response)
        if status == 401:
            text = (f"the forge refused the token (401 Unauthorized): it is wrong, expired or "
                    f"revoked; set {token_hint(self.provider)} to a valid token")
        elif status in (403, 404):
            text = (f"no access to {where} ({status}{': ' + said if said else ''}): the "
                    f"token needs write access to {self.kind}s, or the repository or "
                    "forge.apiUrl is wrong")
        elif status >= 500:
            text = (f"the forge failed ({status}) while trying to {what}: it may be down; "
                    "run the command again later")
        else:
            text = f"the forge refused to {what} ({status}): {said or response.reason_phrase}"
        return ForgeError(text, status=status)

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _named(self, full_name: object) -> Remote | None:
        """``owner/repo`` as a repository on this forge's host."""
        owner, _, repo = str(full_name or "").rpartition("/")
        return attrs.evolve(self.remote, owner=owner, repo=repo) if owner and repo else None


class _Repos(Forge):
    """GitHub and Gitea: repositories at ``/repos/{owner}/{repo}``, whose ``GET`` says
    ``fork``, ``parent`` (the repository it was forked from) and ``permissions.push``."""

    def _repo(self, remote: Remote | None = None) -> str:
        remote = remote or self.target
        return f"/repos/{quote(remote.owner)}/{quote(remote.repo)}"

    async def repository(self) -> RepoInfo:
        response = await self.request("GET", self._repo(self.remote))
        if response.status_code != 200:
            raise self.fail(response, "look up the repository", repository=self.remote)
        data = self._json(response)
        parent = None
        raw = data.get("parent")
        if data.get("fork") and isinstance(raw, dict):
            named = self._named(raw.get("full_name"))
            if named is not None:
                parent = Parent(named, raw.get("default_branch") or None)
        permissions = data.get("permissions")
        push = permissions.get("push") if isinstance(permissions, dict) else None
        return RepoInfo(parent, push if isinstance(push, bool) else None)


class GitHub(_Repos):
    provider = "github"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    async def find_open(self, branch: str) -> PullRequest | None:
        response = await self.request("GET", self._repo() + "/pulls", params={
            "head": self.head_label(branch), "state": "open"})
        if response.status_code != 200:
            raise self.fail(response, "list pull requests")
        for item in json_list(response):
            return PullRequest(str(item.get("html_url")), item.get("number"), existing=True)
        return None

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        payload: dict[str, Any] = {"title": title, "body": body, "head": head, "base": base,
                                   "draft": draft}
        if self.parent is not None:
            payload["head"] = self.head_label(head)
            if self.parent.remote.owner == self.remote.owner:
                # A fork in the same organisation: the owner alone does not say which one.
                payload["head_repo"] = self.remote.repo
        for attempt in (1, 2):
            response = await self.request("POST", self._repo() + "/pulls", json=payload)
            if response.status_code == 201:
                data = response.json()
                return PullRequest(str(data.get("html_url")), data.get("number"))
            said = detail(response)
            if response.status_code == 422 and "already exists" in said:
                found = await self.find_open(head)
                if found is not None:
                    return found
            if response.status_code == 422 and "No commits between" in said and attempt == 1:
                # Right after a push the forge may not have seen the branch's commits yet.
                await asyncio.sleep(RACE_DELAY)
                continue
            raise self.fail(response, "open the pull request")
        raise AssertionError("unreachable")


class GitLab(Forge):
    provider = "gitlab"
    kind = "merge request"
    _source_id: int | None = None

    def _project(self, remote: Remote | None = None) -> str:
        return "/projects/" + quote((remote or self.target).slug, safe="")

    async def repository(self) -> RepoInfo:
        # GET /projects/:id: `forked_from_project` (id, path_with_namespace, default_branch).
        response = await self.request("GET", self._project(self.remote))
        if response.status_code != 200:
            raise self.fail(response, "look up the project", repository=self.remote)
        data = self._json(response)
        source = data.get("forked_from_project")
        parent = None
        if isinstance(source, dict):
            named = self._named(source.get("path_with_namespace"))
            if named is not None:
                parent = Parent(named, source.get("default_branch"), _int(source.get("id")))
        self._source_id = _int(data.get("id"))
        permissions = data.get("permissions")
        access = [permissions.get(k) for k in ("project_access", "group_access")] \
            if isinstance(permissions, dict) else []
        levels = [a.get("access_level") for a in access if isinstance(a, dict)]
        known = [level for level in levels if isinstance(level, int)]
        # Developer (30) and up may push.
        return RepoInfo(parent, max(known) >= 30 if known else None, self._source_id)

    async def _project_id(self, remote: Remote) -> int:
        response = await self.request("GET", self._project(remote))
        project_id = _int(self._json(response).get("id")) if response.status_code == 200 \
            else None
        if project_id is None:
            raise self.fail(response, "look up the project", repository=remote)
        return project_id

    async def find_open(self, branch: str) -> PullRequest | None:
        response = await self.request("GET", self._project() + "/merge_requests",
                                      params={"source_branch": branch, "state": "opened"})
        if response.status_code != 200:
            raise self.fail(response, "list merge requests")
        source = None
        if self.parent is not None:  # the parent's list: only those from this fork
            source = self._source_id or await self._project_id(self.remote)
        for item in json_list(response):
            if source is None or item.get("source_project_id") == source:
                return PullRequest(str(item.get("web_url")), item.get("iid"), existing=True)
        return None

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        payload: dict[str, Any] = {"source_branch": head, "target_branch": base,
                                   "description": body,
                                   "title": f"Draft: {title}" if draft else title}
        if self.parent is not None:  # created on the fork, aimed at the parent
            payload["target_project_id"] = (self.parent.project_id
                                            or await self._project_id(self.parent.remote))
        response = await self.request("POST", self._project(self.remote) + "/merge_requests",
                                      json=payload)
        if response.status_code == 201:
            data = response.json()
            return PullRequest(str(data.get("web_url")), data.get("iid"))
        if response.status_code == 409:
            found = await self.find_open(head)
            if found is not None:
                return found
        raise self.fail(response, "open the merge request")


class Gitea(_Repos):
    provider = "gitea"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Authorization": f"token {self._token}"}

    async def find_open(self, branch: str) -> PullRequest | None:
        response = await self.request("GET", self._repo() + "/pulls", params={"state": "open"})
        if response.status_code != 200:
            raise self.fail(response, "list pull requests")
        for item in json_list(response):
            head = item.get("head") or {}
            repo = (head.get("repo") or {}).get("full_name")
            if head.get("ref") == branch and (repo is None or repo == self.remote.slug):
                return PullRequest(str(item.get("html_url")), item.get("number"), existing=True)
        return None

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        payload = {"title": f"WIP: {title}" if draft else title, "body": body,
                   "head": self.head_label(head) if self.parent is not None else head,
                   "base": base}
        response = await self.request("POST", self._repo() + "/pulls", json=payload)
        if response.status_code == 201:
            data = response.json()
            return PullRequest(str(data.get("html_url")), data.get("number"))
        if response.status_code == 409:
            found = await self.find_open(head)
            if found is not None:
                return found
        raise self.fail(response, "open the pull request")


FORGES: dict[str, type[Forge]] = {"github": GitHub, "gitlab": GitLab, "gitea": Gitea}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
