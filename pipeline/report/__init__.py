"""Outputs: terminal, JSON, HTML, Markdown, SARIF and GitHub annotations."""
