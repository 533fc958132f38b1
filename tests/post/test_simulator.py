"""The NgDP simulator in a real waitress server, driven through the real NgDP client."""
from __future__ import annotations

import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from server.post.memo import MemoFile, MemoLetter, MemoParty, build_memo, read_memo, validate_memo
from server.post.providers import RecipientState, TransientError
from server.post.simulator import _tiny_pdf

from .conftest import start_simulator

CPR = "0101901234"  # a real-looking CPR number (1 January 1990): it must show up in no log line
OTHER_CPR = "0202805678"
CVR = "29189803"
AUTHORITY = MemoParty("CVR", CVR, "Testkommune")


def letter(recipient: str = CPR, *, message_uuid: uuid.UUID | None = None, id_type: str = "CPR") -> tuple[uuid.UUID, bytes]:
    message_uuid = message_uuid or uuid.uuid4()
    xml = build_memo(MemoLetter(
        message_uuid=message_uuid,
        label="Afgørelse om tilskud",
        sender=AUTHORITY,
        recipient=MemoParty(id_type, recipient),
        main=MemoFile("afgoerelse.pdf", "application/pdf", _tiny_pdf("Afgørelse")),
    ))
    return message_uuid, xml


# ---------------------------------------------------------------- sending


def test_a_valid_letter_is_accepted_and_counted_once(post_simulator, ngdp_client):
    message_uuid, xml = letter()

    outcome = ngdp_client.send(message_uuid, xml)

    assert outcome.status == "accepted"
    assert uuid.UUID(outcome.provider_reference)  # the transmissionId
    deliveries = post_simulator.deliveries()
    assert deliveries["total"] == 1
    assert deliveries["per_uuid"] == {str(message_uuid): 1}


def test_the_same_uuid_again_is_a_duplicate_and_is_not_counted_twice(post_simulator, ngdp_client):
    message_uuid, xml = letter()
    assert ngdp_client.send(message_uuid, xml).status == "accepted"

    again = ngdp_client.send(message_uuid, xml)

    assert again.status == "duplicate"
    assert str(message_uuid) in again.reason
    deliveries = post_simulator.deliveries()
    assert deliveries["total"] == 1
    assert deliveries["per_uuid"][str(message_uuid)] == 1
    assert deliveries["duplicates_refused"] == 1


def test_concurrent_sends_of_the_same_letters_count_each_uuid_once(post_simulator, ngdp_client):
    letters = [letter() for _ in range(40)]
    attempts = letters * 3  # every letter sent three times, from 16 threads at once

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(lambda item: ngdp_client.send(*item).status, attempts))

    assert outcomes.count("accepted") == 40
    assert outcomes.count("duplicate") == 80
    deliveries = post_simulator.deliveries()
    assert deliveries["total"] == 40
    assert set(deliveries["per_uuid"].values()) == {1}
    assert deliveries["duplicates_refused"] == 80


def test_an_invalid_memo_is_rejected_with_the_schema_errors(post_simulator, ngdp_client):
    message_uuid, xml = letter()
    broken = xml.replace(b"<memo:mandatory>", b"<memo:bogus>x</memo:bogus><memo:mandatory>")
    assert validate_memo(broken)

    outcome = ngdp_client.send(message_uuid, broken)

    assert outcome.status == "rejected"
    assert outcome.reason.startswith("INVALID_MEMO")
    assert "bogus" in outcome.reason
    assert post_simulator.deliveries()["total"] == 0


def test_xml_that_is_not_well_formed_is_rejected(post_simulator, ngdp_client):
    outcome = ngdp_client.send(uuid.uuid4(), b"<memo:Message")

    assert outcome.status == "rejected"
    assert "well-formed" in outcome.reason


def test_a_uuid_parameter_that_differs_from_the_memo_is_rejected(post_simulator, ngdp_client):
    _, xml = letter()

    outcome = ngdp_client.send(uuid.uuid4(), xml)

    assert outcome.status == "rejected"
    assert outcome.reason.startswith("MEMO_MESSAGE_UUID_MISMATCH")
    assert post_simulator.deliveries()["total"] == 0


