"""served_baseline."""
