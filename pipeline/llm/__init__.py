"""The optional LLM stage: the OpenAI-compatible client, prompts and proposals."""
