"""cameras package."""
