"""The SQLite store: the database, its migrations, one repository per aggregate, backups."""
