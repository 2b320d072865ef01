"""Revisions of the training system's own chain (a package, so that they are installed with it)."""
