"""COFFE, end to end: the real `optimize` CLI over a public benchmark nobody here wrote.

`python -m benchmarks.coffe` (see `benchmarks/README.md`). The data is read from
`../shared/benchmarks/coffe` or `--data DIR` and is never copied into the repository.
"""
