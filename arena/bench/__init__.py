"""Benchmarks that print figures: league speed, rating accuracy, SPRT error rates."""
