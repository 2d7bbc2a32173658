"""connectors.http against a real HTTP server on 127.0.0.1 that each test starts and stops."""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyarrow as pa
import pytest

from connectors.errors import SourceError
from connectors.http import mask_url, read_http
from connectors.text import json_text

WHERE = {"source": "amr", "stream": "licenses"}
FAST = {"backoff_seconds": 0.01, "timeout_seconds": 2}
TOKEN = "s3cr3t-T0ken"

CITIES = [
    "呼和浩特市",
    "包头市",
    "乌海市",
    "赤峰市",
    "通辽市",
    "鄂尔多斯市",
    "呼伦贝尔市",
    "巴彦淖尔市",
    "乌兰察布市",
    "兴安盟",
    "锡林郭勒盟",
]


def licence(i: int) -> dict:
    return {
        "XKZBH": f"NM{i:04d}",
        "QYMC": f"{CITIES[i % len(CITIES)]}某某有限公司",
        "JE": Decimal(f"{i}.10") if i % 2 else i,
        "GXSJ": f"2024-01-{i + 1:02d}T08:00:00",
        "DZ": {"市": CITIES[i % len(CITIES)], "邮编": None},
    }


ALL = [licence(i) for i in range(11)]


class Server:
    """ThreadingHTTPServer whose GET answers come from `app(request) -> (status, body, headers)`."""

    def __init__(self, app):
        self.app = app
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                req = {
                    "path": urllib.parse.unquote(parts.path),
                    "query": dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                }
                with outer.lock:
                    outer.requests.append(req)
                status, body, headers = outer.app(req)
                if not isinstance(body, bytes):
                    body = json_text(body).encode("utf-8")  # keeps Decimal('1.10') as 1.10
                    headers = {"Content-Type": "application/json; charset=utf-8", **headers}
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def serve():
    servers = []

    def start(app):
        servers.append(Server(app))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def rows_of(extract):
    batches = list(extract)
    for b in batches:
        assert all(t == pa.string() for t in b.schema.types)
    return batches, [row for b in batches for row in b.to_pylist()]


def ok(body, **headers):
    return 200, body, headers


EXPECTED_FIRST = {
    "XKZBH": "NM0000",
    "QYMC": "呼和浩特市某某有限公司",
    "JE": "0",
    "GXSJ": "2024-01-01T08:00:00",
    "DZ": '{"市":"呼和浩特市","邮编":null}',
}


# ---------------------------------------------------------------- paging styles


def test_page_style_stops_on_short_page(serve):
    def app(req):
        page, size = int(req["query"]["pageNo"]), int(req["query"]["pageSize"])
        assert req["query"]["area"] == "150100"
        return ok({"code": 0, "data": {"list": ALL[(page - 1) * size : page * size]}})

    srv = serve(app)
    ex = read_http(
        srv.url,
        **WHERE,
        path="/licenses",
        records="data.list",
        params={"area": "150100"},
        paging={"style": "page", "page_param": "pageNo", "size_param": "pageSize", "size": 4},
        **FAST,
    )
    _, rows = rows_of(ex)
    assert rows[0] == EXPECTED_FIRST
    assert rows[1]["JE"] == "1.10"  # Decimal kept exactly
    assert [r["XKZBH"] for r in rows] == [f"NM{i:04d}" for i in range(11)]
    assert [r["query"]["pageNo"] for r in srv.requests] == ["1", "2", "3"]  # 4 + 4 + 3 (short)
    assert srv.requests[0]["path"] == "/api/v1/licenses"
    assert ex.high_watermark is None and ex.columns == list(EXPECTED_FIRST)


def test_page_style_stops_on_empty_page_and_on_total(serve):
    def app(req):
        page, size = int(req["query"]["page"]), int(req["query"]["size"])
        return ok(
            {
                "data": {
                    "total": len(ALL) if req["path"].endswith("counted") else None,
                    "list": ALL[page * size : (page + 1) * size],
                }
            }
        )

    srv = serve(app)
    paging = {"style": "page", "size": 11, "start": 0}
    _, rows = rows_of(read_http(srv.url, **WHERE, path="plain", records="data.list", paging=paging, **FAST))
    assert len(rows) == 11
    assert [r["query"]["page"] for r in srv.requests] == ["0", "1"]  # full page, then empty
    srv.requests.clear()
    _, rows = rows_of(
        read_http(
            srv.url,
            **WHERE,
            path="counted",
            records="data.list",
            paging={**paging, "total": "data.total"},
            **FAST,
        )
    )
    assert len(rows) == 11 and len(srv.requests) == 1  # total reached: no second request


