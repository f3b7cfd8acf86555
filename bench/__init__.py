"""Benchmarks for nnview: ``python -m bench.trace`` (or ``python bench/trace.py``)."""
