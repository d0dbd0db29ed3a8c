"""The panel API v2 over HTTP: transport, limits, the dialects of real panels."""
