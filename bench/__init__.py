"""`make bench`: Duban's speed against baselines measured in the same run (see README)."""
