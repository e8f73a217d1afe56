"""What inline completion asks the model: fill in the middle between the text before and after
the cursor. The emulator reads the same shape (``<FILE>`` … ``<CURSOR>`` … ``</FILE>``)."""

from __future__ import annotations

from collections.abc import Sequence

SYSTEM = (
    "You are Astra, a code completion engine inside the user's editor. You get a file with the "
    "marker <CURSOR> where the user's cursor is. Answer with exactly the code to insert at "
    "<CURSOR>: no explanation, no Markdown fences, and nothing that is already before or after "
    "the cursor. If nothing should be inserted, answer with nothing."
)


def infill(*, path: str, language: str, prefix: str, suffix: str, block: bool,
           definitions: Sequence[str] = ()) -> str:
    """The user turn of one completion: where, the repository's definitions of the names near
    the cursor (signatures only), the file around the cursor, and how much to write."""
    parts = [f"File: {path}" + (f" ({language})" if language else "")]
    if definitions:
        parts.append("Definitions elsewhere in the repository of names used near the cursor:\n"
                     + "\n".join(definitions))
    parts.append(f"<FILE>\n{prefix}<CURSOR>{suffix}\n</FILE>")
    parts.append("Complete the code at <CURSOR>: a few lines at most, ending where the block "
                 "ends." if block else
                 "Complete the line at <CURSOR>: the rest of this line only.")
    return "\n\n".join(parts)
