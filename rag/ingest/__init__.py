"""Ingest: read files and uploads into articles (text, title, FAQ), split sentences, cut token chunks."""
