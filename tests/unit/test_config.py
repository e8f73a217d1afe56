"""The settings model: layers, provenance, problems, the API key, and the schema's agreement."""

from __future__ import annotations

import json
import os
import shlex
import sys
import typing
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import platformdirs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ren_lsp.config import (
    LOG_LEVELS,
    Resolved,
    Settings,
    config_file_path,
    env_name,
    load_settings,
    settings_to_wire,
    wire_name,
)
from ren_lsp.keys import resolve_api_key
from ren_lsp.models.errors import MissingKeyError
from ren_lsp.settings_rules import URL_PATTERN

SCHEMA_PATH = Path(__file__).parents[2] / "schemas" / "settings.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
PROPERTIES: dict[str, Any] = SCHEMA["properties"]
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FIELDS = attrs.fields(Settings)
SECRET = "sk-ren-TOPSECRET-4242"
EMPTY_FILE = Path(os.devnull)  # reads as an empty TOML document, in hypothesis tests too


def load(config: Path = EMPTY_FILE, env: dict[str, str] | None = None, *editor: Any) -> Resolved:
    """load_settings without the real environment or the real user config file."""
    return load_settings(env=env or {}, config_path=config, editor_layers=editor)


@pytest.fixture
def toml(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


# -- defaults and layers -------------------------------------------------------------------------


def test_defaults(toml) -> None:
    resolved = load(toml(""), {})
    assert resolved.settings == Settings()
    assert resolved.problems == []
    assert resolved.sources == {f.name: "default" for f in FIELDS}
    s = resolved.settings
    assert (s.provider, s.api_key, s.api_key_command, s.base_url, s.model) == (
        "ren", None, None, None, None)  # None: the provider's own address and model
    assert (s.max_tokens, s.temperature, s.max_retries, s.log_level) == (4096, None, 3, "info")
    assert (s.connect_timeout, s.first_byte_timeout, s.event_timeout) == (10.0, 60.0, 60.0)


def test_names_are_derived_from_the_fields() -> None:
    assert wire_name("max_tokens") == "maxTokens"
    assert wire_name("first_byte_timeout") == "firstByteTimeout"
    assert wire_name("model") == "model"
    assert wire_name("agent__max_steps") == "agent.maxSteps"
    assert env_name("agent__max_steps") == "REN_AGENT_MAX_STEPS"
    assert env_name("api_key_command") == "REN_API_KEY_COMMAND"


@pytest.mark.parametrize("layers", [1, 2, 3, 4])
def test_each_layer_overrides_the_one_below(toml, layers: int) -> None:
    path = toml('maxTokens = 100\nmodel = "from-file"\n')
    env = {"REN_MAX_TOKENS": "200"} if layers >= 2 else {}
    editor = [
        ("initializationOptions", {"maxTokens": 300}),
        ("didChangeConfiguration", {"ren": {"maxTokens": 400}}),
    ][: max(layers - 2, 0)]
    resolved = load(path, env, *editor)
    expected = [
        (100, f"config file {path}"),
        (200, "env REN_MAX_TOKENS"),
        (300, "initializationOptions"),
        (400, "didChangeConfiguration"),
    ][layers - 1]
    assert (resolved.settings.max_tokens, resolved.sources["max_tokens"]) == expected
    # what no upper layer set keeps its own source
    assert resolved.settings.model == "from-file"
    assert resolved.sources["model"] == f"config file {path}"
    assert resolved.sources["log_level"] == "default"
    assert resolved.problems == []


def test_env_strings_are_parsed_to_the_fields_types(toml) -> None:
    env = {
        "REN_MAX_TOKENS": " 8192 ",
        "REN_TEMPERATURE": "0.25",
        "REN_CONNECT_TIMEOUT": "5",
        "REN_FIRST_BYTE_TIMEOUT": "1e2",
        "REN_MAX_RETRIES": "0",
        "REN_LOG_LEVEL": "DEBUG",
        "REN_BASE_URL": "http://127.0.0.1:8765/",
        "REN_MODEL": "astra-mini",
        "REN_API_KEY_COMMAND": "pass show ren/api-key",
    }
    resolved = load(toml(""), env)
    assert resolved.problems == []
    s = resolved.settings
    assert s.max_tokens == 8192 and type(s.max_tokens) is int
    assert s.temperature == 0.25
    assert s.connect_timeout == 5.0 and type(s.connect_timeout) is float
    assert s.first_byte_timeout == 100.0
    assert s.max_retries == 0
    assert s.log_level == "debug"
    assert s.base_url == "http://127.0.0.1:8765"  # trailing slash stripped
    assert s.model == "astra-mini"
    assert s.api_key_command == "pass show ren/api-key"
    assert {resolved.sources[f] for f in ("max_tokens", "base_url")} == {
        "env REN_MAX_TOKENS",
        "env REN_BASE_URL",
    }


@given(tokens=st.integers(min_value=1, max_value=200_000), temp=st.floats(0, 1))
def test_env_numbers_round_trip(tokens: int, temp: float) -> None:
    resolved = load(EMPTY_FILE, {"REN_MAX_TOKENS": str(tokens), "REN_TEMPERATURE": repr(temp)})
    assert resolved.problems == []
    assert (resolved.settings.max_tokens, resolved.settings.temperature) == (tokens, temp)


def test_empty_env_strings_mean_unset(toml) -> None:
    path = toml("maxTokens = 100")
    env = {env_name(f.name): "" for f in FIELDS} | {"REN_MODEL": "   "}
    resolved = load(path, env)
    assert resolved.problems == []
    assert resolved.settings.max_tokens == 100
    assert resolved.settings.model is None  # the provider's default


@pytest.mark.parametrize(
    "data", [{"maxTokens": 7}, {"ren": {"maxTokens": 7}}, {"ren": {"maxTokens": 7}, "eslint": {}}]
)
def test_editor_layer_flat_or_nested_under_ren(toml, data: dict[str, Any]) -> None:
    resolved = load(toml(""), {}, ("initializationOptions", data))
    assert resolved.settings.max_tokens == 7
    assert resolved.sources["max_tokens"] == "initializationOptions"
    assert resolved.problems == []


def test_null_means_not_set_in_that_layer(toml) -> None:
    """Editors send null for settings the user never touched; that must not hide a lower layer."""
    env = {"REN_API_KEY": SECRET, "REN_TEMPERATURE": "0.5"}
    layer = {"apiKey": None, "temperature": None, "apiKeyCommand": ""}
    resolved = load(toml(""), env, ("initializationOptions", layer), ("didChange", None))
    assert resolved.problems == []
    assert resolved.settings.api_key == SECRET
    assert resolved.settings.temperature == 0.5
    assert resolved.sources["temperature"] == "env REN_TEMPERATURE"


@pytest.mark.parametrize("data", [["maxTokens", 7], {"ren": 5}, "maxTokens=7"])
def test_editor_layer_that_is_not_an_object_is_a_problem(toml, data: Any) -> None:
    resolved = load(toml(""), {}, ("initializationOptions", data))
    assert resolved.settings == Settings()
    [problem] = resolved.problems
    assert "initializationOptions" in problem and "expected an object" in problem


# -- invalid values -----------------------------------------------------------------------------

# (key, an invalid value in a file or an editor, an invalid value in the environment)
INVALID = [
    ("maxTokens", "lots", "lots"),
    ("maxTokens", 0, "0"),
    ("maxTokens", 12.5, "12.5"),
    ("maxTokens", True, "true"),
    ("maxRetries", 11, "11"),
    ("maxRetries", -1, "-1"),
    ("temperature", 1.5, "1.5"),
    ("temperature", "hot", "nan"),
    ("connectTimeout", 0, "0"),
    ("firstByteTimeout", -3, "-3"),
    ("eventTimeout", [1], "inf"),
    ("eventTimeout", 10**400, "1e400"),
    ("baseUrl", "ftp://example.com", "ftp://example.com"),
    ("baseUrl", "api.ren.ai", "api.ren.ai"),
    ("baseUrl", "https://", "https:///v1"),
    ("baseUrl", 42, "https://exa mple.com"),
    ("logLevel", "verbose", "trace"),
    ("logLevel", 3, "warn"),
    ("model", {"name": "astra"}, None),
    ("apiKeyCommand", ["pass", "show"], None),
]
LOWER = {  # a valid value from a lower layer, which an invalid one above must leave in place
    "maxTokens": (100, "100"),
    "maxRetries": (5, "5"),
    "temperature": (0.5, "0.5"),
    "connectTimeout": (3, "3"),
    "firstByteTimeout": (30, "30"),
    "eventTimeout": (20, "20"),
    "baseUrl": ("http://localhost:9", "http://localhost:9"),
    "logLevel": ("debug", "debug"),
    "model": ("m", "m"),
    "apiKeyCommand": ("true", "true"),
}


def field_of(key: str) -> str:
    [name] = [f.name for f in FIELDS if wire_name(f.name) == key]
    return name


def to_toml(value: Any) -> str:
    """Enough TOML for the values above (no TOML writer is installed)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {to_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(map(to_toml, value)) + "]"
    return json.dumps(value)


@pytest.mark.parametrize(
    ("key", "bad", "bad_env", "layer"),
    [
        (key, bad, bad_env, layer)
        for key, bad, bad_env in INVALID
        for layer in ("config file", "env", "editor")
        if bad_env is not None or layer != "env"  # every string is valid for text settings
    ],
)
def test_invalid_value_is_reported_and_the_lower_value_kept(
    toml, key: str, bad: Any, bad_env: str, layer: str
) -> None:
    name = field_of(key)
    lower, lower_env = LOWER[key]
    if layer == "config file":  # the lowest layer but the defaults
        path = toml(f"{key} = {to_toml(bad)}\n")
        resolved = load(path, {})
        where, kept, kept_from = f"config file {path}", getattr(Settings(), name), "default"
    elif layer == "env":
        resolved = load(toml(f"{key} = {to_toml(lower)}\n"), {env_name(name): bad_env})
        where, kept, kept_from = f"env {env_name(name)}", lower, "config file"
    else:
        env = {env_name(name): lower_env}
        resolved = load(toml(""), env, ("didChangeConfiguration", {"ren": {key: bad}}))
        where, kept, kept_from = "didChangeConfiguration", lower, f"env {env_name(name)}"
    [problem] = resolved.problems
    assert problem.startswith(f"{key} in {where}: expected ")
    assert "; using " in problem
    assert getattr(resolved.settings, name) == kept
    assert resolved.sources[name].startswith(kept_from)


def test_unknown_keys_are_reported_with_a_hint(toml) -> None:
    path = toml('max_tokens = 5\nfooBar = 1\n[ren]\nmodel = "x"\n')
    resolved = load(path, {}, ("initializationOptions", {"temprature": 0.1, "REN_MODEL": "x"}))
    assert resolved.settings == Settings()
    assert resolved.problems == [
        f"unknown setting 'max_tokens' in config file {path}; ignored (did you mean 'maxTokens'?)",
        f"unknown setting 'fooBar' in config file {path}; ignored",
        f"unknown setting 'ren' in config file {path}; ignored "
        "(settings are not nested: put them at the top level, or in the groups 'agent', "
        "'completion', 'forge', 'pullRequests')",
        "unknown setting 'temprature' in initializationOptions; ignored "
        "(did you mean 'temperature'?)",
        "unknown setting 'REN_MODEL' in initializationOptions; ignored (did you mean 'model'?)",
    ]


def test_a_broken_toml_file_is_reported_not_raised(toml) -> None:
    path = toml('model = "ok"\nmaxTokens = = 5\n')
    resolved = load(path, {"REN_MAX_RETRIES": "1"})
    [problem] = resolved.problems
    assert str(path) in problem and "line 2" in problem and "TOML" in problem
    assert resolved.settings.model is None  # nothing of a broken file is used
    assert resolved.settings.max_retries == 1  # the other layers still are


def test_unreadable_config_files_are_reported(tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'model = "\xff"\n')
    assert "not UTF-8" in load(binary, {}).problems[0]
    assert "could not be read" in load(tmp_path, {}).problems[0]  # a directory


def test_ren_config_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("maxRetries = 7\n", encoding="utf-8")
    env = {"REN_CONFIG": str(path)}
    assert config_file_path(env) == path
    resolved = load_settings(env=env)
    assert resolved.settings.max_retries == 7
    assert resolved.sources["max_retries"] == f"config file {path}"
    assert resolved.problems == []


def test_a_missing_file_is_a_problem_only_when_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    [problem] = load_settings(env={"REN_CONFIG": str(missing)}).problems
    assert problem == f"config file {missing} does not exist; ignored"
    default = platformdirs.user_config_path("ren-lsp") / "config.toml"
    assert config_file_path({}) == config_file_path({"REN_CONFIG": " "}) == default


# -- the key never shows -------------------------------------------------------------------------


def assert_hidden(resolved: Resolved) -> None:
    shown = [repr(resolved), repr(resolved.settings), str(resolved.settings)]
    shown += [json.dumps(settings_to_wire(resolved.settings)), *resolved.problems]
    shown += list(resolved.sources.values())
    for text in shown:
        assert SECRET not in text


@pytest.mark.parametrize("where", ["file", "env", "editor"])
def test_the_key_is_masked_wherever_it_was_set(toml, where: str) -> None:
    path = toml(f'apiKey = "{SECRET}"\n' if where == "file" else "")
    env = {"REN_API_KEY": SECRET} if where == "env" else {}
    layer = {"apiKey": SECRET} if where == "editor" else {}
    resolved = load(path, env, ("initializationOptions", layer))
    assert resolved.settings.api_key == SECRET
    assert "'***'" in repr(resolved.settings)
    assert settings_to_wire(resolved.settings)["apiKey"] == "***"
    assert_hidden(resolved)


def test_the_key_stays_out_of_problems(toml) -> None:
    # a valid key below an invalid one, the key under a wrong name, and a number as the key
    path = toml(f'api_key = "{SECRET}"\n')
    layers = [
        ("initializationOptions", {"apiKey": 4242, "ren_api_key": SECRET}),
        ("didChangeConfiguration", {"apiKey": [SECRET]}),
    ]
    resolved = load(path, {"REN_API_KEY": SECRET}, *layers)
    assert len(resolved.problems) == 4
    assert "apiKey in initializationOptions: expected a string; ignored" in resolved.problems
    assert all("4242" not in problem for problem in resolved.problems)
    assert_hidden(resolved)
    assert settings_to_wire(Settings())["apiKey"] is None
    assert "api_key=None" in repr(Settings())


# -- resolve_api_key ----------------------------------------------------------------------------


def python_command(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def test_resolve_api_key_prefers_the_setting() -> None:
    settings = Settings(api_key="k-set", api_key_command=python_command("raise SystemExit(1)"))
    assert resolve_api_key(settings) == "k-set"
    assert resolve_api_key(Settings()) is None


def test_resolve_api_key_runs_the_command() -> None:
    assert resolve_api_key(Settings(api_key_command=python_command("print('k-123')"))) == "k-123"
    # like `pass show`: the secret on the first line, metadata after it
    code = "print(); print('  k-456  '); print('user: me')"
    assert resolve_api_key(Settings(api_key_command=python_command(code))) == "k-456"


def test_a_failing_command_names_its_exit_status_not_its_output() -> None:
    # the output is spelled differently in the command, so finding it in the message means a leak
    code = "import sys; print('sec' + 'ret1'); print('sec' + 'ret2', file=sys.stderr); sys.exit(3)"
    command = python_command(code)
    with pytest.raises(MissingKeyError) as caught:
        resolve_api_key(Settings(api_key_command=command))
    message = str(caught.value)
    assert "exit status 3" in message and command in message
    assert "secret1" not in message and "secret2" not in message


@pytest.mark.parametrize(
    ("command", "timeout", "expected"),
    [
        (python_command("pass"), 10, "printed nothing"),
        (python_command("print('   ')"), 10, "printed nothing"),
        (python_command("import time; time.sleep(30)"), 0.5, "did not finish within 0.5 s"),
        ("/nonexistent/ren-key-helper --get", 10, "could not be run"),
        ("pass show 'ren", 10, "could not be parsed"),
    ],
)
def test_a_command_that_gives_no_key_raises(command: str, timeout: float, expected: str) -> None:
    with pytest.raises(MissingKeyError, match=expected):
        resolve_api_key(Settings(api_key_command=command), timeout=timeout)


# -- the schema and the model agree -------------------------------------------------------------

JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean",
              type(None): "null"}


def test_the_schema_is_valid_and_closed() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["type"] == "object"
    assert SCHEMA["additionalProperties"] is False


def test_the_schema_and_the_model_agree() -> None:
    hints = typing.get_type_hints(Settings)
    assert list(PROPERTIES) == [wire_name(f.name) for f in FIELDS]
    for field in FIELDS:
        prop = PROPERTIES[wire_name(field.name)]
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        hint = hints[field.name]
        if typing.get_origin(hint) is tuple:  # a list of strings on the wire
            expected = ["array"]
            assert prop["items"]["type"] == "string", field.name
        else:
            expected = [JSON_TYPES[t] for t in typing.get_args(hint)] or [JSON_TYPES[hint]]
        assert types == expected, field.name
        default = list(field.default) if isinstance(field.default, tuple) else field.default
        assert prop.get("default") == default, field.name
        assert len(prop["description"]) > 20 and prop["description"].endswith("."), field.name
        # What decides where the key goes, and which files count as secrets, is the user's
        # alone: a workspace's settings must not change it.
        user_only = {"provider", "api_key", "api_key_command", "base_url", "secret_files",
                     "agent__allowed_commands", "forge__provider", "forge__api_url",
                     "forge__token_command"}
        scope = "application" if field.name in user_only else "window"
        assert prop["x-scope"] == scope
        for example in prop["examples"]:
            VALIDATOR.validate({wire_name(field.name): example})
    assert PROPERTIES["baseUrl"]["pattern"] == URL_PATTERN
    assert PROPERTIES["logLevel"]["enum"] == list(LOG_LEVELS)
    assert "REN_API_KEY" in PROPERTIES["apiKey"]["description"]
    assert "apiKeyCommand" in PROPERTIES["apiKey"]["description"]


def strategy_for(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the property's schema accepts (the keywords this schema uses, nothing more)."""
    options: list[st.SearchStrategy[Any]] = []
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    low: Any = prop.get("minimum", prop.get("exclusiveMinimum"))
    high: Any = prop.get("maximum")
    for json_type in types:
        if json_type == "null":
            options.append(st.none())
        elif json_type == "boolean":
            options.append(st.booleans())
        elif "enum" in prop:
            options.append(st.sampled_from(prop["enum"]))
        elif "pattern" in prop:
            options.append(st.from_regex(prop["pattern"]))
        elif json_type == "string":
            options.append(st.text(min_size=prop.get("minLength", 0)))
        elif json_type == "array" and prop["items"].get("format") == "regex":
            # any regular expression that cannot match empty text (the schema cannot say so)
            options.append(st.lists(st.from_regex(r"\A[A-Za-z0-9]{1,8}\Z"), max_size=3))
        elif json_type == "array":
            options.append(st.lists(strategy_for(prop["items"]), max_size=3))
        elif json_type == "integer":
            options.append(st.integers(low, high))
        elif json_type == "boolean":
            options.append(st.booleans())
        elif json_type == "number":
            exclusive = "exclusiveMinimum" in prop
            options.append(st.floats(low, high, exclude_min=exclusive))
            options.append(st.integers(low + exclusive, high))
    return st.one_of(options)


VALID_SETTINGS = st.fixed_dictionaries(
    {}, optional={key: strategy_for(prop) for key, prop in PROPERTIES.items()}
)


@given(data=VALID_SETTINGS, nested=st.booleans())
def test_anything_the_schema_accepts_loads_without_problems(
    data: dict[str, Any], nested: bool
) -> None:
    VALIDATOR.validate(data)
    layer = ("didChangeConfiguration", {"ren": data} if nested else data)
    resolved = load(EMPTY_FILE, {}, layer)
    assert resolved.problems == []
    for key, value in data.items():
        if value is not None and not (isinstance(value, str) and not value.strip()):
            assert resolved.sources[field_of(key)] == "didChangeConfiguration"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(), inner, max_size=2),
    max_leaves=4,
)


