"""Channel parsers and the ASGI intake service."""
