"""Seal records: the seal's life cycle, its certificates and who may use it (§6.4.2 b)."""
