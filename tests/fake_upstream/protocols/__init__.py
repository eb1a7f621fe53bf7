"""Canned provider responses, one module per wire protocol (PROTOCOLS.md sections 2-5)."""
