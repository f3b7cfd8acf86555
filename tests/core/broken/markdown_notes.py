"""Broken: Markdown notes saved as .py; line 4 is not Python (kind syntax)."""
# Model notes

This file is *Markdown*, saved with a .py name by mistake.

- layer one: Linear(4, 8)
- layer two: Linear(8, 2)