def test_the_uuid_parameter_must_be_given(post_simulator):
    _, xml = letter()
    response = requests.post(post_simulator.api_url + "/memos/", data=xml, headers={"Content-Type": "application/xml"},
                             timeout=5)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PARAMETER"


# ---------------------------------------------------------------- recipients


def test_recipient_states_are_configurable_per_number(post_simulator, ngdp_client):
    exempt, closed, unknown = "0303701111", "0404702222", "0505703333"
    post_simulator.set_contacts("EXEMPT", exempt)
    post_simulator.set_contacts("CLOSED", closed)
    post_simulator.set_contacts("UNKNOWN", unknown)

    assert ngdp_client.recipient_state("CPR", CPR) == RecipientState.REGISTERED
    assert ngdp_client.recipient_state("CPR", exempt) == RecipientState.EXEMPT
    assert ngdp_client.recipient_state("CPR", "030370-1111") == RecipientState.EXEMPT  # the hyphenated form too
    assert ngdp_client.recipient_state("CPR", closed) == RecipientState.CLOSED
    assert ngdp_client.recipient_state("CPR", unknown) == RecipientState.UNKNOWN
    assert ngdp_client.recipient_state("CVR", CVR) == RecipientState.REGISTERED


def test_recipient_states_follow_the_configurable_suffix_rules(post_simulator, ngdp_client):
    assert ngdp_client.recipient_state("CPR", "0101909999") == RecipientState.EXEMPT  # the default rules
    post_simulator.control("PUT", "contact-rules", json={"default": "UNKNOWN", "rules": [{"suffix": "12", "state": "CLOSED"}]})

    assert ngdp_client.recipient_state("CPR", "0101909912") == RecipientState.CLOSED
    assert ngdp_client.recipient_state("CPR", "0101909999") == RecipientState.UNKNOWN
    post_simulator.set_contacts("REGISTERED", "0101909999")  # an explicit state wins over the rules
    assert ngdp_client.recipient_state("CPR", "0101909999") == RecipientState.REGISTERED


def test_contact_states_are_given_in_the_body_never_the_url(post_simulator):
    response = requests.put(post_simulator.url + "/_sim/contacts/EXEMPT", json={"numbers": "0101901234"}, timeout=5)
    assert response.status_code == 400
    assert requests.put(post_simulator.url + "/_sim/contacts/SLEEPING", json={"numbers": [CPR]}, timeout=5).status_code == 404


# ---------------------------------------------------------------- receipts


def test_receipts_tell_delivered_printed_and_failed_and_acknowledging_removes_them(post_simulator, ngdp_client):
    exempt, closed, unknown = "0303701111", "0404702222", "0505703333"
    post_simulator.set_contacts("EXEMPT", exempt)
    post_simulator.set_contacts("CLOSED", closed)
    post_simulator.set_contacts("UNKNOWN", unknown)
    sent = {}
    for number in (CPR, exempt, closed, unknown):
        message_uuid, xml = letter(number)
        assert ngdp_client.send(message_uuid, xml).status == "accepted"
        sent[number] = message_uuid

    receipts = {r.message_uuid: r for r in ngdp_client.fetch_receipts()}

    assert {m: r.status for m, r in receipts.items()} == {
        sent[CPR]: "delivered", sent[exempt]: "printed", sent[closed]: "failed", sent[unknown]: "failed",
    }
    assert receipts[sent[CPR]].reason is None
    assert receipts[sent[closed]].reason.startswith("RECIPIENT_CLOSED")
    assert receipts[sent[unknown]].reason.startswith("RECIPIENT_UNKNOWN")
    assert all(r.at.tzinfo is not None for r in receipts.values())

    for receipt in receipts.values():
        ngdp_client.acknowledge_receipt(receipt.receipt_id)
    assert ngdp_client.fetch_receipts() == []
    ngdp_client.acknowledge_receipt(receipts[sent[CPR]].receipt_id)  # twice is harmless


def test_receipts_are_fetched_up_to_the_limit_across_pages(post_simulator, ngdp_client):
    for _ in range(7):
        ngdp_client.send(*letter())

    first = ngdp_client.fetch_receipts(limit=5)
    assert len(first) == 5
    for receipt in first:
        ngdp_client.acknowledge_receipt(receipt.receipt_id)
    assert len(ngdp_client.fetch_receipts(limit=5)) == 2


