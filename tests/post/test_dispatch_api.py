"""Sending Digital Post through the API against the simulator over HTTP."""
import io
import json
import shutil

import pypdf

import pytest
from sqlalchemy import select, update

from server.jobs.models import Job
from server.post.models import Letter
from tests.documents.conftest import upload
from tests.files import docx_file, text_pdf

ADULT = "120385-1100"  # Mette Fiktivsen (fictional, from server/post/data/registers.json)
FATHER = "210783-1101"
CHILD = "020516-4100"  # Ida, under 15, custody: Mette and Jens
COMPANY = "39990016"
P_NUMBER = "1019990012"
# a 1x1 PNG: a file Digital Post cannot take as the letter itself
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def app_overrides(post_simulator):
    return {"post_api_url": post_simulator.api_url}


@pytest.fixture(autouse=True)
def archive_template(admin):
    """Sent letters without a chosen case are filed on a case made from this template."""
    return admin.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).json


@pytest.fixture
def sender(admin):
    return admin.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json


@pytest.fixture
def letter_doc(caseworker):
    response = upload(caseworker, files=[("file", "brev.pdf", text_pdf("Kære borger\nDu får hermed svar."))], title="Svar")
    assert response.status_code == 201, response.json
    return response.json


def _send(caller, sender, letter_doc, recipients, **extra):
    body = {"title": "Svar på ansøgning", "sender_identity_id": sender["id"], "main_document_id": letter_doc["id"],
            "recipients": recipients, **extra}
    return caller.post("/api/dispatches", json=body)


def _letters(caller, dispatch):
    return caller.get(f"/api/dispatches/{dispatch['id']}/letters").json


def test_a_letter_is_sent_and_delivered_exactly_once(caseworker, sender, letter_doc, post_simulator):
    response = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}])
    assert response.status_code == 201, response.json
    dispatch = caseworker.get(f"/api/dispatches/{response.json['id']}").json
    assert dispatch["status"] == "done" and dispatch["counts"] == {"sent": 1}
    (letter,) = _letters(caseworker, dispatch)
    assert letter["status"] == "sent" and letter["channel"] == "digital"
    assert letter["recipient"]["name"] == "Mette Fiktivsen"
    deliveries = post_simulator.deliveries()
    assert deliveries["per_uuid"] == {letter["message_uuid"]: 1} and deliveries["total"] == 1


def test_receipts_mark_letters_delivered_and_archive_them_on_the_recipients_case(caseworker, sender, letter_doc, post_simulator):
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}]).json
    assert caseworker.post("/api/post/poll").status_code == 202
    (letter,) = _letters(caseworker, dispatch)
    assert letter["status"] == "delivered" and letter["archived_document_id"]
    doc = caseworker.get(f"/api/documents/{letter['archived_document_id']}").json
    assert doc["status"] == "final" and doc["direction"] == "outgoing" and doc["case_id"] == letter["case_id"]
    assert [f["name"] for f in doc["files"]] == ["brev.pdf", "kvittering.json"]
    case = caseworker.get(f"/api/cases/{letter['case_id']}").json
    parties = caseworker.get(f"/api/cases/{case['id']}/parties").json
    assert [p["contact"]["name"] for p in parties] == ["Mette Fiktivsen"]
    # the next letter to the same person is filed on the same case
    second = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}]).json
    caseworker.post("/api/post/poll")
    assert _letters(caseworker, second)[0]["case_id"] == case["id"]


def test_a_letter_to_a_chosen_case_is_archived_there(caseworker, sender, letter_doc, new_case):
    case = new_case(caseworker, title="Skolesag")
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}], case_id=case["id"]).json
    caseworker.post("/api/post/poll")
    assert _letters(caseworker, dispatch)[0]["case_id"] == case["id"]
    docs = caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json
    assert [d["title"] for d in docs] == ["Svar på ansøgning"]


