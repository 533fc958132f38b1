"""Structured request logs with request ids, and CPR numbers never reaching a log line."""
from __future__ import annotations

import io
import json
import logging

import pytest

from server import create_app
from server.logs import JsonFormatter, TextFormatter, mask_cpr
from tests.conftest import make_settings


@pytest.fixture
def json_app(tmp_path, database_url):
    app = create_app(make_settings(tmp_path, database_url, log_format="json", log_level="INFO"))
    yield app
    app.extensions["sagspost.engine"].dispose()
    logging.getLogger().setLevel(logging.WARNING)


@pytest.fixture
def log_lines(json_app):
    """Every line the root logger's handler writes, parsed, captured through a JsonFormatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_request_log_line_is_json_with_method_path_status_ms_and_request_id(json_app, log_lines):
    res = json_app.test_client().get("/healthz?q=0101901234")
    assert res.status_code == 200

    lines = [e for e in log_lines() if e.get("logger") == "sagspost.http"]
    assert len(lines) == 1
    entry = lines[0]
    assert entry["method"] == "GET"
    assert entry["path"] == "/healthz"  # no query string
    assert entry["status"] == 200
    assert isinstance(entry["ms"], (int, float)) and entry["ms"] >= 0
    assert entry["level"] == "INFO" and entry["time"].endswith("Z")
    assert entry["request_id"] == res.headers["X-Request-Id"]
    assert len(entry["request_id"]) >= 16


def test_request_id_is_taken_from_the_caller(json_app, log_lines):
    res = json_app.test_client().get("/api/auth/me", headers={"X-Request-Id": "abc-123"})
    assert res.status_code == 401
    assert res.headers["X-Request-Id"] == "abc-123"
    entry = next(e for e in log_lines() if e.get("logger") == "sagspost.http")
    assert entry["request_id"] == "abc-123" and entry["status"] == 401 and entry["path"] == "/api/auth/me"


@pytest.mark.parametrize("given", ["x" * 500, "bad id with spaces", "line\tbreak"])
def test_an_unusable_caller_request_id_is_replaced(json_app, given):
    res = json_app.test_client().get("/healthz", headers={"X-Request-Id": given})
    assert res.headers["X-Request-Id"] != given
    assert len(res.headers["X-Request-Id"]) == 32


def test_each_request_gets_its_own_id(json_app):
    client = json_app.test_client()
    assert client.get("/healthz").headers["X-Request-Id"] != client.get("/healthz").headers["X-Request-Id"]


def test_configured_handler_writes_masked_json_lines_to_stderr(capsys):
    from server.logs import configure_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", "json")  # binds to the stderr pytest captures now
        logging.getLogger("sagspost.test").warning("hello %s", "010190-1234", extra={"who": "1501901234"})
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    entry = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert entry["message"] == "hello 010190-xxxx"
    assert entry["who"] == "150190-xxxx"
    assert entry["level"] == "WARNING" and entry["logger"] == "sagspost.test"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0101901234", "010190-xxxx"),
        ("010190-1234", "010190-xxxx"),
        ("CPR 311299-4321, tak", "CPR 311299-xxxx, tak"),
        ("a 0101901234 b 1212121212", "a 010190-xxxx b 121212-xxxx"),
        ("cpr=0101901234&x=1", "cpr=010190-xxxx&x=1"),
    ],
)
def test_mask_cpr_masks_both_forms(text, expected):
    assert mask_cpr(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CVR 12345678",
        "DK29189846",
        "123456789012",
        "010190123456",  # 12 digits: not a CPR
        "01019012345",  # 11 digits
        "010190-12345",
        "1010190-1234",
        "+45 33 12 34 56",
        "phone 33123456",
        "2024-01-15T10:00:00Z",
        "order 99999999",
        "id 550e8400-e29b-41d4-a716-446655440000",
    ],
)
def test_mask_cpr_leaves_other_numbers_alone(text):
    assert mask_cpr(text) == text


def _record(msg, args=(), **extra):
    record = logging.LogRecord("sagspost.test", logging.INFO, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_formatter_masks_cpr_in_message_and_extra_fields():
    line = JsonFormatter().format(
        _record("looked up %s", ("0101901234",), cpr="010190-1234", note="født 311299-4321", cvr="12345678")
    )
    entry = json.loads(line)
    assert entry["message"] == "looked up 010190-xxxx"
    assert entry["cpr"] == "010190-xxxx"
    assert entry["note"] == "født 311299-xxxx"
    assert entry["cvr"] == "12345678"
    assert "1234" not in line.replace("12345678", "")


def test_json_formatter_masks_cpr_in_nested_and_numeric_extras_and_stays_valid_json():
    line = JsonFormatter().format(
        _record("x", number=1501901234, nested={"persons": ["0101901234", {"cpr": "0202021234"}]}, count=12345)
    )
    entry = json.loads(line)  # a masked number must not break the JSON
    assert entry["number"] == "150190-xxxx"
    assert entry["nested"] == {"persons": ["010190-xxxx", {"cpr": "020202-xxxx"}]}
    assert entry["count"] == 12345


def test_json_formatter_masks_cpr_in_exceptions():
    try:
        raise ValueError("bad cpr 0101901234")
    except ValueError:
        import sys

        record = logging.LogRecord("sagspost.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "010190-xxxx" in entry["exception"] and "0101901234" not in entry["exception"]


def test_text_formatter_masks_cpr():
    out = TextFormatter("%(message)s").format(_record("cpr %s", ("0101901234",)))
    assert out == "cpr 010190-xxxx"
