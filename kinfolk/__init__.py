"""Kinfolk: an open-source child-welfare information system."""

__version__ = "0.1.0"
