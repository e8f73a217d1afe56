"""A local forge on loopback for pull request tests: git's smart HTTP and a GitHub REST fake.

    async with LocalForge(tmp_path, token=TOKEN) as forge:
        forge.remote_url            # http://127.0.0.1:PORT/acme/shop.git (push needs the token)
        forge.requests              # every pulls call: method, path, headers, JSON body, answer
        forge.lookups               # every repository lookup (GET /repos/{owner}/{repo})
        forge.fail_next(401, {"message": "Bad credentials"})  # the next pulls call
        forge.protect("release")    # a pre-receive hook refuses pushes to it, as GH006 does
        forge.fork("dana")          # dana/shop, a fork of acme/shop (after seed)
        forge.read_only("acme/shop")  # pushes get 403, and the lookup says push: false

Git requests go to the real `git http-backend` (a CGI program that ships with git), behind
HTTP Basic authentication that accepts only the token as the password. The REST fake answers
`GET/POST /api/v3/repos/{owner}/{repo}/pulls` as GitHub does, checking the branches in the
bare repositories (a head without commits beyond the base is GitHub's 422 "No commits
between"; a fork's head is `owner:branch`, in the fork's repository), and `GET
/api/v3/repos/{owner}/{repo}` with GitHub's `fork`, `parent` and `permissions` fields.
The API is at `{scheme}://{host}/api/v3`, as on GitHub Enterprise, so the server derives it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

OWNER, REPO = "acme", "shop"


@attrs.define
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0
    response: Any = None


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run git for the test's own setup (not the code under test)."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1", **(env or {})},
                          check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """``app`` on a free loopback port: its runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


