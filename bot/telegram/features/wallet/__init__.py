"""Shop mode's wallet: the balance, top-ups and their proofs."""
