"""`optimize trace`: record what a real run of the user's program does, per function.

Two sides share this package:
- the *traced process* runs the user's program. It loads this directory by path
  under the private name `_optimize_trace` (see `bootstrap.py`), so a project
  with its own `pipeline` package is not shadowed, and uses the standard library
  only: `recorder` counts calls, times them and keeps a bounded sample of real
  calls as pickles; `program` runs the script or module as `__main__`; `store`
  writes the result.
- the *parent* (`optimize trace`, `optimize PATH`) imports `store` as
  `pipeline.trace.store` to read the data back. It treats recorded calls as
  opaque bytes: unpickling runs code, so they are loaded only inside the
  sandboxed child (see `pipeline.sandbox`).
"""
