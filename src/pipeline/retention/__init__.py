"""Face data that ends: the retention sweep (faces) and a runner's erasure that lasts against every
later run (erasure)."""