def test_page_style_with_total_survives_a_server_side_size_cap(serve):
    def app(req):  # the API serves at most 3 per page whatever we ask for
        page = int(req["query"]["page"])
        return ok({"data": {"total": 11, "list": ALL[(page - 1) * 3 : page * 3]}})

    srv = serve(app)
    _, rows = rows_of(
        read_http(
            srv.url,
            **WHERE,
            path="x",
            records="data.list",
            paging={"style": "page", "size": 100, "total": "data.total"},
            **FAST,
        )
    )
    assert len(rows) == 11 and len(srv.requests) == 4


def test_offset_style(serve):
    def app(req):
        offset, limit = int(req["query"]["skip"]), int(req["query"]["take"])
        return ok(ALL[offset : offset + limit])

    srv = serve(app)
    ex = read_http(
        srv.url,
        **WHERE,
        path="licenses",
        paging={"style": "offset", "offset_param": "skip", "limit_param": "take", "size": 5},
        **FAST,
    )
    _, rows = rows_of(ex)
    assert rows[0] == EXPECTED_FIRST and len(rows) == 11
    assert rows[10]["QYMC"] == "锡林郭勒盟某某有限公司"
    assert [r["query"]["skip"] for r in srv.requests] == ["0", "5", "10"]


def test_cursor_style(serve):
    def app(req):
        start = int(req["query"].get("after", "0"))
        chunk = ALL[start : start + 4]
        nxt = str(start + 4) if start + 4 < len(ALL) else None
        return ok({"result": {"items": chunk, "paging": {"next": nxt}}})

    srv = serve(app)
    ex = read_http(
        srv.url,
        **WHERE,
        path="licenses",
        records="result.items",
        paging={"style": "cursor", "cursor_param": "after", "next": "result.paging.next"},
        **FAST,
    )
    _, rows = rows_of(ex)
    assert [r["XKZBH"] for r in rows] == [f"NM{i:04d}" for i in range(11)]
    assert [r["query"].get("after") for r in srv.requests] == [None, "4", "8"]


def test_no_paging_is_one_request(serve):
    srv = serve(lambda req: ok(ALL[:2]))
    _, rows = rows_of(read_http(srv.url, **WHERE, path="", paging=None, **FAST))
    assert len(rows) == 2 and len(srv.requests) == 1 and srv.requests[0]["path"] == "/api/v1"


def test_server_ignoring_the_page_parameter_fails_instead_of_looping(serve):
    srv = serve(lambda req: ok(ALL[:3]))
    with pytest.raises(SourceError, match="same records as the page before"):
        list(read_http(srv.url, **WHERE, path="x", paging={"style": "page", "size": 3}, **FAST))
    assert len(srv.requests) == 2


def test_repeated_next_cursor_fails(serve):
    srv = serve(lambda req: ok({"items": ALL[:2], "next": "abc"}))
    with pytest.raises(SourceError, match="already used"):
        list(
            read_http(
                srv.url,
                **WHERE,
                path="x",
                records="items",
                paging={"style": "cursor", "next": "next"},
                **FAST,
            )
        )


# ---------------------------------------------------------------- auth and failures


def test_token_sent_as_bearer_and_401_fails_at_once(serve):
    def app(req):
        if req["headers"].get("authorization") != f"Bearer {TOKEN}":
            return 401, {"msg": "无效令牌"}, {}
        return ok(ALL[:1])

    srv = serve(app)
    _, rows = rows_of(read_http(srv.url, **WHERE, path="x", token=TOKEN, **FAST))
    assert len(rows) == 1
    srv.requests.clear()
    with pytest.raises(SourceError) as err:
        list(read_http(srv.url, **WHERE, path="x", token="wrong-" + TOKEN, retries=4, **FAST))
    assert len(srv.requests) == 1  # 4xx: not retried
    msg = str(err.value)
    assert "'amr'" in msg and "'licenses'" in msg and "401" in msg and "无效令牌" in msg
    assert TOKEN not in msg and "not retried" in msg


