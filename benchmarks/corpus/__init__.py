"""Benchmark corpus for `optimize`: deliberately slow, realistic Python functions.

Each module in this package exposes plain module-level functions plus four
module-level dictionaries that describe them to a benchmark harness:

* ``OPTIMIZE_INPUTS``: name -> factory ``(n) -> tuple`` of positional args for size n
* ``OPTIMIZE_SIZES``: name -> 2-3 input sizes
* ``CATEGORY``: name -> ``"idiom"`` | ``"llm-only"`` | ``"trap"``
* ``IDIOM``: name -> short description of the slow idiom or trap

See README.md in this directory for the full convention and function table.
"""

MODULES: tuple[str, ...] = (
    "text_processing",
    "logs",
    "records",
    "numeric",
    "algorithms",
    "collections_idioms",
    "traps",
)
