"""The project's own spaCy pipeline, built from PyPI parts (no model download needed)."""
