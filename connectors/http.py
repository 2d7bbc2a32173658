"""Extract records from a paged JSON API over HTTP(S) as text record batches.

Why this shape: pages are fetched one at a time and their records are cut
into batches of `batch_rows` as they arrive, so memory holds at most one page
and one batch whatever the size of the data set. Records are JSON objects;
scalars are rendered by `connectors.text` (numbers are parsed as Decimal, so
'1.10' stays '1.10'), nested objects and arrays become compact JSON text.
Columns are the keys seen so far, in first-seen order: a later batch can have
more columns than an earlier one, never fewer (as for JSON Lines files).

Only the standard library talks HTTP (`urllib.request`): no new dependency.

`sources.yaml` keys of an ``http`` connection and its streams::

    connection:
      kind: http
      base_url: https://api.example.gov.cn/xzxk/v1
      token: ${AMR_API_TOKEN}            # optional; sent as "Authorization: Bearer <token>"
      token_header: X-Token              # optional; another header, carrying the bare token
    streams:
      licenses:
        path: /licenses                  # appended to base_url
        records: data.list               # dotted path to the list in the body; absent = body is the list
        params: {area: "150100"}         # optional fixed query parameters
        cursor: updateTime               # optional incremental watermark field of the records
        since_param: updated_after       # optional query parameter that sends the previous watermark
        paging: {style: page, ...}       # optional, see below

Paging styles (the ``paging`` mapping; no ``paging`` = a single request):

``style: page`` — page number and page size parameters.
    ``page_param`` (default ``page``), ``size_param`` (default ``size``),
    ``size`` (default 100), ``start`` (first page number, default 1),
    ``total`` (optional dotted path to the total record count, e.g. ``data.total``),
    ``pages`` (optional dotted path to the total page count, e.g. ``data.pages``).
    Stops on an empty page, when ``total`` records have been received or page
    ``pages`` was read; without ``total``/``pages`` also on a short page (fewer
    than ``size`` records). With neither, ``size`` must not exceed what the API
    actually serves, or a capped page looks like the last one.

``style: offset`` — offset and limit parameters.
    ``offset_param`` (default ``offset``), ``limit_param`` (default ``limit``),
    ``size`` (default 100), ``start`` (first offset, default 0), ``total``
    (optional, as above). The offset advances by the number of records
    received; stops as ``page`` does.

``style: cursor`` — the body names the next page.
    ``cursor_param`` (default ``cursor``), ``next`` (required dotted path to the
    next cursor, e.g. ``data.next_cursor``), optional ``size_param`` with ``size``.
    The first request has no cursor parameter; stops when the next cursor is
    null, empty or absent.

A server that ignores the paging parameters (the same records again, or a
cursor seen before) fails with SourceError rather than looping forever.

Incremental: with `cursor` and `since`, `since_param` (if set) sends `since`
to the API, and records whose cursor is not strictly greater than `since`
are dropped here as well, for APIs that ignore the parameter (records without
a cursor value are dropped too, as SQL's ``cursor > since`` does).
`high_watermark` is the greatest cursor value, as the API wrote it, so it can
be sent back as the next `since`. Values are compared as text when they look
like ISO dates/timestamps ('T' and ' ' separators compare equal), numerically
when they are numbers, otherwise as plain text.

Failures: HTTP 5xx, 429, connection errors and timeouts are retried with
exponential backoff (``backoff_seconds * 2**n``, or a server's Retry-After up
to a minute); `retries` is the total number of attempts per request. Other
4xx fail at once. Every error is a SourceError naming source, stream and the
URL with secret-looking query values and the token masked; the token never
appears in a message. The token is not forwarded on a redirect to another host.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation

import pyarrow as pa

from connectors.errors import SourceError
from connectors.text import empty_batch, json_text, render_value, strings_batch

DEFAULT_BATCH_ROWS = 50_000
DEFAULT_PAGE_SIZE = 100
MAX_RETRY_AFTER_S = 60.0
USER_AGENT = "licensing-hub/0.1"

PAGING_KEYS: dict[str, dict[str, object]] = {
    # style -> allowed keys with their defaults (None = optional, no default)
    "page": {
        "page_param": "page",
        "size_param": "size",
        "size": DEFAULT_PAGE_SIZE,
        "start": 1,
        "total": None,
        "pages": None,
    },
    "offset": {
        "offset_param": "offset",
        "limit_param": "limit",
        "size": DEFAULT_PAGE_SIZE,
        "start": 0,
        "total": None,
    },
    "cursor": {"cursor_param": "cursor", "next": None, "size_param": None, "size": None},
}

_SECRET_NAME = re.compile(
    r"token|secret|passw|pwd|key|sign|auth|credential|ticket|session|sid", re.IGNORECASE
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?\Z")
_NUMERIC = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
_SEGMENT = re.compile(r"[^.\s][^.]*")


# ---------------------------------------------------------------- URLs and secrets


def mask_url(url: str, secrets: tuple[str, ...] = ()) -> str:
    """The URL as text: password and secret-looking query values as ***, known secrets scrubbed."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
        pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query = "&".join(
            f"{urllib.parse.quote(k, safe='')}="
            + ("***" if _SECRET_NAME.search(k) else urllib.parse.quote(v, safe=""))
            for k, v in pairs
        )
        text = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except (ValueError, TypeError):
        return "<unparsable URL>"
    return scrub(text, secrets)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every known secret (and its percent-encoded form) by ***."""
    for s in secrets:
        if s and len(s) >= 3:
            text = text.replace(s, "***").replace(urllib.parse.quote(s, safe=""), "***")
            text = text.replace(urllib.parse.quote_plus(s), "***")
    return text


def _join(base_url: str, path: str) -> str:
    """`base_url` + `path` with one slash between (urljoin would drop base_url's last segment)."""
    base = urllib.parse.urlsplit(base_url)
    extra = urllib.parse.urlsplit(path)
    full_path = base.path.rstrip("/") + ("/" + extra.path.lstrip("/") if extra.path.strip("/") else "")
    full_path = urllib.parse.quote(full_path, safe="/%:@!$&'()*+,;=-._~")  # Chinese path segments
    query = "&".join(q for q in (base.query, extra.query) if q)
    return urllib.parse.urlunsplit((base.scheme, base.netloc, full_path or "/", query, ""))


def _with_query(url: str, params: Mapping[str, object]) -> str:
    if not params:
        return url
    parts = urllib.parse.urlsplit(url)
    extra = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
    query = "&".join(q for q in (parts.query, extra) if q)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


# ---------------------------------------------------------------- JSON bodies


def _path(text: str | None, *, what: str, source: str, stream: str) -> tuple[str, ...] | None:
    """A dotted path ('data.list', 'result.0.items') as its segments."""
    if text is None:
        return None
    segments = tuple(text.split("."))
    if not text.strip() or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise SourceError(
            f"{what} {text!r} is not a dotted path like 'data.list'", source=source, stream=stream
        )
    return segments


_MISSING = object()


def _lookup(body: object, segments: tuple[str, ...]) -> tuple[object, str | None]:
    """Follow `segments` into `body`: (value, None), or (_MISSING, description of where it stopped)."""
    node = body
    for depth, seg in enumerate(segments):
        here = ".".join(segments[:depth]) or "the body"
        if isinstance(node, dict):
            if seg not in node:
                keys = ", ".join(sorted(map(str, node)))[:200]
                return _MISSING, f"{here} has no key {seg!r} (keys: {keys or 'none'})"
            node = node[seg]
        elif isinstance(node, list) and seg.isdigit():
            if int(seg) >= len(node):
                return _MISSING, f"{here} has no item {seg}"
            node = node[int(seg)]
        else:
            return _MISSING, f"{here} is {_kind(node)}, not an object"
    return node, None


def _kind(v: object) -> str:
    if v is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(v), "a number")


