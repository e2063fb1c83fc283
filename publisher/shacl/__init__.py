"""A fast SHACL engine: the shapes as set-based SPARQL queries run once over all focus nodes, on Oxigraph.

It covers the SHACL Core + SHACL-SPARQL subset that shapes/ uses and yields the report graph pySHACL yields
for the same data (see docs/validation.md). A shapes graph using anything else raises UnsupportedShapes,
so the caller can fall back to pySHACL: a feature is never silently skipped.
"""

from publisher.shacl.compile_shapes import InvalidShapes, UnsupportedShapes, compile_shapes
from publisher.shacl.engine import OxigraphEngine, validate_store
from publisher.shacl.store import load_store, store_from_graph

__all__ = [
    "InvalidShapes",
    "OxigraphEngine",
    "UnsupportedShapes",
    "compile_shapes",
    "load_store",
    "store_from_graph",
    "validate_store",
]
