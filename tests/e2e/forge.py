"""A local forge on loopback for pull request tests: git's smart HTTP and a GitHub REST fake.

    async with LocalForge(tmp_path, token=TOKEN) as forge:
        forge.remote_url            # http://127.0.0.1:PORT/acme/shop.git (push needs the token)
        forge.requests              # every REST call: method, path, headers, JSON body, answer
        forge.fail_next(401, {"message": "Bad credentials"})
        forge.protect("release")    # a pre-receive hook refuses pushes to it, as GH006 does

Git requests go to the real `git http-backend` (a CGI program that ships with git), behind
HTTP Basic authentication that accepts only the token as the password. The REST fake answers
`GET/POST /api/v3/repos/{owner}/{repo}/pulls` as GitHub does, checking the branches in the
bare repository (a head without commits beyond the base is GitHub's 422 "No commits between").
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


class LocalForge:
    def __init__(self, root: Path, *, token: str) -> None:
        self.root = root / "forge"
        self.token = token
        self.bare = self.root / OWNER / f"{REPO}.git"
        self.requests: list[Recorded] = []
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
        app.router.add_route("*", "/{path:.*\\.git/.*}", self._git)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def remote_url(self) -> str:
        return f"{self.base}/{OWNER}/{REPO}.git"

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

    def clone(self, into: Path) -> Path:
        """The user's clone (a local copy whose remote is the forge's http URL)."""
        git("clone", "-q", str(self.bare), str(into), cwd=self.root)
        git("remote", "set-url", "origin", self.remote_url, cwd=into)
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

    def branches(self) -> dict[str, str]:
        out = git("for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads",
                  cwd=self.bare)
        return dict(line.split(" ", 1) for line in out.splitlines())

    def log(self, ref: str) -> str:
        return git("log", "--format=%B%n--", ref, cwd=self.bare)

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
        if (request.match_info["owner"], request.match_info["repo"]) != (OWNER, REPO):
            return 404, {"message": "Not Found"}, {}
        if request.method == "GET":
            head = request.query.get("head", "")
            return 200, [p for p in self.pulls if p["state"] == "open"
                         and f"{OWNER}:{p['head']['ref']}" == head], {}
        head, base = body.get("head"), body.get("base")
        branches = self.branches()
        if head not in branches or base not in branches:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "head" if head not in branches else "base",
                 "code": "invalid"}]}, {}
        if not git("rev-list", f"{base}..{head}", cwd=self.bare).strip():
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"No commits between {base} and {head}"}]}, {}
        number = len(self.pulls) + 1
        pull = {"number": number, "state": "open", "title": body["title"], "body": body["body"],
                "draft": body.get("draft", False), "head": {"ref": head}, "base": {"ref": base},
                "html_url": f"{self.base}/{OWNER}/{REPO}/pull/{number}"}
        self.pulls.append(pull)
        return 201, pull, {}
