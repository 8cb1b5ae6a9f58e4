"""matching: Django-free library (see ARCHITECTURE.md)."""
