"""Split the signatory list into content-defined chunks, typeset them in worker processes, cache them.

Boundaries depend on the entries themselves (a hash of each entry), not on positions: a new name
sorted into the middle of the list changes only the chunk it lands in, so only that chunk is
typeset again. Chunks start on a fresh page, so a cached chunk never depends on its neighbours.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import struct
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable, Sequence

from petitions.pdf.engine.document import SignatoryEntry, entry_bytes
from petitions.pdf.engine.files import write_atomically
from petitions.pdf.engine.lists import ListLayout, typeset_chunk
from petitions.pdf.engine.shaping import use_metrics_cache

# Bump when typesetting changes, so old cache files are never reused.
TYPESET_VERSION = "list-9"
_MAGIC = b"PCHUNK1\n"
MIN_CHUNK, AVG_EXTRA, MAX_CHUNK = 250, 550, 2200
IN_PROCESS_MAX = 5000


@dataclass(frozen=True)
class ChunkSpec:
    """Entries that are typeset together, starting on a new page."""

    entries: tuple[SignatoryEntry, ...]
    layout: ListLayout
    heading: str = ""
    note: str = ""
    key: str = field(default="", compare=False)


def _key(layout: ListLayout, heading: str, note: str, encoded: list[bytes]) -> str:
    h = hashlib.sha256(f"{TYPESET_VERSION}|{layout.page_size}|{layout.columns}|{layout.direction}|{heading}|{note}|"
                       .encode())
    h.update(b"".join(encoded))
    return h.hexdigest()


@dataclass
class Chunk:
    """A typeset chunk: one Flate-compressed content stream per page and the glyphs they use."""

    key: str
    pages: list[bytes]
    glyphs: dict[int, dict[int, str]]


def _boundary_after(encoded: bytes) -> bool:
    # CRC-32 is no cryptographic hash, but boundaries only need to be spread evenly and fast to find.
    return zlib.crc32(encoded) % AVG_EXTRA == 0


def plan(groups: Sequence[tuple[str, Sequence[SignatoryEntry]]], layout: ListLayout,
         note: str = "") -> list[ChunkSpec]:
    """Cut each (heading, sorted entries) group into chunks; the group's heading opens its first chunk."""
    specs: list[ChunkSpec] = []
    for n, (heading, entries) in enumerate(groups):
        encoded = [entry_bytes(e) for e in entries]
        start = 0
        first = True

        def cut(end: int) -> None:
            h, t = (heading if first else ""), (note if first and n == 0 else "")
            specs.append(ChunkSpec(tuple(entries[start:end]), layout, h, t,
                                   _key(layout, h, t, encoded[start:end])))

        for i in range(len(entries)):
            size = i + 1 - start
            if (size >= MIN_CHUNK and _boundary_after(encoded[i])) or size >= MAX_CHUNK:
                cut(i + 1)
                start, first = i + 1, False
        if start < len(entries) or first:
            cut(len(entries))
    return specs


def _path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, f"{key}.chunk")


def load(cache_dir: str, key: str) -> Chunk | None:
    """Return a cached chunk, or None if it is missing or unreadable."""
    try:
        with open(_path(cache_dir, key), "rb") as fh:
            data = fh.read()
        if not data.startswith(_MAGIC):
            return None
        (size,) = struct.unpack_from(">I", data, len(_MAGIC))
        start = len(_MAGIC) + 4
        header = json.loads(data[start:start + size])
    except (OSError, ValueError, struct.error):
        return None
    pages, offset = [], start + size
    for length in header["lengths"]:
        pages.append(data[offset:offset + length])
        offset += length
    if offset != len(data):
        return None  # truncated: typeset again
    glyphs = {int(f): {int(g): t for g, t in table.items()} for f, table in header["glyphs"].items()}
    _mark_used(_path(cache_dir, key))
    return Chunk(key, pages, glyphs)


def _mark_used(path: str) -> None:
    # The access time says when a render last used the chunk (prune_unused); the modification time stays the
    # time it was typeset, which forget_since relies on.
    try:
        os.utime(path, (time.time(), os.stat(path).st_mtime))
    except OSError:
        pass


