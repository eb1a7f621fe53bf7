"""The HTTP edge: the only layer that imports BlackSheep. Thin by design: it
matches a route, reads and bounds the body, and turns service replies and
errors into responses in the caller's protocol."""
