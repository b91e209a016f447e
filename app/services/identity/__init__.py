"""Who acts and what they may do: log-in, passwords, the role matrix, user administration, electronic signatures."""