def prune_unused(cache_dir: str, older_than: float) -> int:
    """Delete cached chunks no render wrote or used in the last `older_than` seconds; return how many.

    Chunks are named by their content, so a list that changed leaves the old ones behind unused.
    """
    limit, removed = time.time() - older_than, 0
    try:
        names = os.listdir(cache_dir)
    except FileNotFoundError:
        return 0
    for name in names:
        if not name.endswith(".chunk"):
            continue
        path = os.path.join(cache_dir, name)
        try:
            stat = os.stat(path)
            if max(stat.st_atime, stat.st_mtime) < limit:
                os.remove(path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def store(cache_dir: str, chunk: Chunk) -> None:
    """Write a chunk to the cache atomically."""
    os.makedirs(cache_dir, exist_ok=True)
    header = json.dumps({"lengths": [len(p) for p in chunk.pages], "glyphs": chunk.glyphs}).encode()
    data = b"".join([_MAGIC, struct.pack(">I", len(header)), header, *chunk.pages])
    write_atomically(_path(cache_dir, chunk.key), data)


def forget_since(cache_dir: str, since: float | None) -> int:
    """Delete cached chunks written at or after `since` (a POSIX time; None: all); return how many.

    A chunk holds the names it lists (their glyphs and text), and its key does not tell whose: a
    signer who erases their data can only be in chunks typeset after their signature was confirmed.
    """
    removed = 0
    try:
        names = os.listdir(cache_dir)
    except FileNotFoundError:
        return 0
    for name in names:
        if not (name.endswith(".chunk") or ".chunk.tmp-" in name):
            continue
        path = os.path.join(cache_dir, name)
        try:
            # Two seconds of slack for file systems that store coarse modification times.
            if since is None or os.stat(path).st_mtime >= since - 2:
                os.remove(path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def render_one(spec: ChunkSpec) -> Chunk:
    """Typeset one chunk."""
    pages, glyphs = typeset_chunk(list(spec.entries), spec.layout, spec.heading, spec.note)
    # Compressed here, in the worker, so the merge only copies bytes.
    return Chunk(spec.key, [zlib.compress(p, 6) for p in pages], glyphs)


def _render_to_cache(spec: ChunkSpec, cache_dir: str) -> str:
    # Runs in a worker process: the result goes through the cache, not back through a pipe.
    use_metrics_cache(cache_dir)
    store(cache_dir, render_one(spec))
    return spec.key


def render_all(specs: list[ChunkSpec], cache_dir: str, workers: int = 2,
               progress: Callable[[int, int], None] | None = None) -> tuple[list[Chunk], int]:
    """Return every chunk and how many were typeset; only uncached ones are, several in parallel."""
    use_metrics_cache(cache_dir)
    chunks: dict[str, Chunk] = {}
    missing: list[ChunkSpec] = []
    for spec in specs:
        key = spec.key
        if key in chunks:
            continue
        cached = load(cache_dir, key)
        if cached is None:
            missing.append(spec)
        else:
            chunks[key] = cached
    done, total = 0, len(missing)
    if progress:
        progress(0, total)
    # Starting worker processes costs about a second; a new signature touches one or two chunks,
    # which are quicker to typeset right here.
    if workers <= 1 or sum(len(spec.entries) for spec in missing) <= IN_PROCESS_MAX:
        for spec in missing:
            chunk = render_one(spec)
            store(cache_dir, chunk)
            chunks[chunk.key] = chunk
            done += 1
            if progress:
                progress(done, total)
    else:
        # Spawned workers start small instead of inheriting the parent's whole list.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
            futures = [pool.submit(_render_to_cache, spec, cache_dir) for spec in missing]
            for future in as_completed(futures):
                key = future.result()
                loaded = load(cache_dir, key)
                if loaded is None:
                    raise RuntimeError("A rendered chunk could not be read back from the cache.")
                chunks[key] = loaded
                done += 1
                if progress:
                    progress(done, total)
    return [chunks[spec.key] for spec in specs], total
