"""Mass order: many orders pasted as lines."""
