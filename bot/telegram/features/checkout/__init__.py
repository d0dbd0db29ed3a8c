"""Checkout: the conversation from a service to a placed order."""
