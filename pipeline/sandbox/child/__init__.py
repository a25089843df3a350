"""The sandboxed child: runs untrusted code and reports what it observed, as data.

Loaded by `bootstrap.py` under the private name `_optimize_child`; its modules
import each other relatively and use only the standard library and Hypothesis.
The parent imports `protocol`, `compare`, `domains` and `literals` from here as
`pipeline.sandbox.child.*`; it never runs any of the rest.
"""