# ---------------------------------------------------------------- inbound post


def test_an_injected_reply_appears_as_inbound_post_with_reply_to(post_simulator, ngdp_client):
    message_uuid, xml = letter()
    ngdp_client.send(message_uuid, xml)

    message_id = post_simulator.inject_reply(message_uuid, text="Tak, jeg er enig.")
    inbound = ngdp_client.fetch_inbound()

    assert [m.message_id for m in inbound] == [message_id]
    reply = inbound[0]
    assert reply.reply_to == message_uuid
    assert reply.received_at.tzinfo is not None
    assert validate_memo(reply.memo_xml) == []
    summary = read_memo(reply.memo_xml)
    assert (summary.sender.id_type, summary.sender.number) == ("CPR", CPR)
    assert (summary.recipient.id_type, summary.recipient.number) == ("CVR", CVR)
    assert summary.message_uuid == uuid.UUID(message_id)

    ngdp_client.acknowledge_inbound(message_id)
    assert ngdp_client.fetch_inbound() == []


def test_a_reply_to_an_unknown_letter_is_refused(post_simulator):
    response = requests.post(post_simulator.url + "/_sim/inbound", json={"reply_to": str(uuid.uuid4())}, timeout=5)
    assert response.status_code == 404


def test_any_memo_can_be_queued_as_inbound_post(post_simulator, ngdp_client):
    message_uuid, xml = letter()

    post_simulator.control("POST", "inbound", json={"memo_xml": xml.decode()})

    inbound = ngdp_client.fetch_inbound()
    assert [(m.message_id, m.reply_to) for m in inbound] == [(str(message_uuid), None)]


# ---------------------------------------------------------------- fault switches


def test_5xx_is_a_transient_error_and_nothing_is_delivered(post_simulator, ngdp_client):
    post_simulator.set_faults(error_rate=1.0)
    message_uuid, xml = letter()

    with pytest.raises(TransientError, match="503"):
        ngdp_client.send(message_uuid, xml)
    with pytest.raises(TransientError):
        ngdp_client.recipient_state("CPR", CPR)
    with pytest.raises(TransientError):
        ngdp_client.fetch_receipts()
    assert post_simulator.deliveries()["total"] == 0

    post_simulator.control("DELETE", "faults")
    assert ngdp_client.send(message_uuid, xml).status == "accepted"


def test_a_lost_answer_is_retried_as_a_duplicate_and_counted_once(post_simulator, ngdp_client):
    post_simulator.set_faults(lost_response_rate=1.0)
    message_uuid, xml = letter()

    with pytest.raises(TransientError):
        ngdp_client.send(message_uuid, xml)
    post_simulator.control("DELETE", "faults")
    retry = ngdp_client.send(message_uuid, xml)

    assert retry.status == "duplicate"
    assert post_simulator.deliveries()["per_uuid"] == {str(message_uuid): 1}


def test_a_timeout_is_a_transient_error_within_the_client_timeout(post_simulator):
    client = post_simulator.client(timeout_s=0.5)
    post_simulator.set_faults(timeout_rate=1.0, timeout_s=10)
    message_uuid, xml = letter()

    started = time.monotonic()
    with pytest.raises(TransientError, match="within 0.5 s"):
        client.send(message_uuid, xml)
    assert time.monotonic() - started < 2.5
    assert post_simulator.deliveries()["total"] == 0


def test_reject_switch_rejects_with_the_configured_reason(post_simulator, ngdp_client):
    post_simulator.set_faults(reject_rate=1.0, reject_reason="Afsender er ikke tilsluttet")

    outcome = ngdp_client.send(*letter())

    assert outcome.status == "rejected"
    assert "Afsender er ikke tilsluttet" in outcome.reason
    assert post_simulator.deliveries()["total"] == 0


