import json
import re
from datetime import datetime, timezone


def test_case_is_created_from_template_with_number_title_folders_and_owner(caseworker, new_case, template, plan):
    case = new_case(caseworker)
    year = datetime.now(timezone.utc).year
    assert re.fullmatch(rf"{year}-\d{{6}}", case["number"])
    assert case["title"] == f"Personalesag {year}"
    assert case["status"] == "open"
    assert case["journal_key_id"] == plan["keys"]["00.01.00"]["id"]
    assert case["journal_key"] == "00.01.00 Kommunens styrelse i almindelighed"
    assert [f["name"] for f in case["folders"]] == ["Korrespondance", "Kontrakter"]
    assert case["owner_user_id"] == str(caseworker.user_id)
    assert case["my_access"] == "manage"


def test_case_numbers_follow_each_other(caseworker, new_case):
    first, second = new_case(caseworker), new_case(caseworker)
    assert int(second["number"][-6:]) == int(first["number"][-6:]) + 1


def test_case_can_only_be_filed_on_a_leaf_key(caseworker, template, plan):
    response = caseworker.post(
        "/api/cases", json={"template_id": template["id"], "journal_key_id": plan["keys"]["00.01"]["id"]}
    )
    assert response.status_code == 422
    assert "00.01 has sub-keys" in response.json["message"]