def test_token_header_override(serve):
    def app(req):
        ok_ = req["headers"].get("x-token") == TOKEN and "authorization" not in req["headers"]
        return ok(ALL[:1]) if ok_ else (403, b"forbidden", {})

    srv = serve(app)
    _, rows = rows_of(read_http(srv.url, **WHERE, path="x", token=TOKEN, token_header="X-Token", **FAST))
    assert len(rows) == 1


def test_secret_query_values_masked_in_errors(serve):
    srv = serve(lambda req: (404, f"no such thing for {req['query'].get('appKey')}".encode(), {}))
    with pytest.raises(SourceError) as err:
        list(
            read_http(
                srv.url + "?appKey=k3y-v4lue",
                **WHERE,
                path="x",
                params={"access_token": "p4ram-s3cret"},
                token=TOKEN,
                **FAST,
            )
        )
    msg = str(err.value)
    assert "k3y-v4lue" not in msg and "p4ram-s3cret" not in msg and TOKEN not in msg
    assert "appKey=***" in msg and "404" in msg
    assert mask_url("http://u:pw@h/p?sign=x&a=1") == "http://u:***@h/p?sign=***&a=1"


def test_503_twice_then_success(serve):
    calls = []

    def app(req):
        calls.append(1)
        return (503, b"busy", {}) if len(calls) <= 2 else ok(ALL[:2])

    srv = serve(app)
    ex = read_http(srv.url, **WHERE, path="x", retries=4, **FAST)
    _, rows = rows_of(ex)
    assert len(rows) == 2 and len(srv.requests) == 3 and ex.requests == 3


def test_429_is_retried(serve):
    calls = []

    def app(req):
        calls.append(1)
        return (429, b"slow down", {"Retry-After": "0"}) if len(calls) == 1 else ok(ALL[:1])

    srv = serve(app)
    _, rows = rows_of(read_http(srv.url, **WHERE, path="x", **FAST))
    assert len(rows) == 1 and len(srv.requests) == 2


def test_always_500_fails_after_retries_attempts(serve):
    srv = serve(lambda req: (500, b"boom", {}))
    start = time.monotonic()
    with pytest.raises(SourceError) as err:
        list(read_http(srv.url, **WHERE, path="x", token=TOKEN, retries=3, **FAST))
    assert len(srv.requests) == 3
    assert time.monotonic() - start < 2
    msg = str(err.value)
    assert msg.startswith("source 'amr', stream 'licenses':")
    assert "after 3 attempts" in msg and "HTTP 500" in msg and "/api/v1/x" in msg and TOKEN not in msg
    assert err.value.source == "amr" and err.value.stream == "licenses"


def test_slow_endpoint_times_out_and_is_retried(serve):
    def app(req):
        time.sleep(0.6)
        return ok([])

    srv = serve(app)
    with pytest.raises(SourceError, match=r"after 2 attempts: no answer within 0.2 s"):
        list(read_http(srv.url, **WHERE, path="x", retries=2, backoff_seconds=0.01, timeout_seconds=0.2))
    assert len(srv.requests) == 2


def test_connection_refused_is_retried_then_fails(serve):
    srv = serve(lambda req: ok([]))
    url = srv.url
    srv.close()
    with pytest.raises(SourceError, match="after 2 attempts: connection failed"):
        list(read_http(url, **WHERE, path="x", retries=2, **FAST))


def test_non_json_body_names_the_page(serve):
    def app(req):
        if req["query"]["page"] == "2":
            return 200, "<html>系统维护中</html>".encode(), {"Content-Type": "text/html"}
        return ok(ALL[:2])

    srv = serve(app)
    with pytest.raises(SourceError) as err:
        list(read_http(srv.url, **WHERE, path="x", paging={"style": "page", "size": 2}, **FAST))
    msg = str(err.value)
    assert "page 2" in msg and "not JSON" in msg and "系统维护中" in msg and "page=2" in msg
    assert len(srv.requests) == 2  # a bad body is not retried


