"""Structured logging: one JSON object per line, request ids, and CPR numbers masked on the way out."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import g, has_request_context, request

# DDMMYY-SSSS or DDMMYYSSSS not part of a longer digit run
_CPR = re.compile(r"(?<!\d)([0-3]\d[01]\d\d\d)-?(\d{4})(?!\d)")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def mask_cpr(text: str) -> str:
    return _CPR.sub(r"\1-xxxx", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Masked value by value, not on the finished line: a CPR given as a number would otherwise
        # turn into `010190-xxxx` without quotes and break the JSON.
        return json.dumps(_masked(entry), ensure_ascii=False)


def _masked(value):
    if isinstance(value, str):
        return mask_cpr(value)
    if isinstance(value, dict):
        return {mask_cpr(str(k)): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_masked(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        text = str(value)
        masked = mask_cpr(text)
        return value if masked == text else masked
    return mask_cpr(str(value))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_cpr(super().format(record))


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces every plugin at INFO on each start.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))


def init_request_logging(app) -> None:
    log = logging.getLogger("sagspost.http")

    @app.before_request
    def _start():
        # a caller's id is kept for tracing across systems, but only if it is short and plain
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    def _finish(response):
        if "request_started" in g:
            # The path only: query strings may carry search terms typed by users.
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - g.request_started) * 1000, 1),
                },
            )
            response.headers["X-Request-Id"] = g.request_id
        return response

    # after_request functions run last-registered first; put this one at the front of the list so it
    # runs after the unit of work has committed, and a failed commit is logged as the 500 it becomes.
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
