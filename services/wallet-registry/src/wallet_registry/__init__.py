"""wallet-registry: the provider catalog and users' wallets, with credentials encrypted at rest."""
