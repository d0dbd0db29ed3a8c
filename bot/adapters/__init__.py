"""What persists and talks: databases, panels, gateways."""
