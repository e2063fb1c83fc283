"""Importers: tables as received -> RDF in cmpkg's model."""
