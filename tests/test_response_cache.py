"""The page cache keeps recent answers within its byte budget; answers replayed from it are right."""

from __future__ import annotations

from typing import TYPE_CHECKING

from publisher.response_cache import CachedAnswer, ResponseCache
from publisher.views.entity_replay import MARK_KEY, Mark, ReplayAnswers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def test_least_recently_used_entries_go_first() -> None:
    cache = ResponseCache(max_bytes=80)
    for key in "abcd":
        cache.put(key, CachedAnswer(b"x" * 10))
    assert cache.get("a") == CachedAnswer(b"x" * 10)  # now the most recent
    for key in "efghi":
        cache.put(key, CachedAnswer(b"y" * 10))
    assert cache.size <= 80
    assert cache.get("b") is None
    assert cache.get("a") is not None


def test_a_body_too_large_for_the_budget_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=80)
    cache.put("small", CachedAnswer(b"s"))
    cache.put("huge", CachedAnswer(b"h" * 50))
    assert cache.get("huge") is None
    assert cache.get("small") == CachedAnswer(b"s")


def test_replacing_an_entry_keeps_the_size_right() -> None:
    cache = ResponseCache(max_bytes=100)
    cache.put("k", CachedAnswer(b"1234"))
    cache.put("k", CachedAnswer(b"12"))
    assert cache.size == 2
    assert len(cache) == 1


def fake_entity_app(
    cache: ResponseCache, versions: list[str] | None = None
) -> tuple[ReplayAnswers, list[str]]:
    """A WSGI app answering like the entity view (a 200 with an ETag, its body in the page cache), behind
    the replay; `versions[0]` is the data's version; the list returned collects the paths that reached it."""
    version = versions or ["v1"]
    reached: list[str] = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        path = environ["PATH_INFO"]
        reached.append(path)
        body_key = (version[0], path)
        cache.put(body_key, CachedAnswer(b"body of " + path.encode()))
        environ[MARK_KEY] = Mark(version[0], body_key, '"tag"')
        start_response("200 OK", [("Content-Type", "text/turtle"), ("ETag", '"tag"')])
        return [b"body of " + path.encode()]

    return ReplayAnswers(app, cache, lambda: version[0]), reached


def call(app: ReplayAnswers, path: str, **headers: str) -> tuple[str, bytes]:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", **headers}
    sent: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        sent.append(status)

    body = b"".join(app(environ, start_response))  # type: ignore[arg-type]
    return sent[0], body


def test_a_repeated_request_is_replayed_and_an_etag_match_is_304() -> None:
    cache = ResponseCache(max_bytes=20_000)
    app, reached = fake_entity_app(cache)
    assert call(app, "/a") == ("200 OK", b"body of /a")
    assert call(app, "/a") == ("200 OK", b"body of /a")
    assert call(app, "/a", HTTP_IF_NONE_MATCH='"tag"') == ("304 NOT MODIFIED", b"")
    assert call(app, "/a", HTTP_ACCEPT="text/html") == ("200 OK", b"body of /a")
    assert reached == ["/a", "/a"]  # the second and third were replayed; another Accept is asked again


def test_replayed_answers_stay_within_the_budget() -> None:
    cache = ResponseCache(max_bytes=20_000)
    app, _ = fake_entity_app(cache)
    for number in range(500):  # many different requests, some with long Accept headers
        call(app, f"/item/{number}", HTTP_ACCEPT="text/turtle;q=0.9, " * (number % 50))
        assert cache.size <= 20_000
    assert len(cache) < 500


def test_a_long_accept_header_counts_against_the_budget() -> None:
    cache = ResponseCache(max_bytes=100_000)
    app, _ = fake_entity_app(cache)
    call(app, "/a", HTTP_ACCEPT="x" * 5_000)
    assert cache.size > 5_000


def test_a_new_data_version_empties_the_cache() -> None:
    cache = ResponseCache(max_bytes=100_000)
    versions = ["v1"]
    app, reached = fake_entity_app(cache, versions)
    call(app, "/a")
    assert len(cache) == 2  # the body and the record
    versions[0] = "v2"  # a reload
    assert call(app, "/a") == ("200 OK", b"body of /a")
    assert reached == ["/a", "/a"]  # answered again from the new data
    assert cache.get(("v1", "/a")) is None
    assert len(cache) == 2  # only the new version's body and record
