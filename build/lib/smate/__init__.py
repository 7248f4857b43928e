"""smate-bench: rebalancing methods for imbalanced image data, benchmarked with seeds."""

__version__ = "0.1.0"
