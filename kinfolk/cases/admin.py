"""Cases change only through services; the admin shows no case records (see STYLE.md)."""
