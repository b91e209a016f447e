"""Electronic records and GDP corrections: values, history, verification, review, approval."""