class LocalForge:
    def __init__(self, root: Path, *, token: str) -> None:
        self.root = root / "forge"
        self.token = token
        self.bare = self.root / OWNER / f"{REPO}.git"
        self.requests: list[Recorded] = []
        self.lookups: list[Recorded] = []
        #: slug -> the fork's parent slug (None for a repository of its own)
        self.repos: dict[str, str | None] = {f"{OWNER}/{REPO}": None}
        self._read_only: set[str] = set()
        #: answers for the next repository lookups instead of the repository: (status, body)
        self.lookup_failures: list[tuple[int, Any]] = []
        #: what the API says each repository's default branch is (main unless set)
        self.default_branches: dict[str, str] = {}
        self.git_requests: list[tuple[str, str, str | None]] = []  # method, path, user
        self.pulls: list[dict[str, Any]] = []
        self._failures: list[tuple[str | None, int, Any, dict[str, str]]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- setup ----------------------------------------------------------------------------

    async def __aenter__(self) -> LocalForge:
        self.bare.mkdir(parents=True)
        git("init", "-q", "--bare", "-b", "main", str(self.bare), cwd=self.root)
        git("config", "http.receivepack", "true", cwd=self.bare)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/v3/repos/{owner}/{repo}/pulls", self._pulls)
        app.router.add_route("GET", "/api/v3/repos/{owner}/{repo}", self._repository)
        app.router.add_route("*", "/{path:.*\\.git/.*}", self._git)
        self._runner, self.port = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def remote_url(self) -> str:
        return self.url(f"{OWNER}/{REPO}")

    def url(self, slug: str) -> str:
        return f"{self.base}/{slug}.git"

    def bare_of(self, slug: str) -> Path:
        return self.root / f"{slug}.git"

    def fork(self, owner: str) -> str:
        """``owner``'s fork of acme/shop (a bare clone of it, as the forge makes one)."""
        slug = f"{owner}/{REPO}"
        git("clone", "-q", "--bare", str(self.bare), str(self.bare_of(slug)), cwd=self.root)
        git("config", "http.receivepack", "true", cwd=self.bare_of(slug))
        self.repos[slug] = f"{OWNER}/{REPO}"
        return slug

    def read_only(self, slug: str) -> None:
        """The token's user may read ``slug`` but not push to it (someone else's)."""
        self._read_only.add(slug)

    def seed(self, work: Path, files: dict[str, str], *, branches: tuple[str, ...] = ()) -> None:
        """A first commit on main (and these other branches) in the bare repository."""
        work.mkdir(parents=True)
        git("init", "-q", "-b", "main", cwd=work)
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text, encoding="utf-8")
        git("add", "-A", cwd=work)
        git("-c", "user.name=Seed", "-c", "user.email=seed@example.invalid", "commit", "-q",
            "-m", "Initial commit", cwd=work)
        git("push", "-q", str(self.bare), "main", *[f"main:{b}" for b in branches],
            cwd=work)

    def clone(self, into: Path, slug: str = f"{OWNER}/{REPO}", *,
              upstream: str | None = None) -> Path:
        """The user's clone of ``slug`` (a local copy whose remote is the forge's http URL),
        with ``upstream`` added and fetched as the `upstream` remote when given."""
        git("clone", "-q", str(self.bare_of(slug)), str(into), cwd=self.root)
        git("remote", "set-url", "origin", self.url(slug), cwd=into)
        if upstream is not None:
            git("remote", "add", "upstream", str(self.bare_of(upstream)), cwd=into)
            git("fetch", "-q", "upstream", cwd=into)
            git("remote", "set-url", "upstream", self.url(upstream), cwd=into)
        git("config", "user.name", "Dana Dev", cwd=into)
        git("config", "user.email", "dana@example.invalid", cwd=into)
        return into

    def protect(self, branch: str) -> None:
        hook = self.bare / "hooks" / "pre-receive"
        hook.write_text(
            "#!/bin/sh\nwhile read old new ref; do\n"
            f'  if [ "$ref" = "refs/heads/{branch}" ]; then\n'
            '    echo "error: GH006: Protected branch update failed for $ref." >&2\n'
            "    exit 1\n  fi\ndone\n", encoding="utf-8")
        hook.chmod(0o755)

    def fail_next(self, status: int, body: Any, headers: dict[str, str] | None = None, *,
                  method: str | None = None) -> None:
        """The next REST call (of ``method``, if given) gets this answer instead (queued)."""
        self._failures.append((method, status, body, headers or {}))

    def branches(self, slug: str = f"{OWNER}/{REPO}") -> dict[str, str]:
        out = git("for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads",
                  cwd=self.bare_of(slug))
        return dict(line.split(" ", 1) for line in out.splitlines())

    def log(self, ref: str, slug: str = f"{OWNER}/{REPO}") -> str:
        return git("log", "--format=%B%n--", ref, cwd=self.bare_of(slug))

    def files(self, ref: str) -> list[str]:
        return git("ls-tree", "-r", "--name-only", ref, cwd=self.bare).split()

    # -- git smart HTTP -------------------------------------------------------------------

    def _user(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user if password == self.token else None

    async def _git(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        self.git_requests.append((request.method, request.path, user))
        if user is None:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="forge"'})
        slug = request.path.split(".git/", 1)[0].strip("/")
        pushing = (request.path.endswith("/git-receive-pack")
                   or request.query.get("service") == "git-receive-pack")
        if pushing and slug in self._read_only:  # authenticated, but not allowed: 403
            return web.Response(status=403, text=f"Permission to {slug}.git denied to {user}.")
        body = await request.read()
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.root),
               "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": request.path,
               "REQUEST_METHOD": request.method, "QUERY_STRING": request.query_string,
               "CONTENT_TYPE": request.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": user,
               "REMOTE_ADDR": "127.0.0.1", "GIT_CONFIG_NOSYSTEM": "1"}
        for name in ("Content-Encoding", "Git-Protocol"):
            if name in request.headers:
                env["HTTP_" + name.upper().replace("-", "_")] = request.headers[name]
        process = await asyncio.create_subprocess_exec(
            "git", "http-backend", env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _err = await process.communicate(body)
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name] = value.strip()
        return web.Response(status=status, body=payload, headers=headers)

    # -- the GitHub REST fake -------------------------------------------------------------

    def _repo_json(self, slug: str) -> dict[str, Any]:
        owner, _, name = slug.partition("/")
        parent = self.repos[slug]
        data: dict[str, Any] = {
            "full_name": slug, "name": name, "owner": {"login": owner},
            "default_branch": self.default_branches.get(slug, "main"),
            "html_url": f"{self.base}/{slug}",
            "fork": parent is not None,
            "permissions": {"pull": True, "push": slug not in self._read_only}}
        if parent is not None:
            data["parent"] = {key: value for key, value in self._repo_json(parent).items()
                              if key != "permissions"}
        return data

    async def _repository(self, request: web.Request) -> web.Response:
        record = Recorded(request.method, request.path, dict(request.query),
                          dict(request.headers), None)
        self.lookups.append(record)
        slug = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if self.lookup_failures:
            record.status, record.response = self.lookup_failures.pop(0)
        elif request.headers.get("Authorization") != f"Bearer {self.token}":
            record.status, record.response = 401, {"message": "Bad credentials"}
        elif slug not in self.repos:
            record.status, record.response = 404, {"message": "Not Found"}
        else:
            record.status, record.response = 200, self._repo_json(slug)
        return web.json_response(record.response, status=record.status)

    async def _pulls(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        record = Recorded(request.method, request.path, dict(request.query),
                          dict(request.headers), body)
        self.requests.append(record)
        status, answer, headers = self._answer(request, body)
        record.status, record.response = status, answer
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, request: web.Request, body: Any) -> tuple[int, Any, dict[str, str]]:
        for index, (method, status, answer, headers) in enumerate(self._failures):
            if method in (None, request.method):
                del self._failures[index]
                return status, answer, headers
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, {}
        target = f"{request.match_info['owner']}/{request.match_info['repo']}"
        if target not in self.repos:
            return 404, {"message": "Not Found"}, {}
        if request.method == "GET":
            head = request.query.get("head", "")
            return 200, [p for p in self.pulls if p["state"] == "open"
                         and p["base"]["repo"]["full_name"] == target
                         and p["head"]["label"] == head], {}
        return self._create(target, body)

    def _create(self, target: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """POST .../pulls: `head` is a branch of the target, or `owner:branch` of a repository
        in its network (the target itself or a fork of it)."""
        owner, _, head = str(body.get("head", "")).rpartition(":")
        base = body.get("base")
        source = target
        if owner and owner != target.split("/")[0]:
            source = f"{owner}/{body.get('head_repo') or target.split('/')[1]}"
        if source != target and self.repos.get(source) != target:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "head", "code": "invalid"}]}, {}
        heads, bases = self.branches(source), self.branches(target)
        if head not in heads or base not in bases:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "head" if head not in heads else "base",
                 "code": "invalid"}]}, {}
        # The fork was cloned from the target: the base's commit is in its repository too.
        if not git("rev-list", f"{bases[base]}..{heads[head]}", cwd=self.bare_of(source)).strip():
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"No commits between {base} and {head}"}]}, {}
        if any(p["state"] == "open" and p["base"]["repo"]["full_name"] == target
               and p["head"]["label"] == f"{source.split('/')[0]}:{head}" for p in self.pulls):
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"A pull request already exists for {source.split('/')[0]}:{head}."}
            ]}, {}
        number = len([p for p in self.pulls if p["base"]["repo"]["full_name"] == target]) + 1
        pull = {"number": number, "state": "open", "title": body["title"], "body": body["body"],
                "draft": body.get("draft", False),
                "head": {"ref": head, "label": f"{source.split('/')[0]}:{head}",
                         "repo": {"full_name": source}},
                "base": {"ref": base, "repo": {"full_name": target}},
                "html_url": f"{self.base}/{target}/pull/{number}"}
        self.pulls.append(pull)
        return 201, pull, {}