def lenient(key: str, value: Any) -> bool:
    """Where the model accepts more than the schema: null and blank (unset), padding, case."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    if isinstance(value, str):
        normal = value.strip().lower() if key == "logLevel" else value.strip()
        return VALIDATOR.is_valid({key: normal})
    return False


@given(key=st.sampled_from(list(PROPERTIES)), value=JSON_VALUES)
def test_what_the_schema_rejects_is_reported(key: str, value: Any) -> None:
    assume(not VALIDATOR.is_valid({key: value}) and not lenient(key, value))
    resolved = load(EMPTY_FILE, {}, ("initializationOptions", {key: value}))
    [problem] = resolved.problems
    assert problem.startswith(f"{key} in initializationOptions: expected ")
    assert resolved.settings == Settings()


# -- list settings (the context engine's patterns) ---------------------------------------------


def test_list_settings_from_the_environment_are_json_arrays_or_one_item() -> None:
    resolved = load(EMPTY_FILE, {"REN_IGNORE_FILES": '["docs/gen/", " *.snap "]',
                                 "REN_SECRET_FILES": "*.vault",
                                 "REN_CONTEXT_BUDGET": "12000"})
    assert resolved.problems == []
    s = resolved.settings
    assert s.ignore_files == ("docs/gen/", "*.snap")
    assert s.secret_files == ("*.vault",)
    assert s.context_budget == 12000
    assert Settings().secret_patterns == ()


@pytest.mark.parametrize(("key", "value"), [
    ("secretPatterns", ["("]),         # not a regular expression
    ("secretPatterns", ["x*"]),        # matches empty text: would redact everything
    ("ignoreFiles", "build/"),         # a string, not a list
    ("secretFiles", ["ok", 3]),        # not all strings
    ("ignoreFiles", ["  "]),           # a blank pattern
])
def test_bad_list_settings_are_reported_and_ignored(key: str, value: Any) -> None:
    resolved = load(EMPTY_FILE, {}, ("initializationOptions", {key: value}))
    [problem] = resolved.problems
    assert problem.startswith(f"{key} in initializationOptions: expected a list of ")
    assert resolved.settings == Settings()


def test_each_provider_takes_its_own_key_and_never_the_ren_key(toml) -> None:
    path = toml("")
    env = {"REN_API_KEY": "sk-ren-1", "OPENAI_API_KEY": "sk-openai-2",
           "ANTHROPIC_API_KEY": "sk-ant-3"}
    assert load(path, env).settings.api_key == "sk-ren-1"
    for provider, key, source in (("openai", "sk-openai-2", "env OPENAI_API_KEY"),
                                  ("anthropic", "sk-ant-3", "env ANTHROPIC_API_KEY"),
                                  ("ollama", None, "default")):
        resolved = load(path, {**env, "REN_PROVIDER": provider})
        assert resolved.settings.api_key == key, provider
        assert resolved.sources["api_key"] == source
    # Only the Ren key known: no other provider gets it.
    resolved = load(path, {"REN_API_KEY": "sk-ren-1", "REN_PROVIDER": "openai"})
    assert resolved.settings.api_key is None
    # A provider chosen in the editor is honoured the same way.
    editor = [("initializationOptions", {"provider": "anthropic"})]
    resolved = load_settings(env=env, config_path=path, editor_layers=editor)
    assert resolved.settings.api_key == "sk-ant-3"


def test_a_key_set_in_the_config_file_is_used_for_any_provider(toml) -> None:
    path = toml('apiKey = "sk-file-9"\nprovider = "openai"')
    resolved = load(path, {"OPENAI_API_KEY": "sk-openai-2"})
    assert resolved.settings.api_key == "sk-file-9"


def test_an_unknown_provider_is_reported(toml) -> None:
    resolved = load(toml('provider = "gemini"'), {})
    assert resolved.settings.provider == "ren"
    [problem] = resolved.problems
    assert "provider" in problem and "openai" in problem


def test_grouped_settings_nest_or_use_dotted_names(toml) -> None:
    path = toml('[agent]\nmaxSteps = 7\nallowedCommands = ["pytest"]\n')
    resolved = load(path, {"REN_AGENT_MAX_FIX_ATTEMPTS": "1"},
                    ("initializationOptions", {"ren": {"agent": {"commandTimeout": 9}}}),
                    ("workspace/didChangeConfiguration", {"agent.maxTokens": 5000}))
    s = resolved.settings
    assert resolved.problems == []
    assert (s.agent__max_steps, s.agent__allowed_commands) == (7, ("pytest",))
    assert (s.agent__max_fix_attempts, s.agent__command_timeout) == (1, 9.0)
    assert s.agent__max_tokens == 5000
    assert resolved.sources["agent__max_fix_attempts"] == "env REN_AGENT_MAX_FIX_ATTEMPTS"
    bad = load(toml('[agent]\nmaxStep = 7\n'))
    assert bad.problems and "agent.maxStep" in bad.problems[0]
    assert "agent.maxSteps" in bad.problems[0]  # the hint