def test_template_is_required_and_must_exist(caseworker):
    assert caseworker.post("/api/cases", json={"title": "x"}).status_code == 422
    response = caseworker.post("/api/cases", json={"template_id": "00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 404
    assert response.json["message"] == "No such case template."


def test_title_pattern_with_unknown_placeholder_is_refused(admin):
    response = admin.post("/api/case-templates", json={"name": "T", "title_pattern": "{cpr} sag"})
    assert response.status_code == 422
    assert "{cpr}" in response.json["message"]


def test_caseworker_cannot_manage_templates_or_journal_plan(caseworker, plan):
    assert caseworker.post("/api/case-templates", json={"name": "T"}).status_code == 403
    assert caseworker.post("/api/journal-plans", json={"name": "P"}).status_code == 403


def test_journal_plan_tree_marks_leaves(caseworker, plan):
    tree = caseworker.get(f"/api/journal-plans/{plan['plan']['id']}/keys").json
    assert [n["number"] for n in tree] == ["00"]
    group = tree[0]["children"][0]
    assert group["number"] == "00.01" and not group["is_leaf"]
    assert [(c["number"], c["is_leaf"]) for c in group["children"]] == [("00.01.00", True), ("00.01.02", True)]


def test_update_case_records_history_with_before_and_after(caseworker, new_case):
    case = new_case(caseworker, title="Ansættelse")
    response = caseworker.patch(f"/api/cases/{case['id']}", json={"title": "Ansættelse af Jens", "tags": ["HR", "Løn"]})
    assert response.status_code == 200
    assert response.json["tags"] == ["hr", "løn"]
    history = caseworker.get(f"/api/cases/{case['id']}/history").json
    update = next(e for e in history if e["action"] == "case.updated")
    assert update["before"]["title"] == "Ansættelse"
    assert update["after"]["title"] == "Ansættelse af Jens"
    assert update["actor_name"] == "anna"
    assert any(e["action"] == "case.created" for e in history)


def test_status_moves_open_closed_archived_and_archived_is_final(caseworker, new_case):
    case = new_case(caseworker)
    url = f"/api/cases/{case['id']}/status"
    assert caseworker.put(url, json={"status": "archived"}).status_code == 409
    closed = caseworker.put(url, json={"status": "closed"}).json
    assert closed["status"] == "closed" and closed["closed_at"]
    assert caseworker.put(url, json={"status": "archived"}).json["status"] == "archived"
    assert caseworker.put(url, json={"status": "open"}).status_code == 409
    assert caseworker.patch(f"/api/cases/{case['id']}", json={"title": "x"}).status_code == 409
    assert caseworker.put(url, json={"status": "bogus"}).status_code == 422


def test_notes_with_categories(caseworker, new_case):
    case = new_case(caseworker)
    category = caseworker.get("/api/note-categories").json
    # a fresh database has no categories until the administrator makes them
    assert isinstance(category, list)
    note = caseworker.post(f"/api/cases/{case['id']}/notes", json={"text": "Ringede til borgeren"})
    assert note.status_code == 201
    notes = caseworker.get(f"/api/cases/{case['id']}/notes").json
    assert [n["text"] for n in notes] == ["Ringede til borgeren"]
    edited = caseworker.patch(f"/api/cases/{case['id']}/notes/{note.json['id']}", json={"text": "Ringede igen"})
    assert edited.json["text"] == "Ringede igen"


def test_pagination_and_sorting_of_case_lists(caseworker, new_case):
    for i in range(7):
        new_case(caseworker, title=f"Sag {i}")
    page = caseworker.get("/api/cases?scope=mine&page=2&page_size=3&sort=title")
    assert page.status_code == 200
    assert [c["title"] for c in page.json] == ["Sag 3", "Sag 4", "Sag 5"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 7
    assert caseworker.get("/api/cases?sort=nonsense").status_code == 422


def test_filter_by_tag_text_journal_key_and_status(caseworker, new_case, plan):
    a = new_case(caseworker, title="Elev Jens", tags=["elev"])
    new_case(caseworker, title="Budget", journal_key_id=plan["keys"]["00.01.02"]["id"])
    assert [c["id"] for c in caseworker.get("/api/cases?tag=elev").json] == [a["id"]]
    assert [c["title"] for c in caseworker.get("/api/cases?q=jens").json] == ["Elev Jens"]
    by_key = caseworker.get(f"/api/cases?journal_key_id={plan['keys']['00.01.02']['id']}").json
    assert [c["title"] for c in by_key] == ["Budget"]
    caseworker.put(f"/api/cases/{a['id']}/status", json={"status": "closed"})
    assert [c["title"] for c in caseworker.get("/api/cases?status=closed").json] == ["Elev Jens"]


def test_custom_fields_are_typed_validated_and_searchable(admin, caseworker, new_case):
    for body in (
        {"entity": "case", "key": "elevnummer", "label": "Elevnummer", "type": "text"},
        {"entity": "case", "key": "klassetrin", "label": "Klassetrin", "type": "number"},
        {"entity": "case", "key": "start", "label": "Startdato", "type": "date"},
        {"entity": "case", "key": "linje", "label": "Linje", "type": "choice", "choices": ["A", "B"]},
    ):
        assert admin.post("/api/custom-fields", json=body).status_code == 201
    a = new_case(caseworker, fields={"elevnummer": "E-17", "klassetrin": 7, "start": "2026-08-10", "linje": "A"})
    new_case(caseworker, fields={"elevnummer": "E-18", "klassetrin": 9, "start": "2025-08-10", "linje": "B"})
    assert a["fields"] == {"elevnummer": "E-17", "klassetrin": 7, "start": "2026-08-10", "linje": "A"}
    assert [c["id"] for c in caseworker.get("/api/cases?field=elevnummer:E-17").json] == [a["id"]]
    assert [c["id"] for c in caseworker.get("/api/cases?field=klassetrin:5..8").json] == [a["id"]]
    assert [c["id"] for c in caseworker.get("/api/cases?field=start:2026-01-01..").json] == [a["id"]]
    bad = caseworker.post("/api/cases", json={"template_id": a["template_id"], "fields": {"klassetrin": "syv"}})
    assert bad.status_code == 422 and "Klassetrin" in bad.json["message"]
    bad = caseworker.post("/api/cases", json={"template_id": a["template_id"], "fields": {"linje": "C"}})
    assert bad.status_code == 422
    assert caseworker.post("/api/cases", json={"template_id": a["template_id"], "fields": {"nope": 1}}).status_code == 422
    assert caseworker.get("/api/cases?field=nope:1").status_code == 422
