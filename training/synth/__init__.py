"""Procedural leak/stain/corrosion scene generator (synthetic training data for the leak model)."""
