"""Pictures the bot attaches to its answers, rendered off the event loop."""
