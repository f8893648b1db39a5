"""HTTP caching of public pages for readers who are not logged in: ETag, Last-Modified, 304, a rendered-page cache.

A page's ETag is a hash of everything it is made from (the appeal's row, its list version, the language, the
query string...), so a cached copy is never stale: any change makes a new key. The rendered pages live in
this process (a small LRU with a time limit) or, with PAGE_CACHE_URL (or REDIS_URL), in Redis, shared by every
worker. A Redis outage only means pages are rendered again, with a log line.
"""
import functools
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import redis
from flask import Flask, Response, current_app, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user

log = logging.getLogger(__name__)
# Query parameters public pages read. A page asked for with any other is answered but not kept: otherwise
# "?x=1", "?x=2"... would each fill the cache (Redis's memory) with a copy of the same page.
KEPT_QUERY_ARGS = frozenset({"lang", "after", "limit"})


class MemoryPages:
    """Rendered pages in this process: at most `entries`, each for at most `seconds`."""

    def __init__(self, entries: int, seconds: float):
        self.entries, self.seconds = entries, seconds
        self._pages: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            found = self._pages.get(key)
            if found is None or found[0] < time.monotonic():
                self._pages.pop(key, None)
                return None
            self._pages.move_to_end(key)
            return found[1]

    def set(self, key: str, page, seconds: float | None = None) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + (self.seconds if seconds is None else seconds), page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)


class RedisPages:
    """Rendered pages in Redis, shared by every process; an outage reads as a miss."""

    def __init__(self, url: str, seconds: float):
        self.seconds = int(seconds)
        # A short timeout: a page rendered again is better than a reader waiting for a Redis that is gone.
        self.client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(f"page:{key}")
        except redis.RedisError as exc:
            log.warning("page cache unavailable, rendering uncached: %s", exc)
            return None

    def set(self, key: str, page: bytes, seconds: float | None = None) -> None:
        try:
            self.client.set(f"page:{key}", page, px=int(1000 * (self.seconds if seconds is None else seconds)))
        except redis.RedisError as exc:
            log.warning("page cache unavailable, page not stored: %s", exc)


@functools.lru_cache(maxsize=1)  # the code a process runs does not change under it
def code_version() -> str:
    """Return a hash of the application's code and templates: pages kept from before a deploy are not served."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*")):
        if path.suffix in (".py", ".html"):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def init_app(app: Flask) -> None:
    """Choose where rendered pages are kept."""
    app.extensions["page_code_version"] = code_version()
    url = app.config.get("PAGE_CACHE_URL") or app.config.get("REDIS_URL")
    seconds = float(app.config["PAGE_CACHE_SECONDS"])
    app.extensions["page_cache"] = (RedisPages(url, seconds) if url
                                    else MemoryPages(int(app.config["PAGE_CACHE_ENTRIES"]), seconds))
    # Copies younger than PAGE_FRESH_SECONDS stay in each process even with Redis: fetching one from Redis
    # would cost a round trip per reader, keeping it costs each process one check per window.
    app.extensions["recent_pages"] = MemoryPages(int(app.config["PAGE_CACHE_ENTRIES"]),
                                                 max(float(app.config["PAGE_FRESH_SECONDS"]), 0.0))


def pages():
    """Return the app's page cache."""
    return current_app.extensions["page_cache"]


def anonymous_reader() -> bool:
    """Tell whether this request may get a shared copy: not logged in, no message waiting to be shown."""
    # Without a cookie or credentials a request has no login and no message (both live in cookies): asking
    # Flask-Login would cost most of what serving a recent copy costs.
    if not request.cookies and "HTTP_AUTHORIZATION" not in request.environ:
        return True
    return not current_user.is_authenticated and not session.get("_flashes")


def _request_key(*parts) -> str:
    made_of = [current_app.extensions["page_code_version"], request.full_path, str(get_locale()),
               current_app.config.get("PUBLIC_URL"), *parts]
    return hashlib.sha256(json.dumps(made_of, default=str, sort_keys=True).encode()).hexdigest()[:40]


def etag_of(*parts) -> str:
    """Return an ETag for a page made from these values, the URL, the interface language and the public address."""
    return _request_key(*parts)


def appeal_state(appeal) -> tuple:
    """Return what every page about an appeal depends on from its row: text, state, list and counts."""
    return (appeal.id, appeal.updated_at, appeal.status.value, appeal.published_revision_id, appeal.signature_goal,
            appeal.list_version, appeal.signature_count, appeal.public_count, appeal.organization_count)


