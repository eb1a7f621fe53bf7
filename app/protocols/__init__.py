"""One package per wire protocol, each alike inside:

- ``schema``: precompiled pydantic-core validators for what the gateway reads;
- ``usage``: token usage read from a response body or from relayed stream bytes;
- ``encode``: canonical responses and stream events rendered in the protocol.

A protocol package imports ``app.canonical`` and ``app.core`` only.
"""
