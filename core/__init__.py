"""The domain: ingest, embed, retrieve, generate, spaced repetition, study sessions, stats."""
