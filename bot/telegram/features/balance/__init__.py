"""/balance: the panel balance, or the wallet in shop mode."""
