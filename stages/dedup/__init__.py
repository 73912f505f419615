"""Deduplication, one step per module: signatures (minhash), the keep rule (keep), in-process clustering
(cluster), the distributed task graph (distributed), the index of earlier releases (index), evaluation (evaluate)."""
