"""The Telegram skin: everything python-telegram-bot, rendering, the gate, the jobs."""
