"""Cases in the trash, and kassation: disposal under retention rules with a record of what went."""
from datetime import date, timedelta
from uuid import UUID

from sqlalchemy import update

from server.cases.models import Case
from server.db import utcnow
from server.documents.models import Document
from tests.documents.conftest import upload
from tests.files import text_pdf


def _doc(caller, case, title="Brev", **form):
    response = upload(caller, files=[("file", "brev.pdf", text_pdf(title))], title=title, case_id=case["id"], **form)
    assert response.status_code == 201, response.json
    return response.json


def test_a_deleted_case_disappears_for_everyone_until_restored(make_user, admin, template):
    owner = make_user("owner", roles=["org_admin"])
    case = owner.post("/api/cases", json={"template_id": template["id"], "title": "Slettes"}).json
    doc = _doc(owner, case)
    assert make_user("plain").post(f"/api/cases/{case['id']}/trash").status_code == 403
    assert owner.post(f"/api/cases/{case['id']}/trash").status_code == 204
    assert owner.get(f"/api/cases/{case['id']}").status_code == 404
    assert owner.get(f"/api/documents/{doc['id']}").status_code == 404
    assert owner.get("/api/cases?q=Slettes").json == []
    assert owner.get("/api/cases?scope=mine&q=Slettes").json == []
    assert [c["id"] for c in owner.get("/api/trash/cases").json] == [case["id"]]
    assert owner.post(f"/api/trash/cases/{case['id']}/restore").status_code == 204
    assert owner.get(f"/api/cases/{case['id']}").status_code == 200


def test_purging_a_case_removes_it_its_documents_files_and_history(make_user, admin, template, app):
    owner = make_user("owner", roles=["org_admin"])
    case = owner.post("/api/cases", json={"template_id": template["id"], "title": "Purge"}).json
    doc = _doc(owner, case)
    sha = doc["files"][0]["versions"][0]["sha256"]
    owner.post(f"/api/cases/{case['id']}/trash")
    assert owner.delete(f"/api/trash/cases/{case['id']}").status_code == 204
    assert owner.get("/api/trash/cases").json == []
    assert not app.extensions["sagspost.blobs"].exists(sha)
    changes = admin.get("/api/audit/changes?entity_type=case").json
    assert [c["action"] for c in changes if c["entity_id"] == case["id"]] == ["case.purged"]
    assert "Purge" not in str(changes)  # the disposal record keeps the number, not the title


def test_retention_lists_what_is_due_and_disposes_it_with_a_record(admin, caseworker, app, plan):
    short = admin.post("/api/case-templates", json={"name": "Kortvarig", "retention_years": 1}).json
    letter = admin.post("/api/document-types", json={"name": "Kvittering", "retention_years": 2}).json
    old_case = caseworker.post("/api/cases", json={"template_id": short["id"], "title": "Gammel"}).json
    open_case = caseworker.post("/api/cases", json={"template_id": short["id"], "title": "Åben"}).json
    caseworker.put(f"/api/cases/{old_case['id']}/status", json={"status": "closed"})
    keeper = caseworker.post("/api/cases", json={"template_id": plan_template(admin)["id"], "title": "Varig"}).json
    receipt = _doc(caseworker, keeper, title="Kvittering", document_type_id=letter["id"])
    maker = app.extensions["sagspost.sessionmaker"]
    with maker() as session, session.begin():
        session.execute(update(Case).where(Case.id == UUID(old_case["id"])).values(closed_at=utcnow() - timedelta(days=400)))
        session.execute(update(Document).where(Document.id == UUID(receipt["id"])).values(document_date=date(2020, 1, 1)))
    due = admin.get("/api/retention/due").json
    assert [c["number"] for c in due["cases"]] == [old_case["number"]]
    assert [d["id"] for d in due["documents"]] == [receipt["id"]]
    assert caseworker.get("/api/retention/due").status_code == 403
    refused = admin.post("/api/retention/dispose", json={"case_ids": [open_case["id"]]})
    assert refused.status_code == 409
    done = admin.post("/api/retention/dispose", json={"case_ids": [old_case["id"]], "document_ids": [receipt["id"]]})
    assert done.status_code == 200, done.json
    assert {(r["kind"], r["reference"]) for r in done.json} == {("case", old_case["number"]), ("document", receipt["id"])}
    assert caseworker.get(f"/api/cases/{old_case['id']}").status_code == 404
    assert caseworker.get(f"/api/documents/{receipt['id']}").status_code == 404
    assert caseworker.get(f"/api/cases/{keeper['id']}").status_code == 200
    assert len(admin.get("/api/retention/disposals").json) == 2
    assert admin.get("/api/retention/due").json == {"cases": [], "documents": []}


def plan_template(admin):
    return admin.post("/api/case-templates", json={"name": "Uden kassation"}).json
