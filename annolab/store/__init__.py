"""The storage layer: the only part of annolab that speaks SQL."""
