"""The ground every service stands on: the database collaborator, the one audit mechanism and its chain, the clock,
errors and their codes, keys, anchors, the file store and its ledger, limits."""
