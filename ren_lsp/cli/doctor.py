"""`ren-lsp doctor`: where each setting comes from, and whether Astra can be reached and used."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time

import attrs

from ren_lsp.config import Resolved, Settings, config_file_path, settings_to_wire, wire_name
from ren_lsp.text import plural


class Report:
    """Prints check results as `ok`/`FAIL` lines, each failure with its fix."""

    def __init__(self) -> None:
        self.failures = 0

    def ok(self, what: str) -> None:
        print(f"  ok    {what}")

    def fail(self, what: str, fix: str) -> None:
        self.failures += 1
        print(f"  FAIL  {what}\n        fix: {fix}")

    def skip(self, what: str) -> None:
        print(f"  skip  {what}")


def print_settings(resolved: Resolved) -> None:
    wire = settings_to_wire(resolved.settings)
    print("Settings (defaults < config file < environment < editor):")
    for field in attrs.fields(Settings):
        name = wire_name(field.name)
        value = wire[name]
        if value is None:
            shown = "(not set)"
        elif isinstance(value, list | tuple):
            shown = json.dumps(list(value))
        else:
            shown = repr(value)
        print(f"  {name:<18} {shown:<32} {resolved.sources.get(field.name, 'default')}")
    path = config_file_path()
    print(f"Config file: {path}{'' if path.exists() else ' (not found)'}")
    for problem in resolved.problems:
        print(f"  warning: {problem}")


def _here(advice: str) -> str:
    """Advice as doctor gives it: not "run `ren-lsp doctor`" (this is it), but where to look."""
    return re.sub(r" \(run `ren-lsp doctor`[^)]*\)", " (the settings above say where each "
                  "comes from)", advice)


async def run_checks(settings: Settings, report: Report, *, api_key: str | None = None,
                     resolved: Resolved | None = None) -> None:
    """Every check, each shown whatever failed before it: a check that cannot run without an
    earlier one is listed as skipped, with the reason."""
    import httpx

    from ren_lsp.keys import resolve_api_key
    from ren_lsp.models import Request, client_from_settings, dialect, errors, model_for
    from ren_lsp.models.client import check_base_url, is_loopback

    backend = dialect(settings.provider)
    service = backend.service
    if resolved is not None and resolved.problems:
        report.fail(f"settings: {plural(len(resolved.problems), 'problem')} (the warnings "
                    "above)", "fix each value in the layer its warning names")
    refused = resolved.blocking_error("provider", "base_url") if resolved else None
    base: str | None = None
    if refused is not None:
        report.fail(f"{service}: no request may be sent", refused)
    else:
        try:
            base = check_base_url(settings.base_url or backend.default_base_url, service)
        except errors.ModelError as exc:
            report.fail(f"base URL {settings.base_url}", str(exc))
    reachable = False
    host = httpx.URL(base).host if base else ""
    if base is None:
        report.skip(f"{service} is reachable: no valid base URL")
    else:
        try:
            started = time.monotonic()
            async with httpx.AsyncClient(timeout=settings.connect_timeout,
                                         trust_env=not is_loopback(host)) as http:
                response = await http.get(base + "/")
            elapsed = (time.monotonic() - started) * 1000
            report.ok(f"{service} at {base} is reachable (HTTP {response.status_code}, "
                      f"{elapsed:.0f} ms)")
            reachable = True
        except httpx.HTTPError as exc:
            report.fail(f"{service} at {base} is not reachable ({type(exc).__name__})",
                        "check your network and proxy (HTTPS_PROXY), and the baseUrl setting")

    key: str | None = None
    key_ok = True
    if backend.key_env is not None:
        try:
            key = api_key or resolve_api_key(settings)
        except errors.ModelError as exc:
            report.fail("API key", _here(str(exc)))
            key_ok = False
        else:
            if key:
                report.ok("API key is set")
            elif is_loopback(host) and not backend.key_on_loopback:
                report.ok(f"no API key is set: none is needed for {service} on this machine")
            else:
                report.fail("API key is not set", _here(backend.key_help()))
                key_ok = False

    model = model_for(settings) or ""
    if not (reachable and key_ok):
        why = "the checks above must pass first"
        if backend.key_env is not None:
            report.skip(f"{service} accepts the API key: {why}")
        report.skip(f"model '{model}' answers: {why}")
        return
    client = client_from_settings(settings, api_key=key, max_tokens=32)
    try:
        async with client, client.stream(Request.ask("Reply with: ready")) as stream:
            reply = await stream.until_done()
    except errors.AuthenticationError as exc:
        report.fail(f"{service} did not accept the API key", _here(str(exc)))
        report.skip(f"model '{model}' answers: the key must be accepted first")
        return
    except errors.NotFoundError as exc:
        if backend.key_env is not None:
            report.ok(f"{service} accepted the API key")
        report.fail(f"model '{model}' did not answer", _here(str(exc)))
        return
    except errors.ModelError as exc:
        report.fail(f"model '{model}' did not answer", _here(str(exc)))
        return
    if backend.key_env is not None:
        report.ok(f"{service} accepted the API key")
    first_line = (reply.text.strip().splitlines() or [""])[0][:60]
    report.ok(f"model '{reply.model or model}' answers: {first_line!r}")


def completion_state(report: Report) -> None:
    """What the running (or last) server saw of inline completion, from its state file."""
    import json
    from pathlib import Path

    from ren_lsp.lsp.completion.engine import state_file

    try:
        state = json.loads(Path(state_file()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report.skip("inline completion: no failure recorded by the server")
        return
    if state.get("failing"):
        # A note, not a failure: the checks above say whether the model answers now.
        failures = plural(state.get("failures", 1), "time")
        print(f"  note  inline completion failed {failures}, last at {state.get('at')}: "
              f"{state['failing']}")
    else:
        report.ok(f"inline completion works again (since {state.get('at')})")


async def run_doctor(resolved: Resolved, *, emulator: bool = False) -> int:
    settings, api_key = resolved.settings, None
    async with contextlib.AsyncExitStack() as stack:
        if emulator:
            from ren_lsp.emulator import Emulator

            emu = await stack.enter_async_context(Emulator())
            api_key = "emulator"
            # What the checks use is what the settings list shows: the emulator's address and
            # key, both from --emulator (never "apiKey (not set)" then "API key is set").
            settings = attrs.evolve(settings, base_url=emu.base_url, api_key=api_key)
            errors = {k: v for k, v in resolved.errors.items() if k != "base_url"}
            resolved = attrs.evolve(resolved, settings=settings, errors=errors, sources={
                **resolved.sources, "base_url": "--emulator", "api_key": "--emulator"})
        print(f"ren-lsp doctor (Python {sys.version.split()[0]})")
        print_settings(resolved)
        print("Checks:")
        report = Report()
        await run_checks(settings, report, api_key=api_key, resolved=resolved)
        completion_state(report)
    print("All checks passed." if not report.failures else
          f"{plural(report.failures, 'check')} failed: see the fixes above.")
    return 1 if report.failures else 0
