"""The NgDP REST client's requests and its reading of answers, through a recording transport (no network)."""
from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from server.config import Settings
from server.post import providers
from server.post.memo import MemoFile, MemoLetter, MemoParty, build_memo
from server.post.providers import (
    NGDP_BASE_URL, NgdpClient, ProviderError, RecipientState, SendOutcome, TransientError, make_provider,
)
from server.post.simulator import _tiny_pdf

BASE = "https://api.test.digitalpost.dk/apis/v1"
SYSTEM_ID, API_KEY = "e545b339-8542-4a30-ae75-c67e4d2a7b99", "15632a8d-407c-4c3a-b7b1-aebaa514fcab"
CPR, CPR_HYPHEN = "0101901234", "010190-1234"
CVR = "29189803"


@dataclass
class Call:
    request: requests.PreparedRequest
    timeout: object
    verify: object
    cert: object


class Recorder(HTTPAdapter):
    """A transport adapter that records each request and answers from a script, never the network."""

    def __init__(self, *answers):
        super().__init__()
        self.answers = list(answers)
        self.calls: list[Call] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.calls.append(Call(request, timeout, verify, cert))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = (answer + ({},))[:3] if isinstance(answer, tuple) else (answer, None, {})
        response = requests.Response()
        response.status_code = status
        response.reason = requests.status_codes._codes.get(status, ("",))[0].upper()
        if isinstance(body, (dict, list)):
            response._content = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **headers}
        else:
            response._content = body if isinstance(body, bytes) else (body or "").encode()
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url
        response.request = request
        response.connection = self
        return response


def client_with(*answers, **options) -> tuple[NgdpClient, Recorder]:
    options.setdefault("cert", ("/etc/sagspost/foces.pem", "/etc/sagspost/foces.key"))
    options.setdefault("system_id", SYSTEM_ID)
    options.setdefault("api_key", API_KEY)
    options.setdefault("delegated_cvr", CVR)
    client = NgdpClient(BASE, **options)
    recorder = Recorder(*answers)
    client.session.mount("https://", recorder)
    return client, recorder


def memo_xml(message_uuid: uuid.UUID) -> bytes:
    return build_memo(MemoLetter(
        message_uuid=message_uuid, label="Brev", sender=MemoParty("CVR", CVR, "Testkommune"),
        recipient=MemoParty("CPR", CPR), main=MemoFile("brev.pdf", "application/pdf", _tiny_pdf("Brev")),
    ))


def receipt_body(message_uuid, status="COMPLETED", **fields) -> dict:
    return {"transmissionId": str(uuid.uuid4()), "messageUUID": str(message_uuid), "messageId": None,
            "errorCode": None, "errorMessage": None, "timeStamp": "2025-03-04T10:11:12.345Z", "receiptStatus": status,
            **fields}


def page(*ids, total_pages=1) -> dict:
    return {"content": [str(i) for i in ids], "number": 0, "size": 100, "totalElements": len(ids),
            "totalPages": total_pages, "previous": None, "next": None}


# ---------------------------------------------------------------- the request


def test_send_posts_the_memo_with_the_uuid_parameter_certificate_and_identification_headers():
    message_uuid = uuid.uuid4()
    xml = memo_xml(message_uuid)
    transmission = str(uuid.uuid4())
    client, recorder = client_with((201, receipt_body(message_uuid, "RECEIVED", transmissionId=transmission)))

    outcome = client.send(message_uuid, xml)

    assert outcome == SendOutcome("accepted", provider_reference=transmission)
    call = recorder.calls[0]
    assert call.request.method == "POST"
    assert call.request.url == f"{BASE}/memos/?memo-message-uuid={message_uuid}"
    assert call.request.body == xml
    headers = call.request.headers
    assert headers["Content-Type"] == "application/xml"
    assert headers["Accept"] == "application/json"
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{SYSTEM_ID}:{API_KEY}".encode()).decode()
    assert headers[providers.DELEGATED_CVR_HEADER] == CVR
    assert call.cert == ("/etc/sagspost/foces.pem", "/etc/sagspost/foces.key")  # mutual TLS
    assert call.verify not in (False, None)  # the server certificate is checked
    assert call.timeout == 30


def test_without_api_key_or_delegation_only_the_system_id_is_sent():
    client, recorder = client_with((201, receipt_body(uuid.uuid4())), api_key=None, delegated_cvr=None)

    client.send(uuid.uuid4(), b"<x/>")

    headers = recorder.calls[0].request.headers
    assert headers["Authorization"] == "Basic " + base64.b64encode(SYSTEM_ID.encode()).decode()
    assert providers.DELEGATED_CVR_HEADER not in headers


