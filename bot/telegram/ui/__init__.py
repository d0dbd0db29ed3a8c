"""Keyboards, callback data and message formatting."""
