"""Helpers for testing code that uses annolab: an Ollama-protocol server answering from rules.

Standard library only, so importing it costs nothing and needs no extra.
"""
