"""The user's settings: language and notifications."""
