"""Switchyard: one endpoint and one key for every LLM client protocol.

Layers import one way (see STYLE.md):
http -> services -> upstream -> protocols -> canonical -> core.
"""

__version__ = "0.1.0"
