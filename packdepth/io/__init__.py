"""Input/output: atomic files, checkpoints, export and visualisation."""
