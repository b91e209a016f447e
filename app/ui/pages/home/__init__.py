"""Home: what the user has to do next."""
