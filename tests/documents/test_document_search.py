"""Documents are found by their extracted text, only by those who may see them, and a reindex rebuilds them."""
from sqlalchemy import delete

from server.search import services as search
from server.search.models import SearchEntry
from tests.documents.conftest import upload
from tests.files import text_pdf


def _hits(caller, q):
    response = caller.post("/api/search", json={"q": q, "types": ["document"]})
    assert response.status_code == 200, response.json
    return response.json


def test_text_inside_a_pdf_is_found_with_danish_stemming(caseworker, make_user, case):
    doc = upload(caseworker, files=[("file", "brev.pdf", text_pdf("Afgørelse om befordringsgodtgørelse til eleverne"))],
                 title="Brev", case_id=case["id"]).json
    found = _hits(caseworker, "elev befordringsgodtgørelse")
    assert [h["entity_id"] for h in found["hits"]] == [doc["id"]]
    stranger = make_user("stranger")
    assert _hits(stranger, "befordringsgodtgørelse")["total"] == 0


def test_a_deleted_document_is_not_found_and_reindex_rebuilds_the_rest(caseworker, case, app):
    kept = upload(caseworker, files=[("file", "a.pdf", text_pdf("Skolepenge for efteråret"))], title="A", case_id=case["id"]).json
    gone = upload(caseworker, files=[("file", "b.pdf", text_pdf("Skolepenge for foråret"))], title="B", case_id=case["id"]).json
    caseworker.delete(f"/api/documents/{gone['id']}")
    assert [h["entity_id"] for h in _hits(caseworker, "skolepenge")["hits"]] == [kept["id"]]
    maker = app.extensions["sagspost.sessionmaker"]
    with maker() as session, session.begin():
        session.execute(delete(SearchEntry))
    assert _hits(caseworker, "skolepenge")["total"] == 0
    counts = search.reindex(maker, types=["document"])
    assert counts["document"] == 1
    assert [h["entity_id"] for h in _hits(caseworker, "skolepenge")["hits"]] == [kept["id"]]


def test_the_same_file_uploaded_again_is_searchable_without_being_read_again(caseworker, case, db_session):
    from sqlalchemy import func, select

    from server.jobs.models import Job

    letter = text_pdf("Afgørelse om befordringsgodtgørelse til Søren")
    first = upload(caseworker, files=[("file", "brev.pdf", letter)], case_id=case["id"], title="Første").json
    second = upload(caseworker, files=[("file", "kopi.pdf", letter)], case_id=case["id"], title="Anden").json

    extractions = db_session.scalar(select(func.count()).select_from(Job).where(Job.kind == "documents.extract"))
    db_session.rollback()  # a read on SQLite holds the write lock until it ends
    assert extractions == 1  # the copy took the text already extracted from the same bytes
    found = _hits(caseworker, "befordringsgodtgørelse")
    assert {h["entity_id"] for h in found["hits"]} == {first["id"], second["id"]}
