"""The OpenAPI 3.1 description of cmpkg's query API, generated from the saved queries. No web imports."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from publisher.formats import HTML, JSON, RDF_FORMATS, RESULTS_FORMATS, Format
from publisher.saved_queries import QUERY_FORMATS, SavedQuery

SPARQL_RESULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "SPARQL 1.1 Query Results JSON Format (https://www.w3.org/TR/sparql11-results-json/).",
    "required": ["head"],
    "properties": {
        "head": {
            "type": "object",
            "properties": {
                "vars": {"type": "array", "items": {"type": "string"}},
                "link": {"type": "array", "items": {"type": "string"}},
            },
        },
        "results": {
            "type": "object",
            "properties": {
                "bindings": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": {"$ref": "#/components/schemas/RdfTerm"},
                    },
                }
            },
        },
        "boolean": {"type": "boolean"},
    },
}
_text: dict[str, Any] = {"content": {"text/plain": {"schema": {"type": "string"}}}}
RDF_TERM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "value"],
    "properties": {
        "type": {"enum": ["uri", "literal", "bnode", "triple"]},
        "value": {},
        "xml:lang": {"type": "string"},
        "datatype": {"type": "string"},
    },
}


def openapi_document(queries: Iterable[SavedQuery], server_url: str = "/") -> dict[str, Any]:
    """One path per saved query (its parameters and media types) and the /sparql endpoint."""
    paths: dict[str, Any] = {f"/queries/{query.name}": _query_path(query) for query in queries}
    paths["/sparql"] = _sparql_path()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IWC CMP knowledge graph: saved queries and SPARQL endpoint",
            "version": _package_version(),
            "description": "Saved SPARQL queries over the knowledge graph of the IWC Conservation Management "
            "Plan programme, and the SPARQL 1.1 endpoint they run on. Each saved query answers in HTML, "
            "SPARQL results JSON or CSV, chosen by the Accept header or by a suffix on the path "
            f"({', '.join('.' + s for s in QUERY_FORMATS)}).",
            "license": {"name": "CC-BY-4.0 (data), MIT (code)", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": {"SparqlResults": SPARQL_RESULTS_SCHEMA, "RdfTerm": RDF_TERM_SCHEMA},
            "responses": {
                "BadRequest": {
                    "description": "A parameter is missing, unknown or of the wrong type.",
                    **_text,
                },
                "NotAcceptable": {
                    "description": "None of the media types the Accept header allows.",
                    **_text,
                },
            },
        },
    }


def _query_path(query: SavedQuery) -> dict[str, Any]:
    parameters = []
    for parameter in query.parameters:
        schema = dict(parameter.type.schema)
        if parameter.default is not None:
            schema["default"] = parameter.type.json_value(parameter.default)
        parameters.append(
            {
                "name": parameter.name,
                "in": "query",
                "required": parameter.required,
                "description": parameter.meaning + ("" if parameter.required else " (optional)"),
                "schema": schema,
            }
        )
    columns = ", ".join(query.variables)
    return {
        "get": {
            "operationId": query.name,
            "summary": query.title,
            "description": f"{query.description}\n\nColumns: {columns}. Source: queries/{query.name}.rq.",
            "tags": ["saved queries"],
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": f"The rows of {query.name}: {columns}.",
                    "content": _content(QUERY_FORMATS.values()),
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
                "406": {"$ref": "#/components/responses/NotAcceptable"},
                # As /sparql runs them (docs/queries.md): bounded by result_limit and query_timeout.
                "500": {
                    "description": "The answer has more rows than result_limit allows, or the query failed.",
                    **_text,
                },
                "503": {
                    "description": "The query ran past query_timeout, or the data store is unavailable; "
                    "Retry-After says when to try again when the store is down.",
                    **_text,
                },
            },
        }
    }


def _sparql_path() -> dict[str, Any]:
    # SELECT and ASK answer with results, CONSTRUCT and DESCRIBE with a graph (SPARQL 1.1 Protocol).
    content = _content((*RESULTS_FORMATS, *RDF_FORMATS))
    graph_uris = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": {"type": "array", "items": {"type": "string", "format": "iri"}},
            "style": "form",
            "explode": True,
        }
        for name, description in (
            ("default-graph-uri", "A graph to use as (part of) the default graph; may be repeated."),
            ("named-graph-uri", "A graph to use as a named graph; may be repeated."),
        )
    ]
    formats = _format_parameters()
    responses = {
        "200": {
            "description": "The query's results, in the format format= names or else one the Accept header "
            "allows.",
            "content": content,
        },
        "400": {
            "description": "No query, two queries, an update, a query with a syntax error or nested too "
            "deeply, a graph parameter that is not an IRI, an unknown format=, or a request not in UTF-8.",
            **_text,
        },
        "406": {"$ref": "#/components/responses/NotAcceptable"},
        "default": {
            "description": "Refused or failed (too large, too long, not allowed): the message says why.",
            **_text,
        },
    }
    query_text = {"type": "string", "description": "A SPARQL 1.1 query (SELECT, ASK, CONSTRUCT or DESCRIBE)."}
    return {
        "get": {
            "operationId": "sparql_get",
            "summary": "SPARQL 1.1 query (GET)",
            "description": "The SPARQL 1.1 Protocol query operation by GET. Read-only.",
            "tags": ["SPARQL"],
            "parameters": [
                {"name": "query", "in": "query", "required": True, "schema": query_text},
                *graph_uris,
                *formats,
            ],
            "responses": responses,
        },
        "post": {
            "operationId": "sparql_post",
            "summary": "SPARQL 1.1 query (POST)",
            "description": "The SPARQL 1.1 Protocol query operation by POST: URL-encoded form or a "
            "direct application/sparql-query body. Read-only.",
            "tags": ["SPARQL"],
            "parameters": [*graph_uris, *formats],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["query"],
                            "properties": {
                                "query": query_text,
                                "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                                "named-graph-uri": {"type": "array", "items": {"type": "string"}},
                                **{parameter["name"]: parameter["schema"] for parameter in formats},
                            },
                        }
                    },
                    "application/sparql-query": {"schema": query_text},
                },
            },
            "responses": responses,
        },
    }


def _format_parameters() -> list[dict[str, Any]]:
    """format= and its alias output= (docs/sparql.md): a format's short name or media type, in any case."""
    formats = (*RESULTS_FORMATS, *RDF_FORMATS, HTML)
    names = ["", *dict.fromkeys(name for f in formats for name in f.names)]  # "": as if absent
    media_types = list(dict.fromkeys(media_type for f in formats for media_type in f.media_types))
    schema = {"type": "string", "anyOf": [{"enum": names}, {"enum": media_types}]}
    description = (
        "The answer's format, overriding the Accept header: a short name or a media type; a name that is "
        "not of the query's kind (results for SELECT/ASK, a graph for CONSTRUCT/DESCRIBE) gives 406, an "
        "unknown one 400, and an empty value counts as absent."
    )
    return [
        {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
        for name, text in (("format", description), ("output", "The same as format=."))
    ]


def _content(formats: Iterable[Format]) -> dict[str, Any]:
    """The response content by media type; SPARQL results JSON has a schema, the rest are text."""
    results = {"$ref": "#/components/schemas/SparqlResults"}
    return {f.media_type: {"schema": results if f is JSON else {"type": "string"}} for f in formats}


def _package_version() -> str:
    try:
        return version("cmpkg")
    except PackageNotFoundError:
        return "0"
