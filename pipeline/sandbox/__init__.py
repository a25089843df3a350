"""The sandbox: the parent-side runner and the child package that runs untrusted code."""
