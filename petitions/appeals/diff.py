"""Word-level differences between two revisions of a letter."""
import difflib
import json
import re
from dataclasses import dataclass

from petitions.appeals.models import CONTENT_FIELDS

_TOKEN = re.compile(r"\w+|[^\w\s]|\s+")
LABELS = {"title": "Title", "subject": "Subject", "addressees": "Addressees", "body": "Text", "demands": "Demands",
          "closing": "Closing", "place": "Place", "letter_date": "Date", "senders": "Sending organizations"}


@dataclass
class Chunk:
    op: str  # "equal", "insert" or "delete"
    text: str


def _as_text(key: str, value) -> str:
    if key == "addressees":
        return "\n".join(" · ".join(v for v in a.values() if v) for a in value or [])
    if key == "demands":
        return "\n".join(f"{i}. {d}" for i, d in enumerate(value or [], 1))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def word_diff(old: str, new: str) -> list[Chunk]:
    """Return the difference of two texts word by word, keeping whitespace."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    chunks: list[Chunk] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            chunks.append(Chunk("equal", "".join(a[i1:i2])))
        else:
            if i2 > i1:
                chunks.append(Chunk("delete", "".join(a[i1:i2])))
            if j2 > j1:
                chunks.append(Chunk("insert", "".join(b[j1:j2])))
    return chunks


def content_diff(old: dict, new: dict) -> list[tuple[str, list[Chunk]]]:
    """Return (label, chunks) for every part of the letter that differs."""
    out = []
    for key in CONTENT_FIELDS:
        before, after = _as_text(key, old.get(key)), _as_text(key, new.get(key))
        if before != after:
            out.append((LABELS[key], word_diff(before, after)))
    return out
