"""Benchmarks: a synthetic-data generator (bench.gen) and side-by-side figures (bench.run, `make bench`)."""
