"""Benchmarks for `optimize`: the corpus, the harness (`python -m benchmarks`) and its reports."""
