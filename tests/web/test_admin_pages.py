"""Administration pages: each opens for its right, and its forms change what the API shows."""
from __future__ import annotations

import io
import re

import pytest


def test_an_administrator_creates_a_user_who_can_then_sign_in(boss_web, app, group):
    response = boss_web.post("/admin/users", data={"username": "nyansat", "full_name": "Ny Ansat", "password": "et-langt-kodeord-1",
                                                   "roles": ["caseworker"], "group_ids": [str(group)]})
    assert response.status_code == 302
    assert "Ny Ansat" in boss_web.get("/admin/users").text
    from tests.web.conftest import sign_in

    assert "Min side" in sign_in(app, "nyansat", "et-langt-kodeord-1").get("/").text


def test_lists_journal_plans_and_templates_are_built_from_their_pages(boss_web, boss):
    boss_web.post("/admin/lists/document-types", data={"name": "Afgørelse", "description": "Afgørelser"})
    boss_web.post("/admin/lists/party-roles", data={"name": "Værge"})
    assert [t["name"] for t in boss.get("/api/document-types").json if t["name"] == "Afgørelse"] == ["Afgørelse"]
    assert "Værge" in [r["name"] for r in boss.get("/api/party-roles").json]

    plan_page = boss_web.post("/admin/journal-plans", data={"name": "KLE"})
    plan_id = plan_page.location.rsplit("/", 1)[1]
    boss_web.post(f"/admin/journal-plans/{plan_id}/keys", data={"number": "17", "title": "Undervisning"})
    (top,) = boss.get(f"/api/journal-plans/{plan_id}/keys").json
    boss_web.post(f"/admin/journal-plans/{plan_id}/keys", data={"number": "17.01", "title": "Skoler", "parent_id": top["id"]})
    leaf = boss.get(f"/api/journal-plans/{plan_id}/keys").json[0]["children"][0]
    boss_web.post("/admin/case-templates", data={"name": "Skolesag", "journal_key_id": leaf["id"], "access": "group",
                                                 "standard_folders": "Breve\nNotater"})
    made = next(t for t in boss.get("/api/case-templates").json if t["name"] == "Skolesag")
    assert made["journal_key_id"] == leaf["id"] and made["standard_folders"] == ["Breve", "Notater"]
    assert "17.01 Skoler" in boss_web.get("/cases/new").text


@pytest.mark.parametrize("path", [
    "/admin", "/admin/users", "/admin/groups", "/admin/rights", "/admin/journal-plans", "/admin/case-templates",
    "/admin/lists/document-types", "/admin/lists/party-roles", "/admin/lists/note-categories", "/admin/file-types",
    "/admin/sender-identities", "/admin/trash", "/post", "/post/send", "/post/to-print", "/post/statistics",
    "/documents", "/documents?scope=shared", "/search", "/cases?scope=all", "/cases/new", "/contacts", "/post/merge", "/admin/document-templates", "/admin/settings", "/admin/audit",
    "/admin/audit?log=changes",
])
def test_every_page_opens_for_an_administrator(boss_web, path):
    response = boss_web.get(path)
    assert response.status_code == 200, response.text[:2000]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    forms = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', response.text, re.S)
    assert forms and all(f'name="csrf_token" value="{boss_web.csrf}"' in form for form in forms)


def test_a_sending_rule_names_a_user_or_a_group(boss_web, boss, sara, group):
    boss_web.post("/admin/sender-identities", data={"name": "Testrup Skole", "cvr": "39990059"})
    (identity,) = boss.get("/api/post/sender-identities").json
    boss_web.post(f"/admin/sender-identities/{identity['id']}/rules", data={"subject": f"group:{group}"})
    boss_web.post(f"/admin/sender-identities/{identity['id']}/rules",
                  data={"subject": f"user:{sara.user_id}", "requires_approval": "on"})
    rules = boss.get(f"/api/post/sender-identities/{identity['id']}/rules").json
    assert {(r["group_id"], r["user_id"], r["requires_approval"]) for r in rules} == {
        (str(group), None, False), (None, str(sara.user_id), True)}
    page = boss_web.get("/admin/sender-identities").text
    assert "Skoleafdelingen" in page and "Sara Sagsbehandler (kræver godkendelse)" in page


def test_a_word_template_is_uploaded_and_unknown_fields_are_named(boss_web, boss):
    from tests.generation.conftest import word_template

    good = word_template("Sag {{ sag.nummer }}")
    response = boss_web.post("/admin/document-templates", data={"name": "Kvittering", "file": (io.BytesIO(good), "kvit.docx")},
                             content_type="multipart/form-data")
    assert response.status_code == 302
    assert [t["name"] for t in boss.get("/api/document-templates").json] == ["Kvittering"]
    bad = word_template("Hej {{ ukendt.felt }}")
    boss_web.post("/admin/document-templates", data={"name": "Forkert", "file": (io.BytesIO(bad), "forkert.docx")},
                  content_type="multipart/form-data")
    page = boss_web.get("/admin/document-templates").text
    assert "ukendt.felt" in page and "Forkert" not in page.split("<h2>")[0]


def test_settings_are_changed_and_reads_of_cases_are_in_the_access_log(boss_web, boss, sara_web, template):
    boss_web.post("/admin/settings", data={"key": "organisation.name", "value": "Testrup Kommune"})
    boss_web.post("/admin/settings", data={"key": "post.log_retention_days", "value": "30"})
    values = {s["key"]: s["value"] for s in boss.get("/api/settings").json}
    assert values["organisation.name"] == "Testrup Kommune" and values["post.log_retention_days"] == 30
    case_id = sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Læst sag"}).location.rsplit("/", 1)[1]
    sara_web.get(f"/cases/{case_id}")
    log = boss_web.get("/admin/audit").text
    assert case_id in log and "Sara Sagsbehandler" in log
    assert "Oprettede sagen" in boss_web.get("/admin/audit?log=changes").text
