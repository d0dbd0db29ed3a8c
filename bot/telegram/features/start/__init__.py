"""The main menu, /start and /help."""
