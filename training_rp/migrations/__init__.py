"""Alembic chain of the training system's own database (``training-rp db upgrade``)."""
