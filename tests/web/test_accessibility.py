"""axe-core (vendored in tests/web/vendor) over the main pages in Chromium: no serious or critical violations."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.documents.conftest import upload
from tests.files import text_pdf, xlsx_file
from tests.generation.conftest import upload_template, word_template
from tests.post.conftest import post_simulator  # noqa: F401  (a real NgDP simulator over HTTP)
from tests.live import screenshot
from tests.web.test_journeys import sign_in

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
RUN_AXE = """() => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
  .then(result => result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))})))"""


@pytest.fixture
def case_with_document(boss, template):
    """With a custom document field, which the document page and the search form then show."""
    boss.post("/api/custom-fields", json={"entity": "document", "key": "beloeb", "label": "Beløb", "type": "number"})
    case = boss.post("/api/cases", json={"template_id": template["id"], "title": "Tilgængelig sag"}).json
    doc = upload(boss, files=[("file", "brev.pdf", text_pdf("Et brev om tilgængelighed"))], case_id=case["id"]).json
    return case, doc


@pytest.fixture
def app_overrides(post_simulator):  # noqa: F811
    return {"post_api_url": post_simulator.api_url}


@pytest.fixture
def sent_and_merged(boss, case_with_document):
    """A dispatch of one letter, and a mail merge whose sheet has a bad row."""
    case, doc = case_with_document
    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    sender = boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json
    dispatch = boss.post("/api/dispatches", json={"title": "Svar", "sender_identity_id": sender["id"], "main_document_id": doc["id"],
                                                  "recipients": [{"type": "cpr", "number": "120385-1100"}]}).json
    template = upload_template(boss, "Udbetaling", word_template("Kære {{ Navn }}"), for_merge="true").json
    sheet = xlsx_file([["CPR", "Navn"], ["120385-1100", "Mette"], ["010100-00", "Forkert"]])
    merge = upload(boss, "/api/merges", files=[("sheet", "liste.xlsx", sheet)], template_id=template["id"]).json
    letter = boss.get(f"/api/dispatches/{dispatch['id']}/letters").json[0]
    return {"dispatch": f"/post/dispatches/{dispatch['id']}", "letter": f"/post/dispatches/{dispatch['id']}/letters/{letter['id']}",
            "merge": f"/post/merges/{merge['id']}"}


@pytest.fixture
def page(browser):
    """The pages' CSP forbids injected scripts, axe included: this context lets the test inject it."""
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_the_main_pages_have_no_serious_accessibility_violations(page, live_app, boss, case_with_document, sent_and_merged):
    case, doc = case_with_document
    pages = {
        "login": "/login", "dashboard": "/", "cases": "/cases?scope=all", "case-new": "/cases/new",
        "case": f"/cases/{case['id']}", "parties": f"/cases/{case['id']}/parties", "members": f"/cases/{case['id']}/members",
        "notes": f"/cases/{case['id']}/notes", "history": f"/cases/{case['id']}/history", "document": f"/documents/{doc['id']}",
        "documents": "/documents", "search": "/search?q=brev", "post": "/post", "post-send": "/post/send",
        "to-print": "/post/to-print", "statistics": "/post/statistics", "admin": "/admin", "admin-users": "/admin/users",
        "admin-rights": "/admin/rights", "admin-templates": "/admin/case-templates", "contacts": "/contacts",
        "merge": "/post/merge", "contact-search": "/contacts?q=mette", "document-preview": f"/documents/{doc['id']}/preview",
        "dispatch": sent_and_merged["dispatch"], "letter": sent_and_merged["letter"], "merge-problems": sent_and_merged["merge"],
        "admin-doc-templates": "/admin/document-templates", "admin-identities": "/admin/sender-identities",
        "admin-settings": "/admin/settings", "admin-audit": "/admin/audit", "admin-trash": "/admin/trash",
        "admin-custom-fields": "/admin/custom-fields",
    }
    found = {}
    page.goto(live_app.url + "/login")
    _check(page, "login", found)
    sign_in(page, live_app, "boss")
    for name, path in pages.items():
        if name != "login":
            page.goto(live_app.url + path)
            _check(page, name, found)
    assert found == {}
    # and the check can fail: an image without a text alternative is reported
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"data:,\">')")
    _check(page, "broken", found)
    assert [v["id"] for v in found["broken"]] == ["image-alt"]


def _check(page, name: str, found: dict) -> None:
    page.add_script_tag(path=str(AXE))
    serious = [v for v in page.evaluate(RUN_AXE) if v["impact"] in ("serious", "critical")]
    if serious:
        found[name] = serious
        screenshot(page, f"axe-{name}")
