"""After the order: the list, a card, status, refill, cancel, an order of unknown outcome."""
