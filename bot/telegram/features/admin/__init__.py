"""The admins' tools: /stats and shop mode's money."""
