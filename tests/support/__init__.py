"""Test support: stand-ins for external services and helpers that start our real servers."""