def _text(v: object) -> str | None:
    return json_text(v) if isinstance(v, (dict, list)) else render_value(v)


# ---------------------------------------------------------------- cursor order


def _order_key(text: str) -> tuple[str, object]:
    """How a cursor value compares: ('iso', text), ('num', Decimal) or ('text', text)."""
    if _ISO.match(text):
        return "iso", text.replace("T", " ", 1)
    if _NUMERIC.match(text):
        try:
            return "num", Decimal(text)
        except InvalidOperation:
            pass
    return "text", text


def _greater(a: str, b: str) -> bool:
    """a > b for two cursor values, by the kind both share (plain text when they differ)."""
    ka, kb = _order_key(a), _order_key(b)
    if ka[0] == kb[0]:
        return ka[1] > kb[1]
    return a > b


class _Watermark:
    """Running maxima of cursor texts under each order; the order is chosen at the end."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.best: dict[str, tuple[object, str]] = {}  # order -> (key, original text)

    def offer(self, text: str) -> None:
        kind, key = _order_key(text)
        self.kinds.add(kind)
        for order, k in ((kind, key), ("text", text)):
            cur = self.best.get(order)
            if cur is None or k > cur[0]:
                self.best[order] = (k, text)

    def value(self) -> str | None:
        if not self.kinds:
            return None
        order = next(iter(self.kinds)) if len(self.kinds) == 1 else "text"
        return self.best[order][1]


# ---------------------------------------------------------------- redirects


class _Redirect(urllib.request.HTTPRedirectHandler):
    """Keep the token header across a redirect only to the same host and port."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            old, nxt = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            same = (old.hostname, old.port or _default_port(old.scheme)) == (
                nxt.hostname,
                nxt.port or _default_port(nxt.scheme),
            )
            upgrade_only = old.scheme == nxt.scheme or (old.scheme, nxt.scheme) == ("http", "https")
            if same and upgrade_only:
                for name, value in req.unredirected_hdrs.items():
                    if name.lower() not in ("host", "content-length", "content-type"):
                        new.add_unredirected_header(name, value)
        return new


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