def test_recipients_who_cannot_get_digital_post_are_set_aside_for_print(caseworker, sender, letter_doc, post_simulator):
    post_simulator.set_contacts("EXEMPT", FATHER.replace("-", ""))
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}, {"type": "cpr", "number": FATHER}]).json
    statuses = {l["recipient"]["name"]: l["status"] for l in _letters(caseworker, dispatch)}
    assert statuses == {"Mette Fiktivsen": "sent", "Jens Fiktivsen": "to_print"}
    to_print = caseworker.get("/api/post/to-print").json
    assert [l["recipient"]["name"] for l in to_print] == ["Jens Fiktivsen"]
    pdf = caseworker.get("/api/post/to-print.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_guardians_of_a_child_get_copies_when_chosen(caseworker, sender, letter_doc):
    check = caseworker.post("/api/post/recipient-check", json={"type": "cpr", "number": CHILD}).json
    assert check["is_child"] is True and {g["name"] for g in check["guardians"]} == {"Mette Fiktivsen", "Jens Fiktivsen"}
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": CHILD, "include_guardians": True}]).json
    kinds = sorted((l["kind"], l["recipient"]["name"]) for l in _letters(caseworker, dispatch))
    assert kinds == [("guardian", "Jens Fiktivsen"), ("guardian", "Mette Fiktivsen"), ("recipient", "Ida Fiktivsen")]
    without = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": CHILD}]).json
    assert len(_letters(caseworker, without)) == 1


def test_copies_cvr_and_p_number_recipients(caseworker, sender, letter_doc):
    dispatch = _send(caseworker, sender, letter_doc, [
        {"type": "cpr", "number": ADULT, "copies": [FATHER]},
        {"type": "cvr", "number": COMPANY},
        {"type": "p_number", "number": P_NUMBER},
    ])
    assert dispatch.status_code == 201, dispatch.json
    letters = _letters(caseworker, dispatch.json)
    assert sorted(l["kind"] for l in letters) == ["copy", "recipient", "recipient", "recipient"]
    unit = next(l for l in letters if l["p_number"])
    assert unit["p_number"] == P_NUMBER and unit["recipient"]["cvr"] == COMPANY
    assert all(l["status"] == "sent" for l in letters)


def test_a_letter_breaking_a_limit_is_refused_before_anything_is_queued(caseworker, sender, letter_doc, app):
    response = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}], title="x" * 257)
    assert response.status_code == 422
    link = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}],
                 actions=[{"label": "Svar her", "url": "http://example.dk/form"}])
    assert link.status_code == 422 and "https" in json.dumps(link.json)
    assert caseworker.get("/api/dispatches").json == []
    with app.extensions["sagspost.sessionmaker"]() as session:
        assert session.scalars(select(Letter)).all() == []


def test_bad_recipients_get_clear_messages(caseworker, sender, letter_doc):
    bad_cpr = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": "310299-1234"}])
    assert bad_cpr.status_code == 422 and "310299" not in bad_cpr.get_data(as_text=True)
    unknown_unit = _send(caseworker, sender, letter_doc, [{"type": "p_number", "number": "1234567890"}])
    assert unknown_unit.status_code == 422 and "P-number" in unknown_unit.json["message"]
    image = upload(caseworker, files=[("file", "brev.png", PNG)], title="Billede").json
    not_pdf = _send(caseworker, sender, image, [{"type": "cpr", "number": ADULT}])
    assert not_pdf.status_code == 422 and "PDF" in not_pdf.json["message"]


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice is not installed: make test installs it")
def test_a_word_letter_is_converted_to_pdf_before_it_is_sent(caseworker, sender, post_simulator):
    word = upload(caseworker, files=[("file", "afgørelse.docx", docx_file("Afgørelse om skoleskift"))], title="Word").json
    dispatch = _send(caseworker, sender, word, [{"type": "cpr", "number": ADULT}])
    assert dispatch.status_code == 201, dispatch.json
    (letter,) = _letters(caseworker, dispatch.json)
    assert letter["status"] == "sent"
    files = caseworker.get(f"/api/dispatches/{dispatch.json['id']}/letters/{letter['id']}/preview").json
    assert files[0]["filename"] == "afgørelse.pdf" and files[0]["mime"] == "application/pdf"
    pdf = caseworker.get(files[0]["url"]).data
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Afgørelse om skoleskift" in text


def test_a_rejected_letter_fails_with_the_reason_and_the_rest_go_on(caseworker, sender, letter_doc, post_simulator):
    post_simulator.set_faults(reject_recipients=[FATHER.replace("-", "")])
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}, {"type": "cpr", "number": FATHER}]).json
    by_name = {l["recipient"]["name"]: l for l in _letters(caseworker, dispatch)}
    assert by_name["Mette Fiktivsen"]["status"] == "sent"
    assert by_name["Jens Fiktivsen"]["status"] == "failed" and by_name["Jens Fiktivsen"]["provider_answer"]


def test_provider_errors_are_retried_with_the_same_uuid(caseworker, sender, letter_doc, post_simulator, app):
    post_simulator.set_faults(error_rate=1.0)
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}]).json
    (letter,) = _letters(caseworker, dispatch)
    assert letter["status"] == "queued" and "retry" in letter["provider_answer"]
    post_simulator.set_faults(error_rate=0.0)
    maker = app.extensions["sagspost.sessionmaker"]
    from server.db import utcnow
    from server.jobs import services as jobs

    with maker() as session, session.begin():
        session.execute(update(Letter).values(next_attempt_at=utcnow()))
        job_ids = [j.id for j in session.scalars(select(Job).where(Job.kind == "post.run_dispatch", Job.status == "queued"))]
        session.execute(update(Job).values(run_after=utcnow()))
    with app.app_context():
        for job_id in job_ids:
            jobs.run_job(maker, job_id)
    (again,) = _letters(caseworker, dispatch)
    assert again["status"] == "sent" and again["message_uuid"] == letter["message_uuid"] and again["attempts"] == 2


