"""Directions of text by Unicode bidi class (Flask-free, in the engine): the PDF and the templates share one rule."""
import unicodedata

RTL_CLASSES = frozenset({"R", "AL"})


def strong(ch: str) -> str | None:
    """Return "ltr" or "rtl" for a strong character, None for a neutral or weak one."""
    kind = unicodedata.bidirectional(ch)
    return "ltr" if kind == "L" else "rtl" if kind in RTL_CLASSES else None


def base_direction(text: str | None) -> str:
    """Return the direction of the first strong character (the Unicode "first strong" rule)."""
    for ch in text or "":
        found = strong(ch)
        if found:
            return found
    return "ltr"


def direction_runs(text: str) -> list[tuple[str, str, str | None]]:
    """Split text into (core, trailing spaces, direction to isolate it in or None) runs against its base.

    A run ends at a strong character of the other direction; inside a run against the base, a neutral other
    than a space ends it too (so "Name (ACME)" keeps its brackets with the base). Trailing spaces stay outside.
    """
    base = base_direction(text)
    out: list[tuple[str, str, str | None]] = []
    run: list[str] = []
    run_dir: str | None = None

    def flush() -> None:
        if run:
            chunk = "".join(run)
            core = chunk.rstrip()
            out.append((core, chunk[len(core):], run_dir if run_dir and run_dir != base else None))
            run.clear()

    for ch in text:
        d = strong(ch)
        if d and d != run_dir:
            flush()
            run_dir = d
        elif d is None and run_dir != base and unicodedata.bidirectional(ch) not in ("WS", "NSM", "BN"):
            flush()
            run_dir = base
        run.append(ch)
    flush()
    return out
