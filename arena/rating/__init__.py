"""Ratings: the rating model, loading games, standings, head-to-head statistics, plots and simulations."""