# ---------------------------------------------------------------- extraction


class _Failure(Exception):
    """One failed attempt: whether it is worth retrying, what to say, how long the server asks to wait."""

    def __init__(self, detail: str, *, retry: bool, wait: float | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry = retry
        self.wait = wait


class HttpExtract:
    """An iterable of text record batches from one API endpoint, page by page.

    Iterating sends the requests. At least one batch is yielded (an empty one
    with the columns seen, possibly none, when no record comes back).
    `high_watermark` is the greatest cursor value seen, as text, set once the
    iteration has run to its end (None if no record had a cursor value).
    `requests` counts the HTTP attempts of the last iteration.
    """

    def __init__(
        self,
        url: str,
        *,
        source: str,
        stream: str,
        token: str | None,
        token_header: str,
        records: tuple[str, ...] | None,
        params: dict[str, str],
        paging: dict[str, object] | None,
        cursor: str | None,
        since: str | None,
        since_param: str | None,
        batch_rows: int,
        timeout_seconds: float,
        retries: int,
        backoff_seconds: float,
    ) -> None:
        self.url = url
        self.source = source
        self.stream = stream
        self._token = token
        self._token_header = token_header
        self._records = records
        self._params = params
        self._paging = paging
        self._cursor = cursor
        self.since = since
        self._since_param = since_param
        self.batch_rows = batch_rows
        self.timeout_seconds = timeout_seconds
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.high_watermark: str | None = None
        self.columns: list[str] | None = None
        self.requests = 0
        secrets = [token] if token else []
        secrets += [str(v) for k, v in params.items() if _SECRET_NAME.search(k)]
        secrets += [
            v for k, v in urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query) if _SECRET_NAME.search(k)
        ]
        self._secrets = tuple(s for s in secrets if s)
        self._opener = urllib.request.build_opener(_Redirect())

    # ------------------------------------------------------------ messages

    def masked(self, url: str | None = None) -> str:
        return mask_url(self.url if url is None else url, self._secrets)

    def _error(self, detail: str) -> SourceError:
        return SourceError(scrub(detail, self._secrets), source=self.source, stream=self.stream)

    # ------------------------------------------------------------ one request

    def _attempt(self, url: str) -> tuple[bytes, str | None]:
        req = urllib.request.Request(
            url,
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": USER_AGENT,
            },
        )
        if self._token:
            value = f"Bearer {self._token}" if self._token_header.lower() == "authorization" else self._token
            req.add_unredirected_header(self._token_header, value)
        self.requests += 1
        try:
            with self._opener.open(req, timeout=self.timeout_seconds) as resp:
                body = resp.read()
                encoding = (resp.headers.get("Content-Encoding") or "").lower()
                charset = resp.headers.get_content_charset()
        except urllib.error.HTTPError as exc:
            status = f"HTTP {exc.code} {exc.reason}".rstrip()
            snippet = _snippet(exc)
            detail = status + (f": {snippet}" if snippet else "")
            if exc.code >= 500 or exc.code == 429:
                raise _Failure(detail, retry=True, wait=_retry_after(exc.headers)) from None
            raise _Failure(detail, retry=False) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLCertVerificationError):
                raise _Failure(f"TLS certificate not accepted: {reason}", retry=False) from None
            if isinstance(reason, TimeoutError):
                raise _Failure(f"no answer within {self.timeout_seconds:g} s", retry=True) from None
            raise _Failure(f"connection failed: {reason}", retry=True) from None
        except TimeoutError:
            raise _Failure(f"no answer within {self.timeout_seconds:g} s", retry=True) from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise _Failure(f"connection failed: {type(exc).__name__}: {exc}", retry=True) from None
        try:
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "deflate":
                body = zlib.decompress(body)
        except (OSError, zlib.error, EOFError):
            raise _Failure(f"cannot decompress the {encoding} body", retry=True) from None
        return body, charset

    def _get(self, url: str, page: int) -> tuple[bytes, str | None]:
        """GET with retries; SourceError after the last attempt or at once for a client error."""
        for attempt in range(self.retries):
            try:
                return self._attempt(url)
            except _Failure as failure:
                if failure.retry and attempt + 1 < self.retries:
                    delay = self.backoff_seconds * 2**attempt
                    if failure.wait is not None:
                        delay = max(delay, min(failure.wait, MAX_RETRY_AFTER_S))
                    time.sleep(delay)
                    continue
                tries = f" after {attempt + 1} attempts" if failure.retry else " (not retried)"
                raise self._error(
                    f"page {page}: GET {self.masked(url)} failed{tries}: {failure.detail}"
                ) from None
        raise AssertionError("unreachable")

    def _page_body(self, url: str, page: int) -> object:
        body, charset = self._get(url, page)
        try:
            text = body.decode(charset or "utf-8")
        except (UnicodeDecodeError, LookupError):
            raise self._error(
                f"page {page}: GET {self.masked(url)}: body is not valid {charset or 'utf-8'} text"
            ) from None
        try:
            return json.loads(text.lstrip("\ufeff"), parse_float=Decimal)
        except json.JSONDecodeError as exc:
            start = " ".join(text[:80].split())
            raise self._error(
                f"page {page}: GET {self.masked(url)}: body is not JSON ({exc.msg} at line {exc.lineno} "
                f"column {exc.colno}); it starts {start!r}"
            ) from None

    def _page_records(self, body: object, url: str, page: int) -> list[object]:
        if self._records is None:
            found: object = body
        else:
            found, problem = _lookup(body, self._records)
            if found is _MISSING:
                raise self._error(
                    f"page {page}: GET {self.masked(url)}: records path {'.'.join(self._records)!r} "
                    f"not found: {problem}"
                )
        if found is None:
            return []
        if not isinstance(found, list):
            where = "the body" if self._records is None else f"records path {'.'.join(self._records)!r}"
            raise self._error(f"page {page}: GET {self.masked(url)}: {where} is {_kind(found)}, not a list")
        return found

    def _optional(self, body: object, key: str) -> object:
        """A paging value (`total`, `pages`, `next`) from the body; None if absent or null."""
        segments = self._paging.get(f"_{key}")
        if segments is None:
            return None
        value, _ = _lookup(body, segments)
        return None if value is _MISSING else value

    def _count(self, body: object, key: str, url: str, page: int) -> int | None:
        value = self._optional(body, key)
        if value is None:
            return None
        try:
            return int(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            raise self._error(
                f"page {page}: GET {self.masked(url)}: paging {key} {self._paging[key]!r} is {value!r}, "
                "not a number"
            ) from None

    # ------------------------------------------------------------ pages

    def _pages(self) -> Iterator[tuple[int, str, list[object]]]:
        """(page number, URL, records) for each page, following the paging style."""
        fixed = dict(self._params)
        if self._since_param is not None and self.since is not None:
            fixed[self._since_param] = self.since
        paging = self._paging
        if paging is None:
            url = _with_query(self.url, fixed)
            yield 1, url, self._page_records(self._page_body(url, 1), url, 1)
            return
        style = paging["style"]
        size = paging.get("size")
        received = 0
        previous: str | None = None
        seen_cursors: set[str] = set()
        position = paging.get("start")
        next_cursor: str | None = None
        page = 0
        while True:
            page += 1
            query = dict(fixed)
            if style == "page":
                query[paging["page_param"]] = position
                query[paging["size_param"]] = size
            elif style == "offset":
                query[paging["offset_param"]] = position
                query[paging["limit_param"]] = size
            else:
                if paging.get("size_param") is not None:
                    query[paging["size_param"]] = size
                if next_cursor is not None:
                    query[paging["cursor_param"]] = next_cursor
            url = _with_query(self.url, query)
            body = self._page_body(url, page)
            rows = self._page_records(body, url, page)
            if rows and style != "cursor":
                digest = hashlib.sha256(json_text(rows).encode()).hexdigest()
                if digest == previous:
                    raise self._error(
                        f"page {page}: GET {self.masked(url)}: the same records as the page before; "
                        f"does the API ignore {paging.get('page_param') or paging.get('offset_param')!r}?"
                    )
                previous = digest
            received += len(rows)
            yield page, url, rows
            if style == "cursor":
                value = self._optional(body, "next")
                if value is None or value == "":
                    return
                next_cursor = _text(value)
                if next_cursor in seen_cursors:
                    raise self._error(
                        f"page {page}: GET {self.masked(url)}: next cursor {next_cursor!r} was already used"
                    )
                seen_cursors.add(next_cursor)
                continue
            if not rows:
                return
            total = self._count(body, "total", url, page)
            pages = self._count(body, "pages", url, page) if style == "page" else None
            if total is not None and received >= total:
                return
            if pages is not None and position - paging["start"] + 1 >= pages:
                return
            if total is None and pages is None and len(rows) < size:
                return
            position = position + 1 if style == "page" else position + len(rows)

    # ------------------------------------------------------------ batches

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        self.high_watermark = None
        self.columns = None
        self.requests = 0
        cursor, since = self._cursor, self.since
        top = _Watermark()
        names: dict[str, None] = {}  # ordered set
        rows: list[dict[str, str | None]] = []
        cursor_present = False
        raw_count = 0
        yielded = False
        for page, url, records in self._pages():
            raw_count += len(records)
            for index, obj in enumerate(records):
                if not isinstance(obj, dict):
                    raise self._error(
                        f"page {page}: GET {self.masked(url)}: record {index + 1} is {_kind(obj)}, "
                        "not a JSON object"
                    )
                row = {str(key): _text(v) for key, v in obj.items()}
                if cursor is not None:
                    if cursor in row:
                        cursor_present = True
                    mark = row.get(cursor)
                    if since is not None and (mark is None or not _greater(mark, since)):
                        continue
                    if mark is not None:
                        top.offer(mark)
                for key in row:
                    names.setdefault(key)
                rows.append(row)
                if len(rows) == self.batch_rows:
                    self._check_cursor(cursor_present)
                    yield _batch(names, rows)
                    yielded = True
                    rows = []
        if raw_count:
            self._check_cursor(cursor_present)
        if rows or not yielded:
            yield _batch(names, rows) if rows else empty_batch(list(names))
        self.columns = list(names)
        self.high_watermark = top.value()

    def _check_cursor(self, present: bool) -> None:
        if self._cursor is not None and not present:
            raise self._error(f"cursor field {self._cursor!r} is not a key of any record")


def _batch(names: dict[str, None], rows: list[dict[str, str | None]]) -> pa.RecordBatch:
    keys = list(names)
    return strings_batch(keys, [[row.get(k) for row in rows] for k in keys])


def _snippet(exc: urllib.error.HTTPError) -> str:
    """The start of an error response's body (servers often say why there), on one line."""
    try:
        raw = exc.read(2000)
    except (OSError, http.client.HTTPException):
        return ""
    finally:
        exc.close()
    if (exc.headers.get("Content-Encoding") or "").lower() == "gzip":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError):
            return ""
    text = raw.decode(exc.headers.get_content_charset() or "utf-8", errors="replace")
    return " ".join(text.split())[:200]


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: use the backoff


