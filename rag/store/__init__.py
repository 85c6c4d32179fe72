"""The index on disk: generations swapped atomically, the document store, the manifest check, and writes."""
