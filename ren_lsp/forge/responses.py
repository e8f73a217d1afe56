"""What the forges answer, read the same way for all three: their own words for an error, a
list of items, how long a rate limit asks to wait and when it resets."""

from __future__ import annotations

import time
from typing import Any

import httpx

#: the longest ``retry-after`` waited for (once); beyond it, the reset time is reported
MAX_RETRY_AFTER = 60.0


def token_hint(provider: str) -> str:
    """Where the user puts a token for ``provider``."""
    return {"github": "GH_TOKEN", "gitlab": "GITLAB_TOKEN", "gitea": "GITEA_TOKEN"}[provider] \
        + " (or forge.tokenCommand)"


def json_list(response: httpx.Response) -> list[dict[str, Any]]:
    """The answer's items (objects only), or none when it is not a JSON list."""
    try:
        data = response.json()
    except ValueError:
        return []
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def detail(response: httpx.Response) -> str:
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


def rate_limit_wait(response: httpx.Response) -> float | None:
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


def rate_limit_message(response: httpx.Response) -> str:
    """The message for a rate limit not waited for: when to run again."""
    reset = response.headers.get("x-ratelimit-reset")
    when = "later"
    if reset and reset.isdigit():
        when = "after " + time.strftime("%H:%M:%S", time.localtime(int(reset)))
    return (f"the forge's rate limit was hit ({response.status_code}); the local branch is "
            f"kept: run the command again {when}")
