"""Measuring how well the assistant understands applicants (used by tests and benchmarks)."""
