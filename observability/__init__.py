"""Health and metrics for every service: see observability.endpoints.install.

    from observability import install
    install(app, "desk", checks={"database": check_database})

adds GET /health/live, /health/ready and /metrics (Prometheus). The Rasa server gets the same
endpoints from its ops channel (rasa_server/ops.py), under /webhooks/ops/.
"""

from observability.endpoints import install

__all__ = ["install"]
