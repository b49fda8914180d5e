"""``python -m arena`` runs the CLI."""

from arena.launch import main

main()
