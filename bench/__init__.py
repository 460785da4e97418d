"""`make bench`: accuracy, latency, throughput and memory, written to BENCHMARKS.md."""
