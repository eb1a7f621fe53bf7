"""OpenAI Chat Completions: ``POST /v1/chat/completions`` (PROTOCOLS.md section 2)."""
