"""The five stages: parse, analyze, rewrite, verify, measure, and the orchestrator."""