# ---------------------------------------------------------------- entry point


def _check_paging(paging: Mapping | None, *, source: str, stream: str) -> dict[str, object] | None:
    """Validate `paging` and fill in its defaults; dotted paths are kept parsed under '_<key>'."""
    if paging is None:
        return None
    where = {"source": source, "stream": stream}
    if not isinstance(paging, Mapping):
        raise SourceError(f"paging must be a mapping, not {_kind(paging)}", **where)
    style = paging.get("style")
    if style not in PAGING_KEYS:
        raise SourceError(f"paging style {style!r} is not one of {', '.join(PAGING_KEYS)}", **where)
    allowed = PAGING_KEYS[style]
    unknown = sorted(set(map(str, paging)) - set(allowed) - {"style"})
    if unknown:
        raise SourceError(
            f"unknown paging key {unknown[0]!r} for style {style!r} (allowed: {', '.join(allowed)})", **where
        )
    out: dict[str, object] = {"style": style}
    for key, default in allowed.items():
        value = paging.get(key, default)
        if key in ("size", "start") and value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "size" else 0):
                raise SourceError(
                    f"paging {key} must be a {'positive' if key == 'size' else 'non-negative'} "
                    f"integer, not {value!r}",
                    **where,
                )
        elif key.endswith("_param") and value is not None:
            if not isinstance(value, str) or not value:
                raise SourceError(f"paging {key} must be a parameter name, not {value!r}", **where)
        elif key in ("total", "pages", "next") and value is not None:
            if not isinstance(value, str):
                raise SourceError(f"paging {key} must be a dotted path, not {value!r}", **where)
            out[f"_{key}"] = _path(value, what=f"paging {key}", source=source, stream=stream)
        out[key] = value
    if style == "cursor":
        if out["next"] is None:
            raise SourceError("paging style 'cursor' needs 'next' (the path of the next cursor)", **where)
        if (out["size_param"] is None) != (out["size"] is None):
            raise SourceError("paging style 'cursor' takes size_param and size together", **where)
    return out


