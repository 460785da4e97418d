"""Personal data: retention (`make purge`), erasure on request, and keeping text out of logs.

See docs/privacy.md.
"""
