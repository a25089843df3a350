"""Real libraries from PyPI: their own tests as the oracle, their hot code as the target."""
