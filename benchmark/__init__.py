"""Performance checks: the pytest-benchmark suite over the hot paths, its baseline comparison, and the GPU timing run."""
