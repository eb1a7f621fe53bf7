"""The canonical form every wire protocol decodes into and encodes out of.

Pure data: no I/O, no third-party imports. See PROTOCOLS.md section 6.
"""
