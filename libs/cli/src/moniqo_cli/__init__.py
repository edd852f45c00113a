"""``moniqo``: the operator and developer command line."""
