"""Readers that turn an uploaded file of each kind Rounds takes into per-page text."""
