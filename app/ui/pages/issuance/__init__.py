"""Issuing controlled copies, releasing them to print, replacing a copy, and the register."""
