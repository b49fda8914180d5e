"""Playing games: the rules and typed outcome of one game, its record, the one game loop, matches."""
