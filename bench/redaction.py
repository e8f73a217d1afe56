"""What does a session's redaction step cost over the plain redaction the context already did?

A prompt as Explain builds it from a large file (the selection, 30 lines around it, the
repository context) is redacted by ``redact`` (the baseline: patterns only) and by a session's
``Redactor`` that has learned the secrets of the whole document (patterns, numbered marks,
and the learned secrets whole or cut at a line's edge), in alternating order. Prints the median
times and their ratio. Ratios, not absolute times: these machines are noisy.

    .venv/bin/python bench/redaction.py [--lines 3000] [--secrets 20] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from ren_lsp.context.secrets import Redactor, redact


def document(lines: int, secrets: int) -> str:
    """Code with a secret of each common kind every so often, and words that trigger the
    assignment patterns on many lines (the slow case)."""
    out = []
    for i in range(lines):
        out.append(f"def handler_{i}(request, token=None):\n    return request.session[{i}]\n")
        if secrets and i % max(1, lines // secrets) == 0:
            out.append(f'DB_PASSWORD_{i} = "pw-{i:06d}-secret"\n'
                       f"AWS_{i} = 'AKIA{i:016d}'\n")
    return "".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--secrets", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    text = document(args.lines, args.secrets)
    prompt = f"Explain this code:\n\n```python\n{text}\n```\n"
    plain, session = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        redact(prompt)
        plain.append(time.perf_counter() - start)
        redactor = Redactor()
        start = time.perf_counter()
        redactor.learn(text)
        redactor.redact(prompt)
        session.append(time.perf_counter() - start)
    base, ours = statistics.median(plain), statistics.median(session)
    print(f"prompt: {len(prompt) // 1000} KB, {args.secrets} secrets of each kind")
    print(f"redact (baseline):          {base * 1000:8.1f} ms")
    print(f"session learn + redact:     {ours * 1000:8.1f} ms   ratio {ours / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
