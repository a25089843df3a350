"""A small inventory app, written the way a lot of real code is: correct, untyped and slow."""
