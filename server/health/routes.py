from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from server.migrate import current_revision, head_revision

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers and its schema is at the newest migration."""
    engine = current_app.extensions["sagspost.engine"]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = current_revision(conn)
    except Exception as exc:  # any failure means not ready; the reason is for the operator
        current_app.logger.warning("readiness check failed", extra={"error": type(exc).__name__})
        return jsonify(status="unavailable", reason="database unreachable"), 503
    head = head_revision()
    if revision is None or revision != head:
        return jsonify(status="unavailable", reason="database schema not migrated", revision=revision, head=head), 503
    return jsonify(status="ready", revision=revision)
