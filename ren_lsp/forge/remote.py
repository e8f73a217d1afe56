"""Where a remote lives: its host, owner and repository, its forge and the forge's API URL.

Remote URLs come in three forms: ``https://host[:port]/owner/repo.git``,
``ssh://git@host[:port]/owner/repo.git`` and scp-like ``git@host:owner/repo.git``. GitLab
owners may be nested groups (``group/subgroup``).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import attrs

PROVIDERS = ("github", "gitlab", "gitea")
_SCP = re.compile(r"^(?:(?P<user>[^@/]+)@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")


class RemoteError(Exception):
    """The remote's URL cannot be read as a forge repository (the message says how)."""


@attrs.frozen
class Remote:
    """A forge repository, as its remote URL names it."""

    host: str  # with the port when it has one: "127.0.0.1:8080"
    owner: str
    repo: str
    #: the scheme of the web and API addresses: https, or http for an http:// remote
    scheme: str = "https"

    @property
    def hostname(self) -> str:
        return urlsplit(f"{self.scheme}://{self.host}").hostname or self.host

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}"


def parse_remote_url(url: str) -> Remote:
    """The forge repository a remote URL names; ``RemoteError`` when it names none."""
    url = url.strip()
    scheme = "https"
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git"):
            raise RemoteError(f"the remote URL's scheme {parts.scheme!r} is not one a forge "
                              "serves (https, ssh)")
        if parts.scheme == "http":
            scheme = "http"
        host = parts.hostname or ""
        if parts.port and parts.scheme in ("https", "http"):
            host = f"{host}:{parts.port}"
        elif ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        path = parts.path
    else:
        match = _SCP.match(url)
        if match is None:
            raise RemoteError("the remote is a local path, not a forge: push to a remote on "
                              "GitHub, GitLab or Gitea (git remote add origin <url>)")
        host, path = match["host"], match["path"]
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    owner, _, repo = path.rpartition("/")
    if not host or not owner or not repo:
        raise RemoteError(f"cannot read owner/repository from the remote URL (host {host!r}, "
                          f"path {path!r})")
    return Remote(host=host, owner=owner, repo=repo, scheme=scheme)


def provider_for(remote: Remote, setting: str | None) -> str:
    """The forge: the ``forge.provider`` setting, else guessed from the host (GitHub for any
    host it does not know, as GitHub Enterprise hosts have no telltale name)."""
    if setting:
        return setting
    name = remote.hostname.lower()
    if "gitlab" in name:
        return "gitlab"
    if any(word in name for word in ("gitea", "forgejo", "codeberg")):
        return "gitea"
    return "github"


def api_url(remote: Remote, provider: str, setting: str | None) -> str:
    """The forge's REST API: ``forge.apiUrl`` when set; else api.github.com for github.com,
    ``{scheme}://{host}/api/v3`` for other GitHub (Enterprise) hosts, ``/api/v4`` for GitLab,
    ``/api/v1`` for Gitea."""
    if setting:
        return setting.rstrip("/")
    if provider == "github" and remote.hostname.lower() == "github.com":
        return "https://api.github.com"
    suffix = {"github": "/api/v3", "gitlab": "/api/v4", "gitea": "/api/v1"}[provider]
    return f"{remote.scheme}://{remote.host}{suffix}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without a port) is this machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(url: str) -> None:
    """Refuse to send a token over plain http to anything but this machine."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback(parts.hostname or ""):
        return
    raise RemoteError(f"the forge API {parts.scheme}://{parts.hostname} is not https: a token "
                      "is never sent over plain http except to this machine; set forge.apiUrl "
                      "to the https address")
