"""The product: what the bot decides, without Telegram, HTTP clients or databases."""
