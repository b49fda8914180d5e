"""Leagues: the league file, its schedule, openings, adjudication and stopping rules, the workers and the results store."""
