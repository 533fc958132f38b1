"""Many files in one upload (POST /api/documents/batch): a document per file, refused files reported
one by one, and text extraction in batches where a broken file marks only itself."""
import pytest
from sqlalchemy import func, select

from server.documents import jobs as document_jobs
from server.jobs.models import Job
from tests.documents.conftest import upload
from tests.files import docx_file, email_file, text_pdf

BATCH = "/api/documents/batch"


@pytest.fixture
def app_overrides():
    return {"max_upload_mb": 1}


def _hits(caller, q):
    response = caller.post("/api/search", json={"q": q, "types": ["document"]})
    assert response.status_code == 200, response.json
    return {h["entity_id"] for h in response.json["hits"]}


def _batch(caller, files, **form):
    return upload(caller, BATCH, files=[("files", name, data) for name, data in files], **form)


def test_a_batch_makes_a_document_per_file_and_reports_a_refused_file_by_position(caseworker, case):
    files = [
        ("bevilling.pdf", text_pdf("Bevilling af befordringsgodtgørelse")),
        ("referat.docx", docx_file("Referat af skolebestyrelsens møde")),
        ("tom.pdf", b""),
        ("klage.eml", email_file(subject="Klage", text="Klage over skolebussen")),
        ("stor.pdf", text_pdf("Stor") + bytes(1024 * 1024)),
    ]
    response = _batch(caseworker, files, case_id=case["id"], titles=["Bevilling", ""], tags=["skole"])
    assert response.status_code == 201, response.json
    created = {d["index"]: d["document"] for d in response.json["documents"]}
    assert sorted(created) == [0, 1, 3]
    assert [created[i]["title"] for i in (0, 1, 3)] == ["Bevilling", "referat.docx", "klage.eml"]
    assert all(d["case_id"] == case["id"] and d["status"] == "draft" for d in created.values())
    empty, large = response.json["errors"]
    assert empty["index"] == 2 and empty["filename"] == "tom.pdf" and "empty" in empty["message"]
    assert large["index"] == 4 and large["filename"] == "stor.pdf" and "larger than the limit of 1 MB" in large["message"]

    listed = caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json
    assert {d["id"] for d in listed} == {d["id"] for d in created.values()}
    referat = caseworker.get(f"/api/documents/{created[1]['id']}").json
    assert referat["tags"] == ["skole"]
    assert [(f["role"], f["versions"][0]["text_status"]) for f in referat["files"]] == [("main", "ok")]
    # the extracted text of each kind is found
    assert _hits(caseworker, "befordringsgodtgørelse") == {created[0]["id"]}
    assert _hits(caseworker, "skolebestyrelsens") == {created[1]["id"]}
    assert _hits(caseworker, "skolebussen") == {created[3]["id"]}
    # each document's creation is in its own history and in the case's
    for doc in created.values():
        history = caseworker.get(f"/api/documents/{doc['id']}/history").json
        assert [e["action"] for e in history] == ["document.created"]
    case_history = caseworker.get(f"/api/cases/{case['id']}/history").json
    assert sum(e["action"] == "document.created" for e in case_history) == 3


def test_a_batch_on_a_case_needs_write_access_and_creates_nothing_without(caseworker, make_user, case):
    pdf = [("brev.pdf", text_pdf("Et brev"))]
    stranger = make_user("stranger")
    assert _batch(stranger, pdf, case_id=case["id"]).status_code == 404
    member = {"user_id": str(stranger.user_id), "access": "read"}
    assert caseworker.post(f"/api/cases/{case['id']}/members", json=member).status_code == 201
    assert _batch(stranger, pdf, case_id=case["id"]).status_code == 403
    assert caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json == []


def test_when_every_file_is_refused_nothing_is_created(caseworker, case):
    response = _batch(caseworker, [("a.pdf", b""), ("b.pdf", b"")], case_id=case["id"])
    assert response.status_code == 422
    assert response.json["errors"]["files"] == ["a.pdf: The file 'a.pdf' is empty.", "b.pdf: The file 'b.pdf' is empty."]
    assert caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json == []


def test_a_refused_file_type_is_reported_for_that_file_only(admin, caseworker):
    assert admin.put("/api/file-types", json={"mime": "application/pdf", "allowed": False}).status_code == 200
    response = _batch(caseworker, [("a.pdf", text_pdf("A")), ("b.docx", docx_file("B")), ("c.pdf", text_pdf("C"))])
    assert response.status_code == 201
    assert [d["index"] for d in response.json["documents"]] == [1]
    assert [(e["index"], "application/pdf" in e["message"]) for e in response.json["errors"]] == [(0, True), (2, True)]


def test_a_broken_pdf_in_a_batch_marks_only_itself(caseworker, case, db_session):
    first = text_pdf("Tilsyn med daginstitutionen")
    files = [("a.pdf", first),
             ("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 20),
             ("c.pdf", text_pdf("Tilsyn med legepladsen")),
             ("kopi.pdf", first)]
    response = _batch(caseworker, files, case_id=case["id"])
    assert response.status_code == 201
    ids = [d["document"]["id"] for d in response.json["documents"]]
    jobs = db_session.scalar(select(func.count()).select_from(Job).where(Job.kind == "documents.extract"))
    db_session.rollback()
    assert jobs == 1  # the files were extracted by one job
    versions = [caseworker.get(f"/api/documents/{i}").json["files"][0]["versions"][0] for i in ids]
    assert [v["text_status"] for v in versions] == ["ok", "failed", "ok", "ok"]
    assert "damaged" in versions[1]["text_reason"]
    assert _hits(caseworker, "tilsyn") == {ids[0], ids[2], ids[3]}
    assert _hits(caseworker, "daginstitutionen") == {ids[0], ids[3]}  # the copy has its text too


def test_a_job_out_of_time_leaves_the_rest_to_a_new_job(caseworker, case, db_session, monkeypatch):
    monkeypatch.setattr(document_jobs, "EXTRACTION_ROUND_S", 0)  # one file per job, then the rest goes on
    files = [(f"{n}.pdf", text_pdf(f"Ansøgning nummer {n} om friplads")) for n in range(3)]
    response = _batch(caseworker, files, case_id=case["id"])
    ids = {d["document"]["id"] for d in response.json["documents"]}
    jobs = db_session.scalars(select(Job.status).where(Job.kind == "documents.extract")).all()
    db_session.rollback()
    assert [s.value for s in jobs] == ["done"] * 3
    assert _hits(caseworker, "friplads") == ids


def test_a_file_without_text_extraction_is_found_by_its_title_at_once(caseworker, case, db_session):
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    response = _batch(caseworker, [("kort.png", png)], case_id=case["id"], titles=["Kort over matriklen"])
    [created] = response.json["documents"]
    jobs = db_session.scalar(select(func.count()).select_from(Job).where(Job.kind == "documents.extract"))
    db_session.rollback()
    assert jobs == 0
    doc = caseworker.get(f"/api/documents/{created['document']['id']}").json
    assert doc["files"][0]["versions"][0]["text_status"] == "unsupported"
    assert _hits(caseworker, "matriklen") == {doc["id"]}


def test_the_batch_upload_is_in_the_openapi_document(app):
    spec = app.test_client().get("/api/openapi.json").json
    post = spec["paths"]["/api/documents/batch"]["post"]
    files = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "files" in spec["components"]["schemas"][files]["properties"]
    answer = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][answer]["properties"]) == {"documents", "errors"}
