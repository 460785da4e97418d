"""Stand-ins for Meta, used by the tests and the benchmark; never by the running channel."""
