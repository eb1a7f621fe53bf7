"""Which addresses the gateway may fetch from on a client's behalf.

A client can put any URL in an image or document part; when an upstream needs
the bytes inline, the gateway downloads them. Without a guard that is a
server-side request forgery hole into the gateway's own network (metadata
services, databases, admin ports), so every address a fetch would connect to
must be globally routable — checked after DNS resolution, and again for every
redirect hop.
"""

import ipaddress


class ForbiddenAddress(Exception):
    pass


def check_address(address: str) -> None:
    """Raise ``ForbiddenAddress`` unless ``address`` (an IP literal) is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        raise ForbiddenAddress(f"{address} is not a public address")


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True
