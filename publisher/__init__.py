"""cmpkg: the knowledge graph and linked-data publisher of the IWC Conservation Management Plan programme."""

__version__ = "0.1.0"
