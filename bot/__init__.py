"""Chat adapters (console, Telegram, Discord) and the start-up wiring."""
