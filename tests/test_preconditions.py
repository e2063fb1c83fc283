"""Conditional and range requests (RFC 9110 §13, §14): publisher/preconditions.py, and the dumps, /void, the
sitemap and entities answering through it (HTTP audit findings 6 and 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from publisher.preconditions import Conditions, EntityTag, Outcome, entity_tags, evaluate, parse_http_date
from publisher.response_cache import CachedAnswer, ResponseCache
from publisher.views.context import PAGE_CACHE_KEY
from publisher.views.entity_replay import MARK_KEY, Mark, ReplayAnswers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

MODIFIED = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
IMF = "Sun, 06 Nov 1994 08:49:37 GMT"
RFC850 = "Sunday, 06-Nov-94 08:49:37 GMT"
ASCTIME = "Sun Nov  6 08:49:37 1994"
EARLIER = "Sat, 05 Nov 1994 08:49:37 GMT"
LATER = "Mon, 07 Nov 1994 08:49:37 GMT"
HUGE_YEAR = "Mon, 01 Jan 99999999999 00:00:00 GMT"  # was a 500: OverflowError
EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT"
TAG = '"abc"'
LENGTH = 1000


def decide(length: int | None = LENGTH, etag: str = TAG, method: str = "GET", **fields: str) -> Outcome:
    return evaluate(Conditions(method, **fields), etag, MODIFIED, length)


# HTTP-dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [IMF, RFC850, ASCTIME, f"  {IMF}\t"], ids=["imf", "rfc850", "asctime", "ows"]
)
def test_an_http_date_is_read_in_each_of_its_three_forms(text: str) -> None:
    assert parse_http_date(text) == MODIFIED


@pytest.mark.parametrize(
    "text",
    [
        HUGE_YEAR,
        "Sun, 06 Nov 1994 08:49:37",  # no zone
        "Sun, 06 Nov 1994 08:49:37 +0000",  # not GMT
        "sun, 06 nov 1994 08:49:37 gmt",  # the names are case-sensitive
        "Sun, 30 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        f"{IMF}, {IMF}",  # two members
        "1994-11-06T08:49:37Z",
        "",
        "garbage",
    ],
)
def test_what_is_not_an_http_date_is_none(text: str) -> None:
    assert parse_http_date(text) is None


def test_an_rfc850_year_more_than_50_years_ahead_is_in_the_past() -> None:
    year = datetime.now(UTC).year
    ahead = parse_http_date(f"Sunday, 06-Nov-{(year + 10) % 100:02d} 08:49:37 GMT")
    too_far = parse_http_date(f"Sunday, 06-Nov-{(year + 60) % 100:02d} 08:49:37 GMT")
    assert ahead is not None
    assert ahead.year == year + 10
    assert too_far is not None
    assert too_far.year == year - 40


# Entity tags -----------------------------------------------------------------------------------------------


def test_entity_tag_lists_are_read_with_weakness_and_commas_inside_tags() -> None:
    assert entity_tags('"a", W/"b" ,"c,d"') == [
        EntityTag('"a"'),
        EntityTag('"b"', weak=True),
        EntityTag('"c,d"'),
    ]
    assert entity_tags(' , "a" ,, ') == [EntityTag('"a"')]
    assert entity_tags("abc") == []  # not a list of entity tags: matches nothing
    assert entity_tags('w/"a"') == []  # "W/" is case-sensitive


# The rules, in RFC 9110 §13.2.2's order -------------------------------------------------------------------


def test_no_precondition_is_200() -> None:
    assert decide() == Outcome(200)
    assert decide(if_range=TAG) == Outcome(200)  # If-Range means nothing without Range


@pytest.mark.parametrize(
    ("if_match", "etag", "status"),
    [
        (TAG, TAG, 200),
        ('"x", "abc"', TAG, 200),
        ("*", TAG, 200),
        ('"nope"', TAG, 412),
        ('W/"abc"', TAG, 412),  # If-Match compares strongly: a weak tag never matches
        (TAG, 'W/"abc"', 412),
        ("garbage", TAG, 412),
    ],
)
def test_if_match_compares_strongly(if_match: str, etag: str, status: int) -> None:
    assert decide(etag=etag, if_match=if_match).status == status


@pytest.mark.parametrize(
    ("date", "status"),
    [(EPOCH, 412), (EARLIER, 412), (IMF, 200), (LATER, 200), (RFC850, 200), (HUGE_YEAR, 200), ("x", 200)],
)
def test_if_unmodified_since_fails_when_changed_since(date: str, status: int) -> None:
    assert decide(if_unmodified_since=date).status == status


def test_if_match_decides_instead_of_if_unmodified_since() -> None:
    assert decide(if_match=TAG, if_unmodified_since=EPOCH).status == 200
    assert (
        evaluate(Conditions(if_unmodified_since=EPOCH), TAG, None, LENGTH).status == 200
    )  # no date: ignored


def test_a_failed_if_match_comes_before_if_none_match() -> None:
    assert decide(if_match='"nope"', if_none_match=TAG).status == 412


@pytest.mark.parametrize(
    ("if_none_match", "etag", "status"),
    [
        (TAG, TAG, 304),
        ('W/"abc"', TAG, 304),  # If-None-Match compares weakly
        (TAG, 'W/"abc"', 304),
        ('"x", W/"abc"', TAG, 304),
        ("*", TAG, 304),
        ('"other"', TAG, 200),
        ("garbage", TAG, 200),
    ],
)
def test_if_none_match_compares_weakly(if_none_match: str, etag: str, status: int) -> None:
    assert decide(etag=etag, if_none_match=if_none_match).status == status
    assert decide(etag=etag, method="HEAD", if_none_match=if_none_match).status == status


def test_if_none_match_fails_other_methods() -> None:
    assert decide(method="POST", if_none_match=TAG).status == 412


@pytest.mark.parametrize(
    ("date", "status"),
    [
        (IMF, 304),
        (LATER, 304),
        (RFC850, 304),
        (ASCTIME, 304),
        (EARLIER, 200),
        (HUGE_YEAR, 200),  # not a valid HTTP-date: ignored (§13.1.3)
        ("Sun, 06 Nov 1994 08:49:37", 200),
    ],
)
def test_if_modified_since_in_every_date_form(date: str, status: int) -> None:
    assert decide(if_modified_since=date).status == status


def test_if_modified_since_compares_whole_seconds_in_utc() -> None:
    same_second = [
        MODIFIED.replace(microsecond=900_000),
        MODIFIED.replace(tzinfo=None),  # taken to be UTC
        MODIFIED.astimezone(timezone(timedelta(hours=5))),
    ]
    for modified in same_second:
        assert evaluate(Conditions(if_modified_since=IMF), TAG, modified).status == 304
        assert evaluate(Conditions(if_modified_since=EARLIER), TAG, modified).status == 200


def test_if_modified_since_is_ignored_with_if_none_match_and_for_other_methods() -> None:
    assert decide(if_none_match='"other"', if_modified_since=LATER).status == 200
    assert decide(method="POST", if_modified_since=LATER).status == 200
    assert evaluate(Conditions(if_modified_since=LATER), TAG, None).status == 200  # no date to compare


def test_not_modified_comes_before_range() -> None:
    assert decide(if_none_match=TAG, range="bytes=0-9").status == 304
    assert decide(if_modified_since=IMF, range="bytes=0-9").status == 304


@pytest.mark.parametrize(
    ("field", "first", "last"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=990-", 990, 999),
        ("bytes=-10", 990, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=10-5000", 10, 999),
        ("bytes=0-99999999999999999999999999", 0, 999),
        ("bytes=000000000000000000000000001-2", 1, 2),
        ("BYTES = 5 - 6", 5, 6),
        ("bytes=0-0,", 0, 0),
    ],
)
def test_a_single_satisfiable_byte_range_is_206(field: str, first: int, last: int) -> None:
    outcome = decide(range=field)
    assert outcome == Outcome(206, first, last, LENGTH)
    assert outcome.content_range == f"bytes {first}-{last}/{LENGTH}"


@pytest.mark.parametrize(
    "field", ["bytes=1000-", "bytes=1000-2000", "bytes=-0", "bytes=99999999999999999999-"]
)
def test_an_unsatisfiable_byte_range_is_416_with_the_length(field: str) -> None:
    outcome = decide(range=field)
    assert outcome.status == 416
    assert outcome.content_range == f"bytes */{LENGTH}"


@pytest.mark.parametrize(
    "field",
    [
        "items=0-1",
        "bytes=0-1,5-6",
        "bytes=0-1, 2000-3000",
        "bytes=5-2",
        "bytes=abc",
        "bytes=-",
        "bytes",
        "=0-1",
    ],
)
def test_other_units_several_ranges_and_malformed_ranges_are_ignored(field: str) -> None:
    assert decide(range=field) == Outcome(200)


def test_range_is_for_get_only_and_where_it_is_offered() -> None:
    assert decide(method="HEAD", range="bytes=0-9").status == 200
    assert decide(length=None, range="bytes=0-9").status == 200
    assert decide(length=0, range="bytes=0-9").status == 200


@pytest.mark.parametrize(
    ("if_range", "etag", "status"),
    [
        (TAG, TAG, 206),
        (IMF, TAG, 206),  # exactly the last modification
        ('W/"abc"', TAG, 200),  # a weak tag never matches (§13.1.5)
        (TAG, 'W/"abc"', 200),
        ('"other"', TAG, 200),
        (LATER, TAG, 200),  # a date must be equal, not later
        (HUGE_YEAR, TAG, 200),
        ("garbage", TAG, 200),
    ],
)
def test_if_range_needs_a_strong_match_or_the_exact_date(if_range: str, etag: str, status: int) -> None:
    assert decide(etag=etag, range="bytes=0-9", if_range=if_range).status == status


def test_conditions_are_read_from_a_wsgi_environ() -> None:
    environ = {
        "REQUEST_METHOD": "HEAD",
        "HTTP_IF_MATCH": TAG,
        "HTTP_IF_NONE_MATCH": "",  # empty: as if absent
        "HTTP_IF_MODIFIED_SINCE": IMF,
        "HTTP_IF_UNMODIFIED_SINCE": EPOCH,
        "HTTP_RANGE": "bytes=0-1",
        "HTTP_IF_RANGE": TAG,
    }
    assert Conditions.from_environ(environ) == Conditions("HEAD", TAG, None, IMF, EPOCH, "bytes=0-1", TAG)
    assert Conditions.from_environ({}) == Conditions()


# The replay of entity answers evaluates them the same way --------------------------------------------------


def test_the_replay_answers_dates_and_leaves_failed_preconditions_to_the_view() -> None:
    cache = ResponseCache(max_bytes=20_000)
    reached: list[str] = []

    def view(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        reached.append(environ.get("HTTP_IF_MATCH") or "")
        cache.put("body", CachedAnswer(b"body"))
        environ[MARK_KEY] = Mark("v1", "body", TAG, MODIFIED)
        start_response("200 OK", [("ETag", TAG)])
        return [b"body"]

    replay = ReplayAnswers(view, cache, lambda: "v1")

    def status(**headers: str) -> str:
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/a", "QUERY_STRING": "", **headers}
        sent: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            sent.append(status)

        list(replay(environ, start_response))  # type: ignore[arg-type]
        return sent[0]

    assert status() == "200 OK"
    assert status(HTTP_IF_MODIFIED_SINCE=ASCTIME) == "304 NOT MODIFIED"
    assert status(HTTP_IF_MODIFIED_SINCE=HUGE_YEAR) == "200 OK"
    assert status(HTTP_IF_MATCH=TAG) == "200 OK"
    assert reached == [""]  # all replayed
    status(HTTP_IF_MATCH='"nope"')
    assert reached == ["", '"nope"']  # the view answers a failed precondition


# Through the app: a dump, /void, the sitemap, an entity ----------------------------------------------------

DUMP = "/dump/cmpkg.ttl"
ENTITY = "/cmp/franciscana"
TURTLE = {"Accept": "text/turtle"}


def assert_empty(response: TestResponse, status: int) -> None:
    """A 304 or 412: the status, no body and no header describing one."""
    assert response.status_code == status
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert response.headers.get("Content-Length", "0") == "0"
    if status == 412:
        assert "Cache-Control" not in response.headers  # not stored in place of the representation
        assert "Expires" not in response.headers


@pytest.fixture
def dump(client: FlaskClient) -> TestResponse:
    return client.get(DUMP)


def test_a_dump_refuses_a_failed_if_match_without_sending_itself(
    client: FlaskClient, dump: TestResponse
) -> None:
    for method in ("GET", "HEAD"):
        refused = client.open(DUMP, method=method, headers={"If-Match": '"nope"'})
        assert_empty(refused, 412)
        assert refused.headers["ETag"] == dump.headers["ETag"]
    kept = client.get(DUMP, headers={"If-Match": dump.headers["ETag"]})
    assert kept.status_code == 200
    assert kept.data == dump.data


def test_a_dump_honours_if_unmodified_since(client: FlaskClient, dump: TestResponse) -> None:
    assert_empty(client.get(DUMP, headers={"If-Unmodified-Since": EPOCH}), 412)
    since = client.get(DUMP, headers={"If-Unmodified-Since": dump.headers["Last-Modified"]})
    assert since.status_code == 200


def test_a_dump_is_not_modified_before_its_range_is_looked_at(
    client: FlaskClient, dump: TestResponse
) -> None:
    validators = [
        {"If-None-Match": dump.headers["ETag"]},
        {"If-Modified-Since": dump.headers["Last-Modified"]},
    ]
    for validator in validators:
        unchanged = client.get(DUMP, headers={**validator, "Range": "bytes=0-9"})
        assert_empty(unchanged, 304)
        for name in ("ETag", "Cache-Control", "Link", "Accept-Ranges", "Access-Control-Allow-Origin"):
            assert unchanged.headers[name] == dump.headers[name]
        assert "Content-Range" not in unchanged.headers


def test_a_dump_sends_a_range_only_for_its_strong_etag_or_date(
    client: FlaskClient, dump: TestResponse
) -> None:
    etag, modified = dump.headers["ETag"], dump.headers["Last-Modified"]
    for validator in (etag, modified):
        part = client.get(DUMP, headers={"Range": "bytes=0-9", "If-Range": validator})
        assert part.status_code == 206
        assert part.data == dump.data[:10]
        assert part.headers["Content-Range"] == f"bytes 0-9/{len(dump.data)}"
    whole = client.get(DUMP, headers={"Range": "bytes=0-9", "If-Range": f"W/{etag}"})
    assert whole.status_code == 200
    assert whole.data == dump.data


@pytest.mark.parametrize("field", ["items=0-1", "bytes=0-1,5-6"])
def test_a_dump_ignores_ranges_it_does_not_serve(client: FlaskClient, dump: TestResponse, field: str) -> None:
    whole = client.get(DUMP, headers={"Range": field})
    assert whole.status_code == 200
    assert whole.data == dump.data
    assert "Content-Range" not in whole.headers


def test_a_dump_range_past_its_end_is_416_with_its_length(client: FlaskClient, dump: TestResponse) -> None:
    assert dump.headers["Accept-Ranges"] == "bytes"
    length = len(dump.data)
    refused = client.get(DUMP, headers={"Range": f"bytes={length}-"})
    assert refused.status_code == 416
    assert refused.headers["Content-Range"] == f"bytes */{length}"
    assert refused.mimetype == "text/plain"
    assert str(length) in refused.text
    last = client.get(DUMP, headers={"Range": "bytes=-7"})
    assert (last.status_code, last.data) == (206, dump.data[-7:])


def test_a_dump_range_is_streamed_from_the_file(app: Flask, dump: TestResponse) -> None:
    with app.test_request_context(DUMP, headers={"Range": "bytes=100-"}):
        response = app.full_dispatch_request()
        try:
            assert response.status_code == 206
            assert response.is_streamed
            chunks = list(response.response)
        finally:
            response.close()
    assert max(len(chunk) for chunk in chunks) <= 64 * 1024
    assert b"".join(chunks) == dump.data[100:]  # type: ignore[arg-type]


@pytest.mark.parametrize("path", [DUMP, "/void", "/void.ttl", "/.well-known/void", "/sitemap.xml", ENTITY])
def test_an_if_modified_since_that_is_not_a_date_is_ignored(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"If-Modified-Since": HUGE_YEAR})
    assert response.status_code == 200
    assert response.data


def test_void_and_the_sitemap_refuse_failed_preconditions_without_a_body(client: FlaskClient) -> None:
    for path in ("/void", "/sitemap.xml"):
        for failing in ({"If-Match": '"nope"'}, {"If-Unmodified-Since": EPOCH}):
            refused = client.get(path, headers=failing)
            assert_empty(refused, 412)
            assert refused.headers["ETag"]
    assert client.get("/void", headers={"If-Match": '"nope"'}).headers["Vary"] == "Accept"


def test_void_is_not_modified_whatever_the_range(client: FlaskClient) -> None:
    first = client.get("/void")
    unchanged = client.get("/void", headers={"If-None-Match": first.headers["ETag"], "Range": "bytes=0-9"})
    assert_empty(unchanged, 304)
    for name in ("ETag", "Vary", "Content-Location", "Link", "Cache-Control"):
        assert unchanged.headers[name] == first.headers[name]
    whole = client.get("/void", headers={"Range": "bytes=0-9"})  # no ranges for these small documents
    assert (whole.status_code, whole.data) == (200, first.data)
    assert "Accept-Ranges" not in first.headers


def entity(app: Flask, client: FlaskClient, replayed: bool) -> TestResponse:
    """The entity's 200, which the next same request gets replayed, or answered by the view again."""
    app.extensions[PAGE_CACHE_KEY].clear()
    first = client.get(ENTITY, headers=TURTLE)
    if not replayed:
        app.extensions[PAGE_CACHE_KEY].clear()
    return first


