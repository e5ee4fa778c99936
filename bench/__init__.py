"""Benchmarks (`make bench`) and the question-quality evaluation (`make eval`)."""
