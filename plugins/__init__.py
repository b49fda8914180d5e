"""arena's built-in plugins. They register through the ``arena`` entry-point group, like any other."""
