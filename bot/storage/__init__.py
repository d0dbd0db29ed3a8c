"""SQLite storage: the database, its migrations, repositories and PTB persistence."""
