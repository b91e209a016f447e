"""`formtrail verify` and the data-integrity report: everything an insider could have changed, each finding named."""
