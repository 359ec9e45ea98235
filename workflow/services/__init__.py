"""Use cases the serving layer calls; each opens one unit of work (one transaction)."""
