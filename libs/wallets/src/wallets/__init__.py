"""The BaseWallet port (ccxt-shaped), wallet errors and the provider factory: arrives with issue #3."""
