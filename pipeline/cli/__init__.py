"""The `optimize` command line: the main command and its subcommands."""

from pipeline.cli.main import main

__all__ = ["main"]