def read_http(
    base_url: str,
    *,
    source: str,
    stream: str,
    path: str,
    token: str | None = None,
    token_header: str = "Authorization",
    records: str | None = None,
    params: Mapping[str, object] | None = None,
    paging: Mapping[str, object] | None = None,
    cursor: str | None = None,
    since: str | None = None,
    since_param: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    timeout_seconds: float = 30,
    retries: int = 4,
    backoff_seconds: float = 0.5,
) -> HttpExtract:
    """Prepare an extract of the records at `base_url` + `path` (see the module docstring).

    `records` is the dotted path of the list in each response body (None: the
    body is the list). `retries` is the number of attempts per request (>= 1).
    Arguments are checked now; the API is contacted when the result is iterated.
    """
    where = {"source": source, "stream": stream}
    secrets = (token,) if token else ()
    parts = urllib.parse.urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        shown = mask_url(base_url, secrets) if isinstance(base_url, str) else repr(base_url)
        raise SourceError(f"base_url must be an http:// or https:// URL, not {shown!r}", **where)
    if not isinstance(path, str):
        raise SourceError(f"path must be text, not {path!r}", **where)
    if batch_rows < 1:
        raise SourceError(f"batch_rows must be positive, not {batch_rows}", **where)
    if retries < 1:
        raise SourceError(f"retries (attempts per request) must be at least 1, not {retries}", **where)
    if not timeout_seconds > 0:
        raise SourceError(f"timeout_seconds must be positive, not {timeout_seconds}", **where)
    if backoff_seconds < 0:
        raise SourceError(f"backoff_seconds must not be negative, not {backoff_seconds}", **where)
    if not token_header or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", token_header):
        raise SourceError(f"token_header {token_header!r} is not an HTTP header name", **where)
    if since_param is not None and cursor is None:
        raise SourceError("since_param needs a cursor field", **where)
    checked = _check_paging(paging, source=source, stream=stream)
    fixed = {str(k): render_value(v) or "" for k, v in (params or {}).items()}
    if checked is not None:
        taken = {v for k, v in checked.items() if k.endswith("_param") and v is not None}
        clash = sorted(taken & (set(fixed) | ({since_param} if since_param else set())))
        if clash:
            raise SourceError(f"query parameter {clash[0]!r} is set both by params and by paging", **where)
    return HttpExtract(
        _join(base_url, path),
        source=source,
        stream=stream,
        token=token,
        token_header=token_header,
        records=_path(records, what="records path", source=source, stream=stream),
        params=fixed,
        paging=checked,
        cursor=cursor,
        since=since if cursor is not None else None,  # as connectors.sql: no cursor, no filter
        since_param=since_param,
        batch_rows=batch_rows,
        timeout_seconds=timeout_seconds,
        retries=retries,
        backoff_seconds=backoff_seconds,
    )