def asctime(moment: datetime) -> str:
    return f"{moment:%a %b} {moment.day:2d} {moment:%H:%M:%S %Y}"


@pytest.mark.parametrize("replayed", [False, True], ids=["view", "replayed"])
def test_an_entity_honours_if_match_and_if_unmodified_since(
    app: Flask, client: FlaskClient, replayed: bool
) -> None:
    first = entity(app, client, replayed)
    etag = first.headers["ETag"]
    for failing in ({"If-Match": '"nope"'}, {"If-Match": f"W/{etag}"}, {"If-Unmodified-Since": EPOCH}):
        refused = client.get(ENTITY, headers={**TURTLE, **failing})
        assert_empty(refused, 412)
        assert (refused.headers["ETag"], refused.headers["Vary"]) == (etag, "Accept")
    kept = client.get(ENTITY, headers={**TURTLE, "If-Match": etag})
    assert (kept.status_code, kept.data) == (200, first.data)


@pytest.mark.parametrize("replayed", [False, True], ids=["view", "replayed"])
def test_an_entity_reads_if_modified_since_in_every_date_form(
    app: Flask, client: FlaskClient, replayed: bool
) -> None:
    first = entity(app, client, replayed)
    modified = parse_http_date(first.headers["Last-Modified"])
    assert modified is not None
    for date in (asctime(modified), f"{modified:%A, %d-%b-%y %H:%M:%S} GMT"):
        unchanged = client.get(ENTITY, headers={**TURTLE, "If-Modified-Since": date, "Range": "bytes=0-9"})
        assert_empty(unchanged, 304)
        for name in ("ETag", "Vary", "Content-Location", "Link", "Cache-Control"):
            assert unchanged.headers[name] == first.headers[name]
    earlier = asctime(modified - timedelta(days=1))
    assert client.get(ENTITY, headers={**TURTLE, "If-Modified-Since": earlier}).status_code == 200


def test_an_entity_ignores_ranges(client: FlaskClient) -> None:
    first = client.get(ENTITY, headers=TURTLE)
    for field in ("bytes=0-9", "items=0-1"):
        whole = client.get(ENTITY, headers={**TURTLE, "Range": field})
        assert (whole.status_code, whole.data) == (200, first.data)
