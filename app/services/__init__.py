"""Request-level services: authentication, relaying, the model catalog, the ledger."""
