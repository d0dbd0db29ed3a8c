"""One module per feature. Handlers parse input, call the core and render; nothing more."""