def last_changed(appeal) -> datetime:
    """Return when an appeal's text, state or list last changed (its pages' Last-Modified)."""
    return max(filter(None, (appeal.updated_at, appeal.list_changed_at, appeal.published_at, appeal.closed_at,
                             appeal.delivered_at)))


def _http_time(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    return value.replace(microsecond=0)


def public_response(etag: str, last_modified: datetime | None, render: Callable[[], Response | tuple],
                    cache_pages: bool = True) -> Response:
    """Answer a GET a reader may share: 304 when their copy is current, else the (cached) page with validators.

    `render` returns the response as a view would; a logged-in reader gets it fresh and private.
    """
    if not anonymous_reader():
        response = make_response(render())
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    stamp = _http_time(last_modified)
    if etag in request.if_none_match:  # their copy is current: nothing to read or render
        return _shared(Response(status=304), etag, stamp)
    cache_pages = cache_pages and KEPT_QUERY_ARGS.issuperset(request.args.keys())
    page = pages().get(etag) if cache_pages else None
    if page is not None:
        response = _unpack(page)
    else:
        response = make_response(render())
        if response.status_code != 200:
            return response
        if cache_pages:
            kept = {k: v for k, v in response.headers.items() if k in ("Content-Type", "Content-Language")}
            pages().set(etag, _pack(kept, response.get_data()))
    return _shared(response, etag, stamp).make_conditional(request)


def _shared(response: Response, etag: str, stamp: datetime | None) -> Response:
    response.set_etag(etag)
    if stamp is not None:
        response.last_modified = stamp
    response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_MAX_AGE'])}"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _pack(headers: dict, body: bytes) -> bytes:
    return json.dumps(headers).encode() + b"\n" + body


def _unpack(page: bytes) -> Response:
    return Response(page[page.index(b"\n") + 1:], headers=json.loads(page[:page.index(b"\n")]))


class _RecentCopy:
    """A page as it was sent, kept in this process: answered again as a 200 or a 304 without a query."""

    __slots__ = ("etag", "last_modified", "headers", "body")
    _VALIDATORS = ("ETag", "Last-Modified", "Cache-Control", "Vary")
    KEPT_HEADERS = ("Content-Type", "Content-Language", *_VALIDATORS)

    def __init__(self, etag: str, last_modified: datetime | None, headers: list, body: bytes):
        self.etag, self.last_modified, self.headers, self.body = etag, last_modified, headers, body

    def answer(self) -> Response:
        # What Response.make_conditional decides for a page, without its Range handling and Date header (the
        # server adds Date): If-None-Match, when sent, decides alone (RFC 9110 13.2.2), else If-Modified-Since.
        since = request.if_modified_since
        if (request.if_none_match.contains_weak(self.etag) if request.if_none_match
                else since is not None and self.last_modified is not None and self.last_modified <= since):
            return Response(status=304, headers=[(k, v) for k, v in self.headers if k in self._VALIDATORS])
        return Response(self.body, headers=self.headers)


def recent_copy(view: Callable) -> Callable:
    """Serve anonymous readers a copy of this public page made less than PAGE_FRESH_SECONDS ago, unread.

    During a viral wave thousands read the same page each second: within that short window they get the copy
    without a single query (the count may lag by those seconds); after it, the view checks the ETag as usual.
    """
    @functools.wraps(view)
    def serve(*args, **kwargs):
        seconds = float(current_app.config["PAGE_FRESH_SECONDS"])
        if (seconds <= 0 or request.method != "GET" or not anonymous_reader()
                or not KEPT_QUERY_ARGS.issuperset(request.args.keys())):
            return view(*args, **kwargs)
        key = _request_key()
        recent = current_app.extensions["recent_pages"]
        kept = recent.get(key)
        if kept is not None:
            return kept.answer()
        response = make_response(view(*args, **kwargs))
        etag = response.get_etag()[0]
        if response.status_code == 200 and response.cache_control.public and etag:
            kept_headers = [(k, v) for k, v in response.headers.items() if k in _RecentCopy.KEPT_HEADERS]
            recent.set(key, _RecentCopy(etag, response.last_modified, kept_headers, response.get_data()), seconds)
        return response

    return serve
