"""optimize: verified, timed speedups for Python code."""
