"""Documents through the API: drafts and finals, files and versions, where they live, who sees them."""
import hashlib
import json

from tests.documents.conftest import upload
from tests.files import docx_file, text_pdf

PDF = text_pdf("Afgørelse om skoleskift\nEleven skifter til Østskolen.")


def _doc(caller, case=None, title="Afgørelse", main=("afgoerelse.pdf", PDF), attachments=(), **form):
    files = [("file", *main)] if main else []
    files += [("attachments", name, data) for name, data in attachments]
    response = upload(caller, files=files, title=title, case_id=case["id"] if case else None, **form)
    assert response.status_code == 201, response.json
    return response.json


def test_upload_to_a_case_makes_a_draft_with_main_file_attachments_and_extracted_text(caseworker, case):
    doc = _doc(caseworker, case, attachments=[("bilag.docx", docx_file("Referat fra mødet"))])
    assert doc["status"] == "draft" and doc["case_id"] == case["id"]
    roles = [(f["role"], f["name"]) for f in doc["files"]]
    assert roles == [("main", "afgoerelse.pdf"), ("attachment", "bilag.docx")]
    fresh = caseworker.get(f"/api/documents/{doc['id']}").json
    main, bilag = fresh["files"]
    assert main["versions"][0]["mime"] == "application/pdf"
    assert main["versions"][0]["text_status"] == "ok"
    assert bilag["versions"][0]["mime"].endswith("wordprocessingml.document")
    listed = caseworker.get(f"/api/documents?scope=case&case_id={case['id']}")
    assert [d["id"] for d in listed.json] == [doc["id"]]


def test_the_content_decides_the_type_not_the_name(caseworker, case):
    doc = _doc(caseworker, case, main=("brev.docx", PDF))
    version = doc["files"][0]["versions"][0]
    assert version["mime"] == "application/pdf" and version["filename"] == "brev.pdf"


def test_an_empty_file_is_refused_and_nothing_is_created(caseworker, case):
    response = upload(caseworker, files=[("file", "tom.pdf", b"")], title="Tom", case_id=case["id"])
    assert response.status_code == 422 and "empty" in response.json["message"]
    assert caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json == []


def test_a_refused_file_type_is_refused(admin, caseworker, case):
    assert admin.put("/api/file-types", json={"mime": "application/pdf", "allowed": False}).status_code == 200
    response = upload(caseworker, files=[("file", "a.pdf", PDF)], title="A", case_id=case["id"])
    assert response.status_code == 422 and "application/pdf" in response.json["message"]
    admin.put("/api/file-types", json={"mime": "application/pdf", "allowed": True})
    assert admin.put("/api/settings/uploads.only_listed_types", json={"value": True}).status_code == 200
    docx = upload(caseworker, files=[("file", "a.docx", docx_file("x"))], title="A", case_id=case["id"])
    assert docx.status_code == 422 and "not listed" in docx.json["message"]
    assert upload(caseworker, files=[("file", "a.pdf", PDF)], title="A", case_id=case["id"]).status_code == 201


def test_versions_are_kept_and_each_can_be_downloaded(caseworker, case):
    doc = _doc(caseworker, case)
    file_id = doc["files"][0]["id"]
    second = text_pdf("Ny version")
    response = upload(caseworker, f"/api/documents/{doc['id']}/files/{file_id}/versions",
                      files=[("file", "v2.pdf", second)], comment="rettet")
    assert response.status_code == 201 and response.json["number"] == 2
    newest = caseworker.get(f"/api/documents/{doc['id']}/files/{file_id}/content")
    first = caseworker.get(f"/api/documents/{doc['id']}/files/{file_id}/content?version=1")
    assert newest.data == second and first.data == PDF
    assert "attachment" in newest.headers["Content-Disposition"]
    assert caseworker.get(f"/api/documents/{doc['id']}/files/{file_id}/content?version=9").status_code == 404


def test_a_final_document_cannot_change_until_reopened_with_the_right(caseworker, make_user, case):
    doc = _doc(caseworker, case)
    url = f"/api/documents/{doc['id']}"
    assert caseworker.put(f"{url}/status", json={"status": "final"}).json["status"] == "final"
    assert caseworker.patch(url, json={"title": "Ny"}).status_code == 409
    file_id = doc["files"][0]["id"]
    blocked = upload(caseworker, f"{url}/files/{file_id}/versions", files=[("file", "v2.pdf", text_pdf("x"))])
    assert blocked.status_code == 409
    assert caseworker.put(f"{url}/status", json={"status": "draft"}).status_code == 403
    boss = make_user("boss", roles=["org_admin"])
    caseworker.post(f"/api/cases/{case['id']}/members", json={"user_id": str(boss.user_id)})
    assert boss.put(f"{url}/status", json={"status": "draft"}).json["status"] == "draft"
    assert caseworker.patch(url, json={"title": "Ny"}).status_code == 200
    actions = [e["action"] for e in caseworker.get(f"{url}/history").json]
    assert actions.count("document.status_changed") == 2


def test_a_document_without_main_file_cannot_be_final(caseworker, case):
    doc = _doc(caseworker, case, main=None, title="Notat")
    assert caseworker.put(f"/api/documents/{doc['id']}/status", json={"status": "final"}).status_code == 409


def test_my_documents_are_mine_and_shared_ones_are_the_groups(make_user, make_group, caseworker, case):
    team = make_group("Team")
    colleague = make_user("colleague", groups=[team])
    outsider = make_user("outsider")
    me = make_user("me", groups=[team])
    mine = _doc(me, title="Udkast")
    shared = _doc(me, title="Fælles", shared_group_id=str(team))
    assert [d["id"] for d in me.get("/api/documents?scope=mine").json] == [mine["id"]]
    assert [d["id"] for d in colleague.get("/api/documents?scope=shared").json] == [shared["id"]]
    assert colleague.get(f"/api/documents/{mine['id']}").status_code == 404
    assert outsider.get(f"/api/documents/{shared['id']}").status_code == 404
    assert upload(outsider, files=[("file", "a.pdf", PDF)], title="x", shared_group_id=str(team)).status_code == 403