def test_specific_uuids_and_recipients_can_be_rejected(post_simulator, ngdp_client):
    doomed_uuid, doomed_xml = letter()
    post_simulator.set_faults(reject_uuids=[str(doomed_uuid)], reject_recipients=[OTHER_CPR])

    assert ngdp_client.send(doomed_uuid, doomed_xml).status == "rejected"
    assert ngdp_client.send(*letter(OTHER_CPR)).status == "rejected"
    assert ngdp_client.send(*letter(CPR)).status == "accepted"
    assert OTHER_CPR not in post_simulator.control("GET", "faults").text  # kept as a hash only


def test_latency_slows_every_answer_fixed_or_in_a_range(post_simulator, ngdp_client):
    post_simulator.set_faults(latency_ms=300)
    started = time.monotonic()
    assert ngdp_client.send(*letter()).status == "accepted"
    assert time.monotonic() - started >= 0.3

    post_simulator.set_faults(latency_ms=[100, 150], seed=7)
    started = time.monotonic()
    ngdp_client.recipient_state("CPR", CPR)
    assert 0.1 <= time.monotonic() - started < 1.0


def test_switches_can_be_aimed_at_one_resource(post_simulator, ngdp_client):
    post_simulator.set_faults(error_rate=1.0, endpoints=["contacts"])

    assert ngdp_client.send(*letter()).status == "accepted"
    with pytest.raises(TransientError):
        ngdp_client.recipient_state("CPR", CPR)


def test_unknown_switches_are_refused(post_simulator):
    response = requests.put(post_simulator.url + "/_sim/faults", json={"eror_rate": 1}, timeout=5)
    assert response.status_code == 400
    assert "eror_rate" in response.json()["message"]


def test_reset_forgets_everything(post_simulator, ngdp_client):
    ngdp_client.send(*letter())
    post_simulator.set_faults(latency_ms=1)

    post_simulator.control("POST", "reset")

    assert post_simulator.deliveries()["total"] == 0
    assert ngdp_client.fetch_receipts() == []
    assert post_simulator.control("GET", "faults").json()["latency_ms"] == 0


# ---------------------------------------------------------------- durability


def test_state_survives_a_restart_with_the_same_state_file(tmp_path):
    state_file = tmp_path / "sim.sqlite"
    first = start_simulator(state_file)
    try:
        client = first.client()
        message_uuid, xml = letter()
        assert client.send(message_uuid, xml).status == "accepted"
        assert client.send(message_uuid, xml).status == "duplicate"
        first.set_contacts("EXEMPT", OTHER_CPR)
        first.set_faults(latency_ms=1)
        reply_id = first.inject_reply(message_uuid)
    finally:
        first.stop()

    second = start_simulator(state_file)
    try:
        client = second.client()
        deliveries = second.deliveries()
        assert deliveries["total"] == 1
        assert deliveries["per_uuid"] == {str(message_uuid): 1}
        assert deliveries["duplicates_refused"] == 1
        assert client.send(message_uuid, xml).status == "duplicate"  # still known after the restart
        assert second.deliveries()["total"] == 1
        assert [r.message_uuid for r in client.fetch_receipts()] == [message_uuid]
        assert [m.message_id for m in client.fetch_inbound()] == [reply_id]
        assert client.recipient_state("CPR", OTHER_CPR) == RecipientState.EXEMPT
        assert second.control("GET", "faults").json()["latency_ms"] == 1
    finally:
        second.stop()
    assert OTHER_CPR.encode() not in state_file.read_bytes()  # contact numbers are kept as hashes


# ---------------------------------------------------------------- privacy


def test_no_cpr_number_reaches_a_log_record(post_simulator, ngdp_client, caplog):
    caplog.set_level(logging.DEBUG)
    message_uuid, xml = letter()
    post_simulator.set_contacts("EXEMPT", CPR)

    ngdp_client.recipient_state("CPR", CPR)
    ngdp_client.send(message_uuid, xml)
    post_simulator.set_faults(reject_recipients=[OTHER_CPR])
    ngdp_client.send(*letter(OTHER_CPR))
    post_simulator.control("DELETE", "faults")
    ngdp_client.fetch_receipts()
    post_simulator.inject_reply(message_uuid)
    ngdp_client.fetch_inbound()

    assert caplog.records, "expected the client and simulator to log something"
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        for number in (CPR, OTHER_CPR):
            assert number not in text
            assert f"{number[:6]}-{number[6:]}" not in text
