"""Key-value secrets in config syntaxes, quoted or not, are redacted; ordinary code that only
looks like them is not; a session's marks are its own and put back exactly."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.context import redact
from ren_lsp.context.secrets import Redactor, find_secrets

NAMES = ["password", "db_password", "DB_PASSWORD", "secret", "SECRET_KEY", "api_key", "apiKey",
         "token", "auth_token", "client_secret", "db.password", "private_key", "passphrase"]
#: secret values as people write them: a word, a dash or digits mixed in (a dotted value,
#: ``abc.def7``, reads as an attribute of code and is left alone when unquoted)
VALUES = st.tuples(st.text(string.ascii_letters, min_size=2, max_size=8),
                   st.sampled_from("-_9"),
                   st.text(string.ascii_letters + string.digits, min_size=3, max_size=12)).map(
    lambda p: f"{p[0]}{p[1]}{p[2]}7")
#: the config syntaxes: a key and a value to one line
SYNTAXES = [
    "{k} = {v}",            # INI, TOML-like, .properties with spaces
    "{k}={v}",              # env, .properties
    "export {k}={v}",       # shell
    "{k}: {v}",             # YAML
    "  {k}: {v}  # rotated in May",  # nested YAML with a comment
    "- {k}={v}",            # a docker-compose environment list
    "{k} = {v} ; old",      # INI with a comment
    '{k} = "{v}"',          # TOML, Python
    "{k}: '{v}'",           # YAML quoted
    '"{k}": "{v}",',        # JSON
    '{k}="{v}"',            # env quoted
    "{k} : {v}",            # .properties with a colon
]


@given(name=st.sampled_from(NAMES), value=VALUES, syntax=st.sampled_from(SYNTAXES),
       before=st.sampled_from(["", "[section]\n", "config:\n", "{\n"]))
def test_a_key_value_secret_is_redacted_in_every_config_syntax(
        name: str, value: str, syntax: str, before: str) -> None:
    text = before + syntax.format(k=name, v=value) + "\n"
    redacted, count = redact(text)
    assert value not in redacted and count == 1
    assert "<redacted:assignment>" in redacted
    assert redacted.count("\n") == text.count("\n")


@pytest.mark.parametrize(("text", "secret"), [
    ("password = ini-PWINI-123", "ini-PWINI-123"),
    ("token: plain-TOKEN-xyz", "plain-TOKEN-xyz"),
    ('"api_key": "json-KEY-4471"', "json-KEY-4471"),
    ("SECRET_KEY=django-insecure-x8", "django-insecure-x8"),
    ("password = hunter22", "hunter22"),
])
def test_the_issues_examples(text: str, secret: str) -> None:
    assert secret not in redact(text)[0]


IDENTIFIER = st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).filter(
    lambda s: s.strip("_"))
#: right-hand sides of ordinary code: names, attribute chains, calls, subscripts, constants
EXPRESSIONS = st.one_of(
    IDENTIFIER,
    IDENTIFIER.map(str.upper),
    st.lists(IDENTIFIER, min_size=2, max_size=4).map(".".join),
    st.tuples(IDENTIFIER, IDENTIFIER).map(lambda p: f"{p[0]}({p[1]})"),
    st.tuples(IDENTIFIER, st.integers(0, 99)).map(lambda p: f"{p[0]}[{p[1]}]"),
    st.tuples(IDENTIFIER, IDENTIFIER).map(lambda p: f'{p[0]}.get("{p[1].upper()}")'),
    st.sampled_from(["None", "True", "False", "null", "''", '""', "[]", "{}", "0", "-1",
                     "3.14", "0x1F", "${DB_PASSWORD}", "$TOKEN", "<%= token %>", "{{ secret }}",
                     "os.environ['API_KEY']", "getpass()", "args.password", "self.token",
                     "next(tokens)", "tokens[i]", "Field(repr=False)", "str", "SecretStr | None"]),
)
STATEMENTS = ["{k} = {e}", "    {k} = {e}", "{k} := {e}", "{k} = {e};", "    {k}={e},",
              "{k}: str = {e}", "if {k} == {e}:", "return {k} or {e}"]


@given(name=st.sampled_from(NAMES), expression=EXPRESSIONS,
       statement=st.sampled_from(STATEMENTS))
def test_ordinary_code_is_not_redacted(name: str, expression: str, statement: str) -> None:
    text = statement.format(k=name, e=expression)
    assert redact(text) == (text, 0)


PLANTED = st.one_of(
    st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16).map(
        lambda t: f'AWS = "AKIA{t}"'),
    st.text(string.ascii_letters + string.digits, min_size=36, max_size=36).map(
        lambda t: f"gh = ghp_{t}"),
    VALUES.map(lambda v: f"password = {v}"),
    st.lists(st.text(string.ascii_letters + "+/", min_size=40, max_size=40), min_size=1,
             max_size=3).map(lambda body: "-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(body)
                             + "\n-----END EC PRIVATE KEY-----"),
)
CODE = st.sampled_from(["def f(x):", "    return x", "", "token = self.token", "x = 1"])


@given(lines=st.lists(st.one_of(PLANTED, CODE), min_size=1, max_size=8))
def test_a_session_puts_back_exactly_what_it_redacted(lines: list[str]) -> None:
    text = "\n".join(lines)
    session = Redactor()
    once = session.redact(text)
    assert session.restore(once) == text
    assert session.redact(once) == once  # redacting twice changes nothing
    assert session.unknown(once) == []
    assert once.count("\n") == text.count("\n")


def test_the_same_secret_gets_the_same_mark_and_others_are_unknown() -> None:
    session = Redactor()
    first = session.redact('password = "hunter22-x"')
    second = session.redact('login(password="hunter22-x", token="tok-2291")')
    assert first == 'password = "<redacted:assignment:1>"'
    assert second == 'login(password="<redacted:assignment:1>", token="<redacted:assignment:2>")'
    assert session.unknown('x = "<redacted:assignment>" + "<redacted:assignment:9>"') == [
        "<redacted:assignment:9>", "<redacted:assignment>"]
    assert session.unknown("<redacted:custom>", allowed="# <redacted:custom> in the file") == []


def fragments(secret: str, size: int = 8) -> set[str]:
    """Every piece of ``size`` characters of a secret, within its lines."""
    return {line[at:at + size] for line in secret.split("\n")
            for at in range(len(line) - size + 1)}


@given(lines=st.lists(st.one_of(PLANTED, CODE), min_size=1, max_size=6),
       cut=st.tuples(st.integers(0, 400), st.integers(0, 400)))
def test_a_selection_that_cuts_a_secret_is_redacted_too(
        lines: list[str], cut: tuple[int, int]) -> None:
    document = "\n".join(lines) + "\n"
    start, end = sorted(min(c, len(document)) for c in cut)
    selection = document[start:end]
    session = Redactor()
    session.learn(document)
    prompt = f"Explain this:\n```\n{selection}\n```\n"
    sent = session.redact(prompt)
    for a, b, _ in find_secrets(document):
        # nothing of 8 characters or more of a secret is left in what is sent
        assert [f for f in fragments(document[a:b]) if f in selection and f in sent] == []
    assert session.restore(sent) == prompt
