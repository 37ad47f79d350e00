"""Small reusable widgets with their own DEFAULT_CSS."""
