"""Browsing the services: categories, search, a service's card, favourites."""
