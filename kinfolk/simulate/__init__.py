"""simulate: Django-free library (see ARCHITECTURE.md)."""
