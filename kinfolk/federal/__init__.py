"""federal: Django-free library (see ARCHITECTURE.md)."""
