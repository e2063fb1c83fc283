"""GET /-/health: whether this worker can answer, for a load balancer's or an orchestrator's health check.

200 with what the worker serves (the store's kind, the data version, when it changed, its triples), or 503
with Retry-After when the store it needs does not answer (a remote store that is down). Never cached."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from publisher.query_execution import QueryError
from publisher.sparql_client import RETRY_AFTER, StoreUnavailableError
from publisher.views.context import settings, store

blueprint = Blueprint("health", __name__)


@blueprint.get("/-/health")
def health() -> Response:
    served = store()
    try:
        served.check()
        facts: dict[str, Any] = {
            "status": "ok",
            "store": _kind(),
            "version": served.version,
            "modified": served.modified.isoformat() if served.modified else None,
            "triples": served.triples(),
        }
    except (StoreUnavailableError, QueryError) as error:
        retry = error.retry_after if isinstance(error, StoreUnavailableError) else RETRY_AFTER
        response = jsonify({"status": "unavailable", "store": _kind(), "error": str(error)})
        response.status_code = 503
        response.headers["Retry-After"] = str(retry)
    else:
        response = jsonify(facts)
    response.headers["Cache-Control"] = "no-store"
    return response


def _kind() -> str:
    """Where the data lives: "remote" (store_url), "disk" (store_path) or "memory"."""
    if settings()["store_url"]:
        return "remote"
    return "disk" if settings()["store_path"] else "memory"
