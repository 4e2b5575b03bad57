"""Collateral files: an item's print-ready master and the version reps send to clients, each a
list of versions (the newest is current), stored in the database so that every app host serves
the same bytes; share links a client opens without logging in."""
