"""The forges' REST APIs behind one small interface: find an open pull request, open one.

GitHub (and GitHub Enterprise): ``POST {api}/repos/{owner}/{repo}/pulls``. GitLab: merge
requests, a draft is a ``Draft:`` title. Gitea and Forgejo: ``POST /repos/.../pulls``, a draft
is a ``WIP:`` title. Every error becomes one ``ForgeError`` whose message says the fix; the
token is only ever in a header (and httpx's logs are kept quiet by ``ren_lsp.logs``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from ren_lsp import __version__
from ren_lsp.forge.remote import Remote, check_transport

#: the longest ``retry-after`` waited for (once); beyond it, the reset time is reported
MAX_RETRY_AFTER = 60.0
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


class Forge:
    """One repository on one forge. ``client`` is injectable (tests, proxies)."""

    provider = "github"
    kind = "pull request"

    def __init__(self, remote: Remote, api: str, token: str, *,
                 client: httpx.AsyncClient | None = None, timeout: float = 30.0) -> None:
        check_transport(api)
        self.remote = remote
        self.api = api.rstrip("/")
        self._token = token
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=True)
        self._own_client = client is None

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    # -- the interface -------------------------------------------------------------------

    async def find_open(self, branch: str) -> PullRequest | None:
        """The open pull request from ``branch``, if there is one."""
        raise NotImplementedError

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        """Open the pull request; an open one for ``head`` is returned instead of a second."""
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
            wait = _rate_limit_wait(response)
            if wait is None:
                return response
            if attempt == 1 and wait <= MAX_RETRY_AFTER:
                await asyncio.sleep(wait)
                continue
            raise ForgeError(_rate_limit_message(response), status=response.status_code)
        raise AssertionError("unreachable")

    def fail(self, response: httpx.Response, what: str) -> ForgeError:
        """The error for a refused call, naming the fix."""
        status = response.status_code
        where = f"{self.remote.slug} on {self.remote.host}"
        detail = _detail(response)
        if status == 401:
            text = (f"the forge refused the token (401 Unauthorized): it is wrong, expired or "
                    f"revoked; set {_token_hint(self.provider)} to a valid token")
        elif status in (403, 404):
            text = (f"no access to {where} ({status}{': ' + detail if detail else ''}): the "
                    f"token needs write access to {self.kind}s, or the repository or "
                    "forge.apiUrl is wrong")
        elif status >= 500:
            text = (f"the forge failed ({status}) while trying to {what}: it may be down; "
                    "run the command again later")
        else:
            text = f"the forge refused to {what} ({status}): {detail or response.reason_phrase}"
        return ForgeError(text, status=status)


class GitHub(Forge):
    provider = "github"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28"}

    def _repo(self) -> str:
        return f"/repos/{quote(self.remote.owner)}/{quote(self.remote.repo)}"

    async def find_open(self, branch: str) -> PullRequest | None:
        response = await self.request("GET", self._repo() + "/pulls", params={
            "head": f"{self.remote.owner}:{branch}", "state": "open"})
        if response.status_code != 200:
            raise self.fail(response, "list pull requests")
        for item in _json_list(response):
            return PullRequest(str(item.get("html_url")), item.get("number"), existing=True)
        return None

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        payload = {"title": title, "body": body, "head": head, "base": base, "draft": draft}
        for attempt in (1, 2):
            response = await self.request("POST", self._repo() + "/pulls", json=payload)
            if response.status_code == 201:
                data = response.json()
                return PullRequest(str(data.get("html_url")), data.get("number"))
            detail = _detail(response)
            if response.status_code == 422 and "already exists" in detail:
                found = await self.find_open(head)
                if found is not None:
                    return found
            if response.status_code == 422 and "No commits between" in detail and attempt == 1:
                # Right after a push the forge may not have seen the branch's commits yet.
                await asyncio.sleep(RACE_DELAY)
                continue
            raise self.fail(response, "open the pull request")
        raise AssertionError("unreachable")


class GitLab(Forge):
    provider = "gitlab"
    kind = "merge request"

    def _project(self) -> str:
        return "/projects/" + quote(self.remote.slug, safe="")

    async def find_open(self, branch: str) -> PullRequest | None:
        response = await self.request("GET", self._project() + "/merge_requests",
                                      params={"source_branch": branch, "state": "opened"})
        if response.status_code != 200:
            raise self.fail(response, "list merge requests")
        for item in _json_list(response):
            return PullRequest(str(item.get("web_url")), item.get("iid"), existing=True)
        return None

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        payload = {"source_branch": head, "target_branch": base, "description": body,
                   "title": f"Draft: {title}" if draft else title}
        response = await self.request("POST", self._project() + "/merge_requests",
                                      json=payload)
        if response.status_code == 201:
            data = response.json()
            return PullRequest(str(data.get("web_url")), data.get("iid"))
        if response.status_code == 409:
            found = await self.find_open(head)
            if found is not None:
                return found
        raise self.fail(response, "open the merge request")


class Gitea(Forge):
    provider = "gitea"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "Authorization": f"token {self._token}"}

    def _repo(self) -> str:
        return f"/repos/{quote(self.remote.owner)}/{quote(self.remote.repo)}"

    async def find_open(self, branch: str) -> PullRequest | None:
        response = await self.request("GET", self._repo() + "/pulls", params={"state": "open"})
        if response.status_code != 200:
            raise self.fail(response, "list pull requests")
        for item in _json_list(response):
            if (item.get("head") or {}).get("ref") == branch:
                return PullRequest(str(item.get("html_url")), item.get("number"), existing=True)
        return None

    async def create(self, *, title: str, body: str, head: str, base: str,
                     draft: bool) -> PullRequest:
        payload = {"title": f"WIP: {title}" if draft else title, "body": body, "head": head,
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


def _token_hint(provider: str) -> str:
    return {"github": "GH_TOKEN", "gitlab": "GITLAB_TOKEN", "gitea": "GITEA_TOKEN"}[provider] \
        + " (or forge.tokenCommand)"


def _json_list(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _detail(response: httpx.Response) -> str:
    """The forge's own words: GitHub's message and errors, GitLab's message, Gitea's."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip()
    if not isinstance(data, dict):
        return ""
    parts = []
    message = data.get("message")
    if isinstance(message, list):
        parts += [str(m) for m in message]
    elif message:
        parts.append(str(message))
    for error in data.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            parts.append(str(error["message"]))
        elif isinstance(error, str):
            parts.append(error)
    return "; ".join(parts)


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds to wait when the forge rate-limits this call, else None."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return MAX_RETRY_AFTER + 1
    if response.headers.get("x-ratelimit-remaining") == "0":
        return MAX_RETRY_AFTER + 1  # the primary limit: report the reset time, do not wait
    if response.status_code == 429:
        return MAX_RETRY_AFTER + 1
    return None


def _rate_limit_message(response: httpx.Response) -> str:
    reset = response.headers.get("x-ratelimit-reset")
    when = "later"
    if reset and reset.isdigit():
        when = "after " + time.strftime("%H:%M:%S", time.localtime(int(reset)))
    return (f"the forge's rate limit was hit ({response.status_code}); the local branch is "
            f"kept: run the command again {when}")
