"""A simulated panel that speaks API v2, for trying the bot and for tests."""
