"""Bytes kept in the database, in chunks: files, previews and photos (models.py says why)."""