def test_a_personal_document_moves_onto_a_case(caseworker, make_user, case):
    draft = _doc(caseworker, title="Udkast")
    folder = case["folders"][0]["id"]
    moved = caseworker.post(f"/api/documents/{draft['id']}/move", json={"case_id": case["id"], "folder_id": folder})
    assert moved.status_code == 200 and moved.json["case_id"] == case["id"] and moved.json["folder_id"] == folder
    assert caseworker.get("/api/documents?scope=mine").json == []
    in_folder = caseworker.get(f"/api/documents?scope=case&case_id={case['id']}&folder_id={folder}").json
    assert [d["id"] for d in in_folder] == [draft["id"]]


def test_case_documents_follow_the_case_access_and_reads_are_logged(caseworker, make_user, admin, case):
    doc = _doc(caseworker, case)
    stranger = make_user("stranger")
    assert stranger.get(f"/api/documents/{doc['id']}").status_code == 404
    assert stranger.get(f"/api/documents/{doc['id']}/files/{doc['files'][0]['id']}/content").status_code == 404
    assert stranger.get(f"/api/documents?scope=case&case_id={case['id']}").status_code == 404
    caseworker.get(f"/api/documents/{doc['id']}/files/{doc['files'][0]['id']}/content")
    log = admin.get(f"/api/audit/access-log?case_id={case['id']}").json
    assert "read_file" in [e["action"] for e in log]


def test_trash_delete_restore_and_purge(caseworker, admin, case, app):
    doc = _doc(caseworker, case)
    sha = doc["files"][0]["versions"][0]["sha256"]
    assert caseworker.delete(f"/api/documents/{doc['id']}").status_code == 204
    assert caseworker.get(f"/api/documents/{doc['id']}").status_code == 404
    assert caseworker.get(f"/api/documents?scope=case&case_id={case['id']}").json == []
    assert [d["id"] for d in caseworker.get("/api/trash").json] == [doc["id"]]
    assert caseworker.post(f"/api/trash/{doc['id']}/restore").status_code == 200
    assert caseworker.get(f"/api/documents/{doc['id']}").status_code == 200
    caseworker.delete(f"/api/documents/{doc['id']}")
    assert caseworker.delete(f"/api/trash/{doc['id']}").status_code == 403
    store = app.extensions["sagspost.blobs"]
    assert store.exists(sha)
    assert admin.delete(f"/api/trash/{doc['id']}").status_code == 204
    assert not store.exists(sha)
    assert admin.get("/api/trash").json == []


def test_purge_keeps_content_another_document_shares(caseworker, admin, case, app):
    first, second = _doc(caseworker, case), _doc(caseworker, case, title="Kopi")
    sha = first["files"][0]["versions"][0]["sha256"]
    assert sha == hashlib.sha256(PDF).hexdigest() == second["files"][0]["versions"][0]["sha256"]
    caseworker.delete(f"/api/documents/{first['id']}")
    admin.delete(f"/api/trash/{first['id']}")
    assert app.extensions["sagspost.blobs"].exists(sha)
    assert caseworker.get(f"/api/documents/{second['id']}/files/{second['files'][0]['id']}/content").data == PDF


def test_html_files_are_never_served_inline(caseworker, case):
    doc = _doc(caseworker, case, main=("side.html", b"<html><body><script>alert(1)</script>Hej</body></html>"))
    response = caseworker.get(f"/api/documents/{doc['id']}/files/{doc['files'][0]['id']}/content?inline=true")
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    pdf = _doc(caseworker, case)
    shown = caseworker.get(f"/api/documents/{pdf['id']}/files/{pdf['files'][0]['id']}/content?inline=true")
    assert "inline" in shown.headers["Content-Disposition"]


def test_comments_references_and_metadata(caseworker, admin, make_user, case, new_case):
    doc = _doc(caseworker, case)
    other = _doc(caseworker, case, title="Ansøgning")
    url = f"/api/documents/{doc['id']}"
    assert caseworker.post(f"{url}/comments", json={"text": "Set og godkendt"}).status_code == 201
    assert [c["text"] for c in caseworker.get(f"{url}/comments").json] == ["Set og godkendt"]
    assert caseworker.post(f"{url}/references", json={"target_document_id": other["id"]}).status_code == 201
    private_owner = make_user("private")
    hidden_case = new_case(private_owner, title="Skjult")
    assert caseworker.post(f"{url}/references", json={"target_case_id": hidden_case["id"]}).status_code == 404
    refs = caseworker.get(f"{url}/references").json
    assert [r["target_document_id"] for r in refs] == [other["id"]]
    assert admin.post("/api/document-types", json={"name": "Afgørelse", "retention_years": 10}).status_code == 201
    types = caseworker.get("/api/document-types").json
    changed = caseworker.patch(url, json={"document_type_id": types[0]["id"], "direction": "outgoing", "tags": ["Skole"]})
    assert changed.status_code == 200
    assert (changed.json["document_type_id"], changed.json["direction"], changed.json["tags"]) == (types[0]["id"], "outgoing", ["skole"])
    history = caseworker.get(f"/api/cases/{case['id']}/history").json
    assert any(e["action"] == "document.updated" for e in history)
    assert json.loads(caseworker.get(f"{url}/history").headers["X-Pagination"])["total"] >= 3