def test_records_path_missing(serve):
    srv = serve(lambda req: ok({"code": 500, "message": "内部错误"}))
    with pytest.raises(SourceError) as err:
        list(read_http(srv.url, **WHERE, path="x", records="data.list", **FAST))
    msg = str(err.value)
    assert "page 1" in msg and "'data.list' not found" in msg and "code, message" in msg


def test_records_must_be_objects_in_a_list(serve):
    srv = serve(lambda req: ok({"data": {"list": [1, 2]}, "other": {"list": "x"}}))
    with pytest.raises(SourceError, match="record 1 is a number, not a JSON object"):
        list(read_http(srv.url, **WHERE, path="x", records="data.list", **FAST))
    with pytest.raises(SourceError, match="'other.list' is a string, not a list"):
        list(read_http(srv.url, **WHERE, path="x", records="other.list", **FAST))


def test_null_records_is_empty(serve):
    srv = serve(lambda req: ok({"data": {"list": None}}))
    batches, rows = rows_of(read_http(srv.url, **WHERE, path="x", records="data.list", **FAST))
    assert rows == [] and len(batches) == 1 and batches[0].num_columns == 0


# ---------------------------------------------------------------- incremental


def test_incremental_since_param_and_watermark(serve):
    def app(req):
        since = req["query"].get("updated_after")
        chosen = [r for r in ALL if since is None or r["GXSJ"] > since]
        page, size = int(req["query"]["page"]), int(req["query"]["size"])
        return ok({"data": {"list": chosen[(page - 1) * size : page * size]}})

    srv = serve(app)
    opts = dict(
        path="x",
        records="data.list",
        paging={"style": "page", "size": 4},
        cursor="GXSJ",
        since_param="updated_after",
        **FAST,
    )
    first = read_http(srv.url, **WHERE, **opts)
    _, rows = rows_of(first)
    assert len(rows) == 11 and first.high_watermark == "2024-01-11T08:00:00"
    assert "updated_after" not in srv.requests[0]["query"]

    ALL.append(licence(11))
    try:
        srv.requests.clear()
        second = read_http(srv.url, **WHERE, **opts, since=first.high_watermark)
        _, rows = rows_of(second)
        assert [r["XKZBH"] for r in rows] == ["NM0011"]
        assert srv.requests[0]["query"]["updated_after"] == "2024-01-11T08:00:00"
        assert second.high_watermark == "2024-01-12T08:00:00"
        third = read_http(srv.url, **WHERE, **opts, since=second.high_watermark)
        batches, rows = rows_of(third)
        assert rows == [] and third.high_watermark is None and len(batches) == 1
    finally:
        ALL.pop()


def test_since_filtered_client_side_when_api_ignores_it(serve):
    data = [{"id": 9, "v": "a"}, {"id": 10, "v": "b"}, {"id": 100, "v": "c"}, {"id": None, "v": "d"}]
    srv = serve(lambda req: ok(data))
    ex = read_http(srv.url, **WHERE, path="x", cursor="id", since="9", since_param="since", **FAST)
    _, rows = rows_of(ex)
    # numeric order: 10 and 100 are > 9 (as text "10" < "9"); NULL cursor dropped like SQL's cursor > since
    assert [r["v"] for r in rows] == ["b", "c"]
    assert ex.high_watermark == "100"
    ex = read_http(srv.url, **WHERE, path="x", cursor="id", **FAST)
    _, rows = rows_of(ex)
    assert len(rows) == 4 and ex.high_watermark == "100"


def test_iso_watermark_compares_t_and_space_alike(serve):
    data = [{"t": "2024-03-01 09:00:00"}, {"t": "2024-03-01T10:00:00"}, {"t": "2024-02-28 23:00:00.5"}]
    srv = serve(lambda req: ok(data))
    ex = read_http(srv.url, **WHERE, path="x", cursor="t", since="2024-03-01 09:00:00", **FAST)
    _, rows = rows_of(ex)
    assert [r["t"] for r in rows] == ["2024-03-01T10:00:00"] and ex.high_watermark == "2024-03-01T10:00:00"


def test_misspelt_cursor_field(serve):
    srv = serve(lambda req: ok(ALL[:2]))
    with pytest.raises(SourceError, match="cursor field 'gxsj' is not a key of any record"):
        list(read_http(srv.url, **WHERE, path="x", cursor="gxsj", **FAST))