def test_the_on_behalf_of_header_name_can_be_changed():
    client, recorder = client_with((201, {}), delegated_cvr_header="X-Delegated-CVR")
    client.send(uuid.uuid4(), b"<x/>")
    assert recorder.calls[0].request.headers["X-Delegated-CVR"] == CVR


def test_the_session_keeps_connections_for_sixteen_threads():
    client = NgdpClient(BASE, cert=None, system_id=None, delegated_cvr=None)
    adapter = client.session.get_adapter(BASE)
    assert adapter._pool_maxsize >= 16
    assert adapter.max_retries.total == 0  # the outbox retries, with the same UUID


# ---------------------------------------------------------------- answers to a send


@pytest.mark.parametrize("answer", [
    (409, {"code": "DUPLICATE_MESSAGE_UUID", "message": "already received"}),
    (409, ""),
    (400, {"code": "MEMO_ALREADY_RECEIVED", "message": "The MeMo has already been received"}),
    (422, {"code": "DUPLICATE", "message": "Duplicate messageUUID"}),
])
def test_an_already_received_answer_is_a_duplicate(answer):
    client, _ = client_with(answer)
    assert client.send(uuid.uuid4(), b"<x/>").status == "duplicate"


def test_a_4xx_is_a_rejection_with_the_reason_and_field_errors():
    body = {"code": "INVALID_MEMO", "message": "The MeMo is invalid",
            "fieldErrors": [{"resource": "memo", "field": "label", "code": "SIZE", "message": "too long",
                             "rejectedValue": None}]}
    client, _ = client_with((400, body))

    outcome = client.send(uuid.uuid4(), b"<x/>")

    assert outcome.status == "rejected"
    assert outcome.reason == "INVALID_MEMO: The MeMo is invalid; label: too long"


def test_a_rejection_reason_quoting_a_cpr_number_is_masked():
    body = {"code": "INVALID", "message": f"recipient {CPR} not allowed",
            "fieldErrors": [{"field": "recipientID", "message": f"{CPR_HYPHEN} is blocked"}]}
    client, _ = client_with((400, body))

    outcome = client.send(uuid.uuid4(), b"<x/>")

    assert outcome.status == "rejected"
    assert CPR not in outcome.reason and CPR_HYPHEN not in outcome.reason
    assert "010190-xxxx" in outcome.reason


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401, 403, 429, 404, 405])
def test_5xx_and_answers_about_our_system_rather_than_the_letter_are_transient(status):
    client, _ = client_with((status, {"code": "X", "message": "try later"}))
    with pytest.raises(TransientError, match=str(status)):
        client.send(uuid.uuid4(), b"<x/>")


