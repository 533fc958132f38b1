"""Free-text search over cases, documents and contacts, and saved searches."""
