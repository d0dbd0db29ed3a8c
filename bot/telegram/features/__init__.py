"""One folder per feature: its handlers and its screens side by side."""