@pytest.mark.parametrize("failure", [
    requests.ConnectTimeout(f"HTTPSConnectionPool: Max retries exceeded with url: /apis/v1/contacts/?cprNumber={CPR}"),
    requests.ReadTimeout(f"Read timed out: /apis/v1/contacts/?cprNumber={CPR}"),
    requests.ConnectionError(f"Connection refused: /apis/v1/contacts/?cprNumber={CPR}"),
    requests.exceptions.SSLError(f"certificate verify failed: /apis/v1/contacts/?cprNumber={CPR}"),
])
def test_transport_failures_are_transient_and_never_carry_the_url(failure, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = client_with(failure, timeout_s=7)

    with pytest.raises(TransientError) as raised:
        client.recipient_state("CPR", CPR)

    error = raised.value
    assert CPR not in str(error) and "cprNumber" not in str(error)
    assert error.__cause__ is None and error.__context__ is None  # the requests error is not chained
    logging.getLogger("test").exception("lookup failed", exc_info=error)
    for record in caplog.records:
        assert CPR not in record.getMessage()
        assert CPR not in (logging.Formatter().formatException((type(error), error, error.__traceback__)))


def test_a_timeout_names_the_client_timeout():
    client, _ = client_with(requests.ReadTimeout("x"), timeout_s=7)
    with pytest.raises(TransientError, match="within 7 s"):
        client.send(uuid.uuid4(), b"<x/>")


# ---------------------------------------------------------------- recipient lookup


@pytest.mark.parametrize("status, expected", [
    ("REGISTERED", RecipientState.REGISTERED), ("EXEMPT", RecipientState.EXEMPT),
    ("CLOSED", RecipientState.CLOSED), ("UNKNOWN", RecipientState.UNKNOWN), ("SOMETHING_NEW", RecipientState.UNKNOWN),
])
def test_recipient_state_reads_the_public_registration_status(status, expected):
    body = {"currentPage": 0, "next": None, "totalPages": 1, "elementsOnPage": 1, "totalElements": 1,
            "contacts": [{"id": str(uuid.uuid4()), "version": 3, "type": "CITIZEN", "cprNumber": CPR,
                          "mailboxSubscription": {"registrationStatus": "AUTOMATIC_REGISTRATION",
                                                  "publicRegistrationStatus": status}}]}
    client, recorder = client_with((200, body))

    assert client.recipient_state("CPR", CPR_HYPHEN) == expected
    call = recorder.calls[0]
    assert call.request.method == "GET"
    assert call.request.url == f"{BASE}/contacts/?cprNumber={CPR}"  # the number as the API takes it: 10 digits
    assert call.cert == ("/etc/sagspost/foces.pem", "/etc/sagspost/foces.key")


def test_a_cvr_lookup_uses_the_cvr_parameter():
    client, recorder = client_with((200, {"contacts": []}))
    assert client.recipient_state("CVR", CVR) == RecipientState.UNKNOWN  # no contact found
    assert recorder.calls[0].request.url == f"{BASE}/contacts/?cvrNumber={CVR}"


def test_not_found_is_unknown():
    client, _ = client_with((404, {"code": "NOT_FOUND", "message": "No contact"}))
    assert client.recipient_state("CPR", CPR) == RecipientState.UNKNOWN


def test_a_malformed_number_is_refused_without_repeating_it():
    client, recorder = client_with()
    with pytest.raises(ProviderError) as raised:
        client.recipient_state("CPR", "01019012345")
    assert "01019012345" not in str(raised.value)
    assert recorder.calls == []


def test_lookup_errors_echoing_the_number_are_masked(caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = client_with((400, {"code": "BAD", "message": f"cprNumber {CPR} is not valid"}),
                            (503, {"code": "DOWN", "message": f"while looking up {CPR}"}))

    with pytest.raises(ProviderError) as bad:
        client.recipient_state("CPR", CPR)
    with pytest.raises(TransientError) as down:
        client.recipient_state("CPR", CPR)

    for error in (bad.value, down.value):
        assert CPR not in str(error) and CPR_HYPHEN not in str(error)
    assert all(CPR not in r.getMessage() for r in caplog.records)


def test_urllib3_request_lines_are_masked():
    record = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, '%s://%s:%s "%s %s %s" %s %s',
                               ("https", "api.digitalpost.dk", 443, "GET", f"/apis/v1/contacts/?cprNumber={CPR}",
                                "HTTP/1.1", 200, 512), None)
    assert logging.getLogger("urllib3.connectionpool").filter(record)
    assert CPR not in record.getMessage()
    assert "cprNumber=010190-xxxx" in record.getMessage()


# ---------------------------------------------------------------- receipts


def test_fetch_receipts_lists_then_fetches_each_and_reads_the_statuses():
    delivered, failed, printed, pending = (uuid.uuid4() for _ in range(4))
    ids = [uuid.uuid4() for _ in range(4)]
    client, recorder = client_with(
        (200, page(*ids)),
        (200, receipt_body(delivered)),
        (200, receipt_body(failed, "NOT_ALLOWED", errorCode="RECIPIENT_CLOSED", errorMessage="Mailbox closed")),
        (200, receipt_body(printed, "SENT_TO_PRINT")),
        (200, receipt_body(pending, "RECEIVED")),
        (204, b""),  # the pending receipt is acknowledged: nothing to record
    )

    receipts = client.fetch_receipts(limit=500)

    assert [(r.receipt_id, r.message_uuid, r.status) for r in receipts] == [
        (str(ids[0]), delivered, "delivered"), (str(ids[1]), failed, "failed"), (str(ids[2]), printed, "printed"),
    ]
    assert receipts[1].reason == "RECIPIENT_CLOSED: Mailbox closed"
    assert receipts[0].at == datetime(2025, 3, 4, 10, 11, 12, 345000, tzinfo=timezone.utc)
    urls = [(c.request.method, c.request.url) for c in recorder.calls]
    assert urls == [("GET", f"{BASE}/receipts/?page=0&size=500")] + [
        ("GET", f"{BASE}/receipts/{i}") for i in ids] + [("DELETE", f"{BASE}/receipts/{ids[3]}")]
    assert all(c.request.headers["Accept"] == "application/json" for c in recorder.calls[:5])


def test_fetch_receipts_skips_one_taken_meanwhile():
    receipt_id = uuid.uuid4()
    client, _ = client_with((200, page(receipt_id)), (404, {"code": "NOT_FOUND"}))
    assert client.fetch_receipts() == []


def test_an_id_that_is_not_plain_never_reaches_a_url():
    client, recorder = client_with((200, page("../../contacts")))
    with pytest.raises(ProviderError):
        client.fetch_receipts()
    assert len(recorder.calls) == 1


@pytest.mark.parametrize("status", [204, 200, 404])
def test_acknowledging_a_receipt_deletes_it_and_is_idempotent(status):
    client, recorder = client_with((status, b""))
    client.acknowledge_receipt("6f0c3c1e-8d6a-4a37-9a1a-7b1f2e1c0d11")
    call = recorder.calls[0]
    assert (call.request.method, call.request.url) == ("DELETE", f"{BASE}/receipts/6f0c3c1e-8d6a-4a37-9a1a-7b1f2e1c0d11")


def test_acknowledging_during_an_outage_is_transient():
    client, _ = client_with((503, b""))
    with pytest.raises(TransientError):
        client.acknowledge_receipt("abc")


# ---------------------------------------------------------------- inbound post


def test_fetch_inbound_reads_the_reply_to_and_the_time_received():
    original, reply = uuid.uuid4(), uuid.uuid4()
    xml = build_memo(MemoLetter(
        message_uuid=reply, label="Svar", sender=MemoParty("CPR", CPR, "Borger"),
        recipient=MemoParty("CVR", CVR, "Testkommune"),
        main=MemoFile("svar.pdf", "application/pdf", _tiny_pdf("Svar")), reply_to=original,
    ))
    client, recorder = client_with(
        (200, page(reply)),
        (200, xml, {"Content-Type": "application/xml", "Last-Modified": "Tue, 04 Mar 2025 10:11:12 GMT"}),
        (204, b""),
    )

    [message] = client.fetch_inbound()
    client.acknowledge_inbound(message.message_id)

    assert message.message_id == str(reply)
    assert message.memo_xml == xml
    assert message.reply_to == original
    assert message.received_at == datetime(2025, 3, 4, 10, 11, 12, tzinfo=timezone.utc)
    calls = [(c.request.method, c.request.url, c.request.headers.get("Accept")) for c in recorder.calls]
    assert calls == [("GET", f"{BASE}/memos/?page=0&size=100", "application/json"),
                     ("GET", f"{BASE}/memos/{reply}", "application/xml"),
                     ("DELETE", f"{BASE}/memos/{reply}", "application/json")]


def test_an_unreadable_inbound_message_is_still_delivered_without_reply_to():
    client, _ = client_with((200, page("abc")), (200, b"<not-memo/>", {"Content-Type": "application/xml"}))
    [message] = client.fetch_inbound()
    assert (message.memo_xml, message.reply_to) == (b"<not-memo/>", None)
    assert message.received_at.tzinfo is not None


# ---------------------------------------------------------------- choosing the provider


def test_make_provider_simulator_points_the_real_client_at_the_local_simulator(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path, secret_key="x", simulator_port=8123)
    provider = make_provider(settings)
    assert isinstance(provider, NgdpClient)
    assert provider.base_url == "http://127.0.0.1:8123/apis/v1/"
    assert provider.session.cert is None


def test_make_provider_ngdp_uses_the_certificate_and_headers(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path, secret_key="x", post_provider="ngdp",
                                 ngdp_cert_file="/c.pem", ngdp_key_file="/k.pem", ngdp_system_id=SYSTEM_ID,
                                 ngdp_api_key=API_KEY, ngdp_delegated_cvr=CVR, post_timeout_s=12)
    provider = make_provider(settings)
    assert provider.base_url == NGDP_BASE_URL + "/"
    assert provider.session.cert == ("/c.pem", "/k.pem")
    assert provider.timeout_s == 12
    assert provider.session.headers[providers.DELEGATED_CVR_HEADER] == CVR
    assert provider.session.headers["Authorization"].startswith("Basic ")


def test_make_provider_reads_the_environment_names(tmp_path):
    settings = Settings.from_env({"SAGSPOST_POST_PROVIDER": "ngdp", "SAGSPOST_POST_API_URL": BASE,
                                  "SAGSPOST_NGDP_CERT_FILE": "/c.pem", "SAGSPOST_NGDP_KEY_FILE": "/k.pem",
                                  "SAGSPOST_NGDP_SYSTEM_ID": SYSTEM_ID, "SAGSPOST_SIMULATOR_PORT": "9000"},
                                 data_dir=tmp_path, secret_key="x")
    assert settings.simulator_port == 9000
    assert make_provider(settings).base_url == BASE + "/"


def test_make_provider_ngdp_needs_a_certificate(tmp_path):
    settings = Settings.from_env({}, data_dir=tmp_path, secret_key="x", post_provider="ngdp", ngdp_system_id=SYSTEM_ID)
    with pytest.raises(ValueError, match="CERT"):
        make_provider(settings)
    with pytest.raises(ValueError, match="post_provider"):
        make_provider(Settings.from_env({}, data_dir=tmp_path, secret_key="x", post_provider="eboks"))
