"""Rendering shared by the features: text helpers, keyboards, orders as cards and lines, notices."""
