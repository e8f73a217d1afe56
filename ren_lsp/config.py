"""The settings model: one typed class, its layers, and where each value came from.

Layers, lowest first: defaults < the user config file (``config.toml``) < the environment
(``REN_*``) < editor layers (``initializationOptions``, then ``workspace/didChangeConfiguration``).
Keys are camelCase on the wire (files, editors, ``schemas/settings.schema.json``) and snake_case in
Python; ``wire_name`` and ``env_name`` derive both from the attrs field names, in one place.

A value that is invalid in one layer is reported in ``Resolved.problems`` and ignored, so the
value from the layers below stays. ``None`` (JSON null) and blank strings mean "not set here":
editors send null for settings the user never touched, and that must not hide a lower layer.
The API key never appears in a repr, a problem or ``settings_to_wire``.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

import attrs
import platformdirs

from ren_lsp.settings_rules import (
    Rule,
    boolean,
    integer,
    number,
    one_of,
    regex,
    string_list,
    text,
    url,
)

APP_NAME = "ren-lsp"
ENV_PREFIX = "REN_"
CONFIG_ENV = "REN_CONFIG"
LOG_LEVELS = ("error", "warning", "info", "debug")
#: the model backends (``ren_lsp.models.PROVIDERS``) and the usual variable of each one's key
PROVIDER_KEYS: Mapping[str, str | None] = MappingProxyType({
    "ren": "REN_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY",
    "ollama": None})
#: the forges pull requests open on (``ren_lsp.forge``)
FORGES = ("github", "gitlab", "gitea")
MAX_TIMEOUT = 3600.0
#: the longest answer maxTokens may ask for (no model writes more in one reply)
MAX_ANSWER_TOKENS = 200_000
MASK = "***"


def _setting(default: Any, rule: Rule, *, secret: bool = False, user_only: bool = False,
             destination: bool = False) -> Any:
    """One setting. ``user_only``: read only from the user's config file and environment,
    refused from an editor layer (it runs a command, chooses secret files, or decides where code
    and keys go: a repository's workspace settings must not). ``destination``: an invalid value
    stops every request instead of falling back to a lower layer's address."""
    repr_: bool | Callable[[Any], str] = _masked_repr if secret else True
    return attrs.field(default=default, repr=repr_, metadata={
        "rule": rule, "secret": secret, "user_only": user_only or destination,
        "destination": destination})


_BOOLEAN = Rule("true or false", boolean)


def _masked_repr(value: str | None) -> str:
    return repr(MASK) if value is not None else "None"


_TEXT = Rule("a string", text)
_URL = Rule("an http:// or https:// URL with a host", url)
_TIMEOUT = number(0, MAX_TIMEOUT, above=True)


@attrs.define(kw_only=True)
class Settings:
    """Every ren-lsp setting, each with its default. Built by ``load_settings``."""

    #: which backend answers: the Ren API, Anthropic, an OpenAI-compatible server, Ollama
    provider: str = _setting("ren", one_of(PROVIDER_KEYS), destination=True)
    #: the provider's key; never shown (repr, problems and settings_to_wire mask it)
    api_key: str | None = _setting(None, _TEXT, secret=True)
    #: a command whose stdout is the key, e.g. "pass show ren/api-key" (see resolve_api_key)
    api_key_command: str | None = _setting(None, _TEXT, user_only=True)
    #: None: the provider's own address (https://api.ren.ai for the Ren API)
    base_url: str | None = _setting(None, _URL, destination=True)
    #: None: the provider's default model ("astra" for the Ren API; the others need one)
    model: str | None = _setting(None, _TEXT)
    #: the model of inline completion (a small, fast one); None: ``model``
    completion_model: str | None = _setting(None, _TEXT)
    #: the model of agent runs; None: ``model``
    agent_model: str | None = _setting(None, _TEXT)
    max_tokens: int = _setting(4096, integer(1, MAX_ANSWER_TOKENS))
    #: None lets the API choose
    temperature: float | None = _setting(None, number(0, 1))
    #: seconds to open the connection
    connect_timeout: float = _setting(10.0, _TIMEOUT)
    #: seconds until the reply starts (headers and first event)
    first_byte_timeout: float = _setting(60.0, _TIMEOUT)
    #: seconds allowed between two events of a stream
    event_timeout: float = _setting(60.0, _TIMEOUT)
    #: retries before any text arrived (never after: the user would get text twice)
    max_retries: int = _setting(3, integer(0, 10))
    log_level: str = _setting("info", one_of(LOG_LEVELS))
    #: how many Astra sessions may run at once; more wait their turn
    max_sessions: int = _setting(4, integer(1, 16))
    #: tokens (estimated as characters / 4) the repository context of one request may take
    context_budget: int = _setting(6000, integer(256, 200_000))
    #: gitignore patterns of files the context engine leaves out, beyond .gitignore/.renignore
    ignore_files: tuple[str, ...] = _setting((), string_list(what="gitignore patterns"))
    #: gitignore patterns of more secret files, never read ("!pattern" lifts a default)
    secret_files: tuple[str, ...] = _setting((), string_list(what="gitignore patterns"),
                                             user_only=True)
    #: regular expressions of more secrets to redact (group 1 only, when there is one)
    secret_patterns: tuple[str, ...] = _setting(
        (), string_list(regex, "regular expressions that do not match empty text"))
    #: the most tool calls of one agent run (a run's maxSteps argument may lower or raise it)
    agent__max_steps: int = _setting(25, integer(1, 200))
    #: how often a failing verification is handed back to the model before "not verified"
    agent__max_fix_attempts: int = _setting(3, integer(0, 10))
    #: command prefixes the agent may run without asking (destructive ones always ask)
    agent__allowed_commands: tuple[str, ...] = _setting((), string_list(what="commands"),
                                                        user_only=True)
    #: seconds one agent command may run before its process group is killed
    agent__command_timeout: float = _setting(120.0, number(0, MAX_TIMEOUT, above=True))
    #: tokens (in and out, over every turn) one agent run may use
    agent__max_tokens: int = _setting(400_000, integer(1000, 10_000_000))
    #: pull requests open as drafts unless the command says ``draft: false``
    pull_requests__draft: bool = _setting(True, _BOOLEAN)
    #: None: guessed from the remote's host (GitHub for hosts it does not know)
    forge__provider: str | None = _setting(None, one_of(FORGES), destination=True)
    #: None: derived from the remote (api.github.com, {host}/api/v3, /api/v4, /api/v1)
    forge__api_url: str | None = _setting(None, _URL, destination=True)
    #: a command whose first line of output is the forge token, e.g. "gh auth token"
    forge__token_command: str | None = _setting(None, _TEXT, user_only=True)
    #: inline completion as you type (automatic triggers); an explicit request always answers
    completion__enabled: bool = _setting(False, _BOOLEAN)
    #: milliseconds of quiet after a keystroke before the model is asked (adapts to typing)
    completion__debounce_ms: int = _setting(150, integer(0, 2000))
    #: the most lines one completion may insert (1: never more than the rest of the line)
    completion__max_lines: int = _setting(12, integer(1, 200))
    #: lines of the file before the cursor that a completion request carries (and half as
    #: many after it)
    completion__context_lines: int = _setting(120, integer(10, 2000))


@attrs.frozen
class Resolved:
    """The settings, where each value came from, and what was wrong in the layers."""

    settings: Settings
    #: snake_case field name -> "default", "config file <path>", "env REN_…" or an editor layer
    sources: dict[str, str]
    #: human-readable, one per ignored value, unknown key or unreadable file
    problems: list[str]
    #: snake_case field name -> why no request may be sent: a setting that decides where code
    #: and keys go had an invalid value (no fallback to a lower layer's address or provider)
    errors: dict[str, str] = attrs.field(factory=dict)
    #: camelCase names of user-only settings an editor layer sent, ignored (``refused_message``)
    refused: tuple[str, ...] = ()

    def blocking_error(self, *fields: str) -> str | None:
        """Why requests must not be sent (for ``fields``, else any), or None."""
        return next((message for name, message in self.errors.items()
                     if not fields or name in fields), None)


def wire_name(field: str) -> str:
    """The camelCase name of a setting on the wire: ``max_tokens`` -> ``maxTokens``; a group
    is written with two underscores: ``agent__max_steps`` -> ``agent.maxSteps``."""

    def camel(name: str) -> str:
        first, *rest = name.split("_")
        return first + "".join(part.capitalize() for part in rest)

    return ".".join(camel(part) for part in field.split("__"))


def env_name(field: str) -> str:
    """The environment variable of a setting: ``max_tokens`` -> ``REN_MAX_TOKENS``,
    ``agent__max_steps`` -> ``REN_AGENT_MAX_STEPS``."""
    return ENV_PREFIX + field.replace("__", "_").upper()


_FIELDS: tuple[attrs.Attribute[Any], ...] = attrs.fields(Settings)
_BY_WIRE_NAME: Mapping[str, attrs.Attribute[Any]] = MappingProxyType(
    {wire_name(f.name): f for f in _FIELDS}
)
#: the groups of settings ("agent" of agent.maxSteps): a layer may nest them as objects
GROUPS = frozenset(name.split(".")[0] for name in _BY_WIRE_NAME if "." in name)


def config_file_path(env: Mapping[str, str] | None = None) -> Path:
    """The user config file: ``$REN_CONFIG`` if set, else ``<user config dir>/config.toml``."""
    env = os.environ if env is None else env
    override = env.get(CONFIG_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def settings_to_wire(settings: Settings) -> dict[str, Any]:
    """The settings as a camelCase dict for display, with the API key masked as ``***``."""
    wire = {}
    for field in _FIELDS:
        value = getattr(settings, field.name)
        if field.metadata["secret"] and value is not None:
            value = MASK
        wire[wire_name(field.name)] = value
    return wire


# -- problems: every message names the key, the layer, what was expected and what happens --------


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def invalid_value_problem(
    field: str, layer: str, value: object, kept: object, kept_from: str
) -> str:
    """The problem for an invalid ``value`` of ``field`` in ``layer``; ``kept`` stays in use."""
    attribute = getattr(attrs.fields(Settings), field)
    head = f"{wire_name(field)} in {layer}: expected {attribute.metadata['rule'].expected}"
    if attribute.metadata["secret"]:
        return f"{head}; ignored"  # neither the bad value nor the kept one: either may be the key
    using = "no value" if kept is None else repr(kept)
    if kept_from != "default":
        using += f" from {kept_from}"
    return f"{head}, got {_short_repr(value)}; using {using}"


def destination_error(field: str, layer: str, value: object) -> str:
    """Why no request is sent while ``field`` (which decides where code and keys go) has the
    invalid ``value`` from ``layer``."""
    attribute = getattr(attrs.fields(Settings), field)
    return (f"The {wire_name(field)} setting in {layer} is not valid (expected "
            f"{attribute.metadata['rule'].expected}, got {_short_repr(value)}): fix it there. "
            "Nothing is sent until then: ren-lsp never falls back to another provider or address.")


def refused_message(names: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The warning for user-only settings that came from the editor, naming where they go."""
    by_wire = {wire_name(f.name): f.name for f in _FIELDS}
    variables = ", ".join(env_name(by_wire[name]) for name in names)
    those = "it" if len(names) == 1 else "them"
    return (f"ren-lsp ignored {', '.join(names)} from the editor: settings that run commands, "
            "choose secret files or decide where code and keys go are read only from your "
            f"config file ({config_file_path(env)}) and the environment ({variables}), never "
            f"from an editor's or a repository's settings. Set {those} there.")


def unknown_setting_problem(key: object, layer: str, value: object = None) -> str:
    """The problem for a key that is not a setting, with a hint when one is close."""
    problem = f"unknown setting {_short_repr(key)} in {layer}; ignored"
    if not isinstance(key, str):
        return problem
    by_other_name = {f.name: f.name for f in _FIELDS} | {env_name(f.name): f.name for f in _FIELDS}
    if key in by_other_name:
        return f"{problem} (did you mean {wire_name(by_other_name[key])!r}?)"
    close = difflib.get_close_matches(key, list(_BY_WIRE_NAME), n=1)
    if close:
        return f"{problem} (did you mean {close[0]!r}?)"
    if isinstance(value, Mapping):
        names = ", ".join(repr(g) for g in sorted(GROUPS))
        groups = f", or in the group{'s' if len(GROUPS) > 1 else ''} {names}" if GROUPS else ""
        return f"{problem} (settings are not nested: put them at the top level{groups})"
    return problem


# -- layers ------------------------------------------------------------------------------------


@attrs.define
class _Merge:
    """The state of one load_settings call, as the layers are applied in order."""

    values: dict[str, Any] = attrs.Factory(lambda: {f.name: f.default for f in _FIELDS})
    sources: dict[str, str] = attrs.Factory(lambda: {f.name: "default" for f in _FIELDS})
    problems: list[str] = attrs.Factory(list)
    errors: dict[str, str] = attrs.Factory(dict)
    refused: list[str] = attrs.Factory(list)
    #: whether the layers being applied come from the editor (user-only settings are refused)
    from_editor: bool = False

    def set(self, field: attrs.Attribute[Any], raw: object, layer: str, from_env: bool) -> None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return
        name = field.name
        if self.from_editor and field.metadata["user_only"]:
            if wire_name(name) not in self.refused:
                self.refused.append(wire_name(name))
            return
        try:
            value = field.metadata["rule"].parse(raw, from_env)
        except (TypeError, ValueError, OverflowError):
            problem = invalid_value_problem(name, layer, raw, self.values[name],
                                            self.sources[name])
            if field.metadata["destination"]:
                # Where code and keys go: a typo must not send them to the default host.
                problem = (problem.split("; using ")[0] + "; using no other value: requests "
                           "stop with an error until it is fixed")
                self.errors[name] = destination_error(name, layer, raw)
            self.problems.append(problem)
            return
        self.values[name] = value
        self.sources[name] = layer
        self.errors.pop(name, None)

    def apply(self, layer: str, data: Mapping[Any, Any], group: str = "") -> None:
        for key, raw in data.items():
            if isinstance(key, str) and group:
                key = f"{group}.{key}"
            if isinstance(key, str) and key in GROUPS and isinstance(raw, Mapping):
                self.apply(layer, raw, key)  # {"agent": {"maxSteps": 5}}, or a TOML table
                continue
            field = _BY_WIRE_NAME.get(key) if isinstance(key, str) else None
            if field is None:
                self.problems.append(unknown_setting_problem(key, layer, raw))
            else:
                self.set(field, raw, layer, from_env=False)


def _read_config_file(path: Path, merge: _Merge, *, must_exist: bool) -> None:
    layer = f"config file {path}"
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        problem = "does not exist" if must_exist else ""
    except OSError as exc:
        problem = f"could not be read ({exc.strerror})"
    except UnicodeDecodeError:
        problem = "is not UTF-8 text"
    except tomllib.TOMLDecodeError as exc:  # its message names the line and column
        problem = f"is not valid TOML: {exc}"
    else:
        merge.apply(layer, data)
        return
    if problem:
        merge.problems.append(f"{layer} {problem}; ignored")


def _editor_settings(layer: str, data: object, problems: list[str]) -> Mapping[Any, Any]:
    if data is None:  # LSP allows null initializationOptions and settings
        return {}
    if not isinstance(data, Mapping):
        problems.append(
            f"settings in {layer}: expected an object, got {_short_repr(data)}; ignored"
        )
        return {}
    if "ren" not in data:
        return data
    # Nested under "ren": siblings are other tools' sections, which some clients send along.
    nested = data["ren"]
    if nested is None or isinstance(nested, Mapping):
        return nested or {}
    problems.append(f"'ren' in {layer}: expected an object, got {_short_repr(nested)}; ignored")
    return {}


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    config_path: Path | None = None,
    editor_layers: Sequence[tuple[str, Mapping[str, Any]]] = (),
    refuse_user_only: bool = False,
) -> Resolved:
    """Resolve the settings from every layer, lowest first; never raises for bad input.

    ``env`` defaults to ``os.environ``; ``config_path`` to ``config_file_path(env)`` (a missing
    file is a problem only when it was named explicitly). ``editor_layers`` are ``(name, data)``
    pairs, e.g. ``("initializationOptions", {...})``; ``data`` is a flat camelCase object or one
    nested under ``"ren"``. With ``refuse_user_only`` (the language server), user-only
    settings in ``editor_layers`` are ignored and named in ``Resolved.refused``.
    """
    env = os.environ if env is None else env
    merge = _Merge()
    must_exist = config_path is not None or bool(env.get(CONFIG_ENV, "").strip())
    path = config_path if config_path is not None else config_file_path(env)
    _read_config_file(path, merge, must_exist=must_exist)
    for field in _FIELDS:
        name = env_name(field.name)
        merge.set(field, env.get(name), f"env {name}", from_env=True)
    merge.from_editor = refuse_user_only
    for layer, data in editor_layers:
        merge.apply(layer, _editor_settings(layer, data, merge.problems))
    _provider_key(merge, env)
    return Resolved(Settings(**merge.values), merge.sources, merge.problems, merge.errors,
                    tuple(merge.refused))


def _provider_key(merge: _Merge, env: Mapping[str, str]) -> None:
    """The key of the chosen provider: its usual variable (ANTHROPIC_API_KEY, …) when no layer
    set one; and the Ren key (REN_API_KEY) is never sent to another provider."""
    provider = merge.values["provider"]
    variable = PROVIDER_KEYS[provider]
    from_ren_env = merge.sources["api_key"] == f"env {env_name('api_key')}"
    if provider != "ren" and from_ren_env:
        merge.values["api_key"], merge.sources["api_key"] = None, "default"
    if merge.values["api_key"] is None and variable and variable != env_name("api_key"):
        value = env.get(variable, "").strip()
        if value:
            merge.values["api_key"], merge.sources["api_key"] = value, f"env {variable}"