def test_deferred_dispatch_waits_and_can_be_cancelled(caseworker, sender, letter_doc, post_simulator):
    later = "2099-01-01T09:00:00+00:00"
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}], send_at=later).json
    assert dispatch["status"] == "scheduled"
    assert _letters(caseworker, dispatch)[0]["status"] == "queued"
    cancelled = caseworker.post(f"/api/dispatches/{dispatch['id']}/cancel").json
    assert cancelled["status"] == "cancelled" and cancelled["counts"] == {"cancelled": 1}
    past = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}], send_at="2020-01-01T09:00:00+00:00")
    assert past.status_code == 422


def test_preview_shows_exactly_what_each_recipient_gets(caseworker, sender, letter_doc):
    bilag = upload(caseworker, files=[("file", "bilag.pdf", text_pdf("Bilag"))], title="Bilag").json
    own = upload(caseworker, files=[("file", "eget.pdf", text_pdf("Kun til Jens"))], title="Eget").json
    later = "2099-01-01T09:00:00+00:00"
    dispatch = _send(caseworker, sender, letter_doc, [
        {"type": "cpr", "number": ADULT},
        {"type": "cpr", "number": FATHER, "main_document_id": own["id"]},
    ], attachment_document_ids=[bilag["id"]], send_at=later).json
    previews = {}
    for letter in _letters(caseworker, dispatch):
        files = caseworker.get(f"/api/dispatches/{dispatch['id']}/letters/{letter['id']}/preview").json
        previews[letter["recipient"]["name"]] = [f["filename"] for f in files]
        first = caseworker.get(files[0]["url"])
        assert first.status_code == 200 and first.data.startswith(b"%PDF")
    assert previews == {"Mette Fiktivsen": ["brev.pdf", "bilag.pdf"], "Jens Fiktivsen": ["eget.pdf", "bilag.pdf"]}


def test_sending_rules_and_approval(admin, caseworker, make_user, sender, letter_doc):
    boss = make_user("boss", roles=["org_admin"])
    outsider = make_user("outsider")
    rule = admin.post(f"/api/post/sender-identities/{sender['id']}/rules",
                      json={"user_id": str(caseworker.user_id), "requires_approval": True})
    assert rule.status_code == 201
    outsider_doc = upload(outsider, files=[("file", "b.pdf", text_pdf("x"))], title="b").json
    assert _send(outsider, sender, outsider_doc, [{"type": "cpr", "number": ADULT}]).status_code == 403
    waiting = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}]).json
    assert waiting["status"] == "awaiting_approval"
    assert caseworker.post(f"/api/dispatches/{waiting['id']}/approve").status_code == 403
    approved = boss.post(f"/api/dispatches/{waiting['id']}/approve").json
    assert approved["status"] in ("queued", "done")
    assert caseworker.get(f"/api/dispatches/{waiting['id']}").json["counts"] == {"sent": 1}


def test_dispatches_are_private_to_their_sender_and_statistics_count_channels(caseworker, make_user, admin, sender,
                                                                              letter_doc, post_simulator):
    post_simulator.set_contacts("EXEMPT", FATHER.replace("-", ""))
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}, {"type": "cpr", "number": FATHER}]).json
    other = make_user("other")
    assert other.get(f"/api/dispatches/{dispatch['id']}").status_code == 404
    assert other.get("/api/dispatches").json == []
    caseworker.post("/api/post/poll")
    rows = admin.get("/api/post/statistics?by=sender").json
    assert rows == [{"key": sender["id"], "label": "Testrup Skole", "digital": 1, "print": 1, "failed": 0, "total": 2}]
    assert caseworker.get("/api/post/statistics").status_code == 403


def test_a_reply_is_filed_on_the_original_letters_case(caseworker, sender, letter_doc, post_simulator, new_case):
    case = new_case(caseworker, title="Sag med svar")
    dispatch = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}], case_id=case["id"],
                     reply_allowed=True).json
    (letter,) = _letters(caseworker, dispatch)
    post_simulator.inject_reply(letter["message_uuid"])
    assert caseworker.post("/api/post/poll").status_code == 202
    titles = [d["title"] for d in caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json]
    assert any(t.startswith("Svar") for t in titles)


def test_the_dispatch_log_is_kept_for_the_administrable_period(caseworker, admin, sender, letter_doc, app):
    from datetime import timedelta

    from server.db import utcnow
    from server.post.housekeeping import purge_dispatch_log
    from server.post.models import Dispatch

    old = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}]).json
    recent = _send(caseworker, sender, letter_doc, [{"type": "cpr", "number": ADULT}]).json
    assert admin.put("/api/settings/post.log_retention_days", json={"value": 30}).status_code == 200
    maker = app.extensions["sagspost.sessionmaker"]
    from uuid import UUID

    with maker() as session, session.begin():
        session.execute(update(Dispatch).where(Dispatch.id == UUID(old["id"])).values(finished_at=utcnow() - timedelta(days=31)))
        assert purge_dispatch_log(session) == 1
    assert caseworker.get(f"/api/dispatches/{old['id']}").status_code == 404
    assert caseworker.get(f"/api/dispatches/{recent['id']}").status_code == 200
