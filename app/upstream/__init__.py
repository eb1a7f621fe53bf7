"""Everything that talks to provider accounts: transport, accounts, model routing."""
