"""The bot's buttons and menus, one module per feature; each item keeps its state in its custom id."""
