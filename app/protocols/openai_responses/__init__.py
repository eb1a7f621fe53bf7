"""OpenAI Responses: ``POST /v1/responses`` (PROTOCOLS.md section 3)."""
