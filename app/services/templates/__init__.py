"""Templates (master forms) and the rules of their lifecycle."""
