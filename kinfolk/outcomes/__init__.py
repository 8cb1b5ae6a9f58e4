"""outcomes: Django-free library (see ARCHITECTURE.md)."""
