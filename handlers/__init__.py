"""Platform-neutral conversation: Incoming events in, Reply objects out."""
