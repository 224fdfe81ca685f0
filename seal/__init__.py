"""Electronic seals (§6.4.2 b): GB/T 38540 seal records, PDF stamping, verification reports."""