# ---------------------------------------------------------------- batches


def test_batch_rows_and_growing_columns(serve):
    def app(req):
        page = int(req["query"]["page"])
        chunk = [dict(r) for r in ALL[(page - 1) * 4 : page * 4]]
        for r in chunk:
            if r["XKZBH"] >= "NM0005":
                r["BZ"] = ["备注", 1]
        return ok({"list": chunk})

    srv = serve(app)
    ex = read_http(
        srv.url, **WHERE, path="x", records="list", paging={"style": "page", "size": 4}, batch_rows=3, **FAST
    )
    batches, rows = rows_of(ex)
    assert [b.num_rows for b in batches] == [3, 3, 3, 2]
    assert batches[0].schema.names == list(EXPECTED_FIRST)
    assert batches[-1].schema.names == [*EXPECTED_FIRST, "BZ"]
    assert rows[-1]["BZ"] == '["备注",1]'
    assert len(rows) == 11


def test_gzip_and_gbk_bodies(serve):
    body = json.dumps({"data": [{"QYMC": "鄂尔多斯市某公司"}]}, ensure_ascii=False).encode("gbk")

    def app(req):
        return (
            200,
            gzip.compress(body),
            {"Content-Type": "application/json; charset=GBK", "Content-Encoding": "gzip"},
        )

    srv = serve(app)
    _, rows = rows_of(read_http(srv.url, **WHERE, path="x", records="data", **FAST))
    assert rows == [{"QYMC": "鄂尔多斯市某公司"}]


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paging": {"style": "pages"}}, "paging style 'pages' is not one of page, offset, cursor"),
        ({"paging": {"style": "page", "page_size": 10}}, "unknown paging key 'page_size'"),
        ({"paging": {"style": "cursor"}}, "needs 'next'"),
        ({"paging": {"style": "page", "size": 0}}, "paging size must be a positive integer"),
        ({"records": "data..list"}, "records path 'data..list' is not a dotted path"),
        ({"batch_rows": 0}, "batch_rows must be positive"),
        ({"retries": 0}, "retries"),
        ({"since_param": "since"}, "since_param needs a cursor"),
        ({"params": {"page": "1"}, "paging": {"style": "page"}}, "'page' is set both"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(SourceError, match=message):
        read_http("http://127.0.0.1:9/api", **WHERE, path="x", **kwargs)


def test_bad_base_url_not_echoed_with_secrets():
    with pytest.raises(SourceError) as err:
        read_http("ftp://u:pw123@host/x?token=abc123", **WHERE, path="x")
    assert "pw123" not in str(err.value) and "abc123" not in str(err.value)


def test_page_style_stops_at_pages_count(serve):
    def app(req):
        page = int(req["query"]["page"])
        return ok({"data": {"pages": 2, "list": ALL[(page - 1) * 5 : page * 5]}})

    srv = serve(app)
    paging = {"style": "page", "size": 5, "pages": "data.pages"}
    _, rows = rows_of(read_http(srv.url, **WHERE, path="x", records="data.list", paging=paging, **FAST))
    assert len(rows) == 10 and len(srv.requests) == 2  # page 3 is never asked for


def test_token_kept_on_same_host_redirect_dropped_on_other_host(serve):
    other = serve(lambda req: ok([{"auth": req["headers"].get("authorization")}]))
    other_url = other.url.replace("127.0.0.1", "localhost")

    def app(req):
        if req["path"].endswith("/moved"):
            return 302, b"", {"Location": "/api/v1/here"}
        if req["path"].endswith("/away"):
            return 302, b"", {"Location": other_url + "/there"}
        return ok([{"auth": req["headers"].get("authorization")}])

    srv = serve(app)
    _, rows = rows_of(read_http(srv.url, **WHERE, path="moved", token=TOKEN, **FAST))
    assert rows == [{"auth": f"Bearer {TOKEN}"}]
    _, rows = rows_of(read_http(srv.url, **WHERE, path="away", token=TOKEN, **FAST))
    assert rows == [{"auth": None}] and other.requests[0]["path"] == "/api/v1/there"
