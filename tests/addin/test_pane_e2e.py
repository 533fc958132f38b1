"""The task pane in a real browser (Chromium) against the running app, inside a test page that
plays the Office host (tests/addin/fake_office.js): Outlook archiving a message, Word sending the
open document with Digital Post, Excel dispatching a 50-row merge. Screenshots of each state are
saved in test-artifacts/."""
import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from tests.documents.conftest import upload
from tests.files import docx_file, email_file, text_pdf
from tests.live import screenshot
from tests.post.conftest import post_simulator  # noqa: F401

pytestmark = pytest.mark.slow

FAKE_OFFICE = (Path(__file__).parent / "fake_office.js").read_text()
ADULT = "120385-1100"  # Mette Fiktivsen in the shipped fictional registers, has Digital Post
REGISTERS = Path(__file__).resolve().parents[2] / "server" / "post" / "data" / "registers.json"


@pytest.fixture
def app_overrides(post_simulator):  # noqa: F811
    return {"post_api_url": post_simulator.api_url}


def open_pane(page, live_app, caller, setup: dict):
    """The pane as Office would show it, signed in as `caller` (the token the dialog would give)."""
    session = {"token": caller.token, "name": caller.username, "user_id": str(caller.user_id),
               "expires_at": (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()}
    page.add_init_script(f"""
        window.__officeSetup = {json.dumps(setup)};
        if (location.origin === {json.dumps(live_app.url)}) localStorage.setItem("sagspost.pane", {json.dumps(json.dumps(session))});
    """)
    page.add_init_script(FAKE_OFFICE)
    page.goto(live_app.url + "/addin/taskpane.html")
    page.get_by_text(f"Logget ind som {caller.username}").wait_for()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_outlook_archives_the_message_on_a_suggested_case_and_warns_before_archiving_again(page, live_app, caseworker, new_case):
    case = new_case(caseworker, title="SFO-plads Mette")
    contact = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Mette", "last_name": "Jensen",
                                                     "email": "mette@example.dk"}).json
    caseworker.post(f"/api/cases/{case['id']}/parties", json={"contact_id": contact["id"]})
    eml = email_file(message_id="<sfo-42@example.dk>", attachments=[("ansøgning.pdf", text_pdf("Ansøgning"), "application/pdf"),
                                                                    ("foto.jpg", b"\xff\xd8\xff\xe0", "image/jpeg")])
    open_pane(page, live_app, caseworker, {
        "host": "Outlook", "eml": b64(eml),
        "item": {"subject": "Ansøgning om SFO-plads", "from": {"displayName": "Mette Jensen", "emailAddress": "mette@example.dk"},
                 "dateTimeCreated": "2026-11-24T09:15:00Z", "internetMessageId": "<sfo-42@example.dk>",
                 "conversationId": "AAQkADconv42", "itemId": "AAMkADitem42",
                 "attachments": [{"id": "1", "name": "ansøgning.pdf", "size": 900, "isInline": False},
                                 {"id": "2", "name": "foto.jpg", "size": 4, "isInline": False}]},
    })
    suggestion = page.locator("li", has_text=case["number"])
    suggestion.locator(".chip", has_text="afsender er part").wait_for()
    screenshot(page, "addin-outlook-1-suggestions")
    suggestion.get_by_role("radio").check()
    page.get_by_label("foto.jpg").uncheck()
    page.get_by_label("Endeligt").check()
    page.get_by_role("button", name="Journalisér").click()
    page.locator("#notice .banner.ok", has_text=f"Journaliseret på sag {case['number']}").wait_for()
    page.locator("[data-archived=yes]", has_text=case["number"]).wait_for()
    screenshot(page, "addin-outlook-2-archived")

    (doc,) = caseworker.get("/api/documents", query_string={"scope": "case", "case_id": case["id"]}).json
    full = caseworker.get(f"/api/documents/{doc['id']}").json
    assert full["status"] == "final" and full["email_message_id"] == "sfo-42@example.dk"
    assert [f["name"] for f in full["files"] if f["role"] == "attachment"] == ["ansøgning.pdf"]
    notifications = page.evaluate("window.__officeRecord.notifications")
    assert notifications and case["number"] in notifications[0]["message"]

    page.get_by_role("button", name="Journalisér").click()
    page.locator("#notice .banner.warn", has_text="allerede journaliseret").wait_for()
    screenshot(page, "addin-outlook-3-archive-again-warning")


def test_word_sends_the_open_document_with_digital_post_and_follows_it_to_delivered(page, live_app, admin, caseworker, new_case,
                                                                                   post_simulator):  # noqa: F811
    admin.post("/api/case-templates", json={"name": "Standardsag", "access": "group"})
    admin.post("/api/post/sender-identities", json={"name": "Testrup Kommune", "cvr": "39990059"})
    case = new_case(caseworker, title="Afgørelse om tilskud")
    contact = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Mette", "last_name": "Fiktivsen", "cpr": ADULT}).json
    assert caseworker.post(f"/api/cases/{case['id']}/parties", json={"contact_id": contact["id"]}).status_code == 201
    letter = text_pdf("Kære Mette\nDu får tilskuddet.")
    open_pane(page, live_app, caseworker, {"host": "Word", "pdf": b64(letter), "docx": b64(docx_file("Kære Mette"))})
    page.locator("li", has_text=case["number"]).get_by_role("radio").check()
    page.get_by_role("tab", name="Digital Post").click()
    page.get_by_label("Mette Fiktivsen").check()
    page.get_by_role("button", name="Forhåndsvis PDF").click()
    page.locator("iframe.preview").wait_for()
    screenshot(page, "addin-word-1-preview")
    page.get_by_role("button", name="Send med Digital Post").click()
    page.locator("tr[data-status=sent]", has_text="Mette Fiktivsen").wait_for()
    screenshot(page, "addin-word-2-sent")
    assert caseworker.post("/api/post/poll").status_code == 202  # fetch the receipts now
    page.locator("tr[data-status=delivered]", has_text="Mette Fiktivsen").wait_for()
    screenshot(page, "addin-word-3-delivered")

    deliveries = post_simulator.deliveries()
    assert deliveries["total"] == 1
    assert page.evaluate("window.__officeRecord.fileTypes") == ["pdf"]  # the previewed PDF is the one sent
    sent = [d for d in caseworker.get("/api/documents", query_string={"scope": "case", "case_id": case["id"]}).json
            if d["title"] == case["title"]]
    assert sent, "the letter's PDF lies on the case"


def _people(count: int) -> list[str]:
    """Distinct CPR numbers: the fictional register's persons first, then made-up ones it does not know."""
    known = [p["cpr"] for p in json.loads(REGISTERS.read_text())["persons"]]
    made_up = [f"{day % 28 + 1:02d}06{70 + day % 20:02d}-{3000 + day}" for day in range(count)]
    return (known + made_up)[:count]


def test_excel_dispatches_a_50_row_sheet_and_writes_each_rows_status_back(page, live_app, admin, caseworker):
    from tests.generation.conftest import upload_template, word_template  # skips without LibreOffice

    admin.post("/api/case-templates", json={"name": "Standardsag", "access": "group"})
    admin.post("/api/post/sender-identities", json={"name": "Testrup Kommune", "cvr": "39990059"})
    template = upload_template(admin, "Udbetaling", word_template("Kære {{ Navn }}", "Du får {{ Beløb }} kr."), for_merge="true")
    assert template.status_code == 201, template.json
    people = _people(50)
    rows = [["Navn", "CPR", "Beløb"]] + [[f"Borger {i + 1}", cpr, 100 + i] for i, cpr in enumerate(people)]
    rows[17][1] = "123"  # sheet row 18: not a CPR number
    open_pane(page, live_app, caseworker, {"host": "Excel", "sheet": rows})
    page.get_by_text("Overskrifter i række 1").wait_for()
    check = page.get_by_role("button", name="Kontrollér rækkerne")
    check.click()
    page.get_by_text("49 af 50 rækker er klar.").wait_for()
    page.get_by_text("Række 18:").wait_for()
    sheet, fills = page.evaluate("[window.__sheet, window.__fills]")
    assert sheet[0][3] == "Sagspost-status" and sheet[17][3].startswith("ugyldig") and sheet[16][3] == "ok, venter på brevet"
    assert list(fills) == ["17,3"]
    screenshot(page, "addin-excel-1-bad-row-marked")

    page.evaluate(f"window.__sheet[17][1] = {json.dumps(people[16])}")  # the caseworker corrects row 18
    check.click()
    send = page.get_by_role("button", name="Send 50 breve")
    send.wait_for(timeout=120_000)  # every letter is made (LibreOffice) before it can be sent
    assert page.evaluate("window.__fills") == {}
    page.locator("select[name=preview_row]").select_option("18")
    page.get_by_role("button", name="Forhåndsvis række").click()
    page.locator("iframe.preview").wait_for()
    screenshot(page, "addin-excel-2-ready-with-preview")
    send.click()
    page.get_by_text("Afsendelsen er oprettet.").wait_for(timeout=60_000)
    done = page.locator("#notice .banner.ok", has_text="Færdig")
    for _ in range(60):  # receipts are fetched when Sagspost polls Digital Post
        caseworker.post("/api/post/poll")
        if done.count():
            break
        page.wait_for_timeout(1000)
    done.wait_for()
    statuses = [row[3].split(":")[0] for row in page.evaluate("window.__sheet")[1:]]
    assert len(statuses) == 50 and set(statuses) <= {"leveret", "til print", "fejlet"}
    assert statuses[:16] == ["leveret"] * 16  # the register's persons have Digital Post
    screenshot(page, "addin-excel-3-statuses-written-back")


def test_word_inserts_a_document_from_a_case_template_then_saves_new_versions_of_it(page, live_app, admin, caseworker, new_case):
    from tests.generation.conftest import upload_template, word_template  # skips without LibreOffice

    template = upload_template(admin, "Kvittering", word_template("Sag {{ sag.nummer }}: {{ sag.titel }}"))
    assert template.status_code == 201, template.json
    case = new_case(caseworker, title="Ansøgning om tilskud")
    open_pane(page, live_app, caseworker, {"host": "Word", "docx": b64(docx_file("Sag og svar")), "pdf": b64(text_pdf("x"))})
    page.locator("li", has_text=case["number"]).get_by_role("radio").check()
    page.get_by_role("tab", name="Ny fra skabelon").click()
    page.get_by_label("Skabelon").select_option(label="Kvittering")
    page.get_by_role("button", name="Indsæt i dokumentet").click()
    page.locator("#notice .banner.ok", has_text="indsat").wait_for()
    inserted = page.evaluate("window.__officeRecord.inserted")
    assert inserted["location"] == "Replace" and inserted["size"] > 1000
    screenshot(page, "addin-word-4-from-template")

    (generated,) = caseworker.get("/api/documents", query_string={"scope": "case", "case_id": case["id"]}).json
    assert generated["status"] == "draft"
    page.get_by_role("tab", name="Journalisér").click()
    page.get_by_role("button", name="Gem ny version").click()
    page.locator("#notice .banner.ok", has_text="Ny version").wait_for()
    doc = caseworker.get(f"/api/documents/{generated['id']}").json
    main = next(f for f in doc["files"] if f["role"] == "main")
    assert len(main["versions"]) == 2
    screenshot(page, "addin-word-5-new-version")


def test_word_archives_the_open_document_as_final(page, live_app, caseworker, new_case):
    case = new_case(caseworker, title="Notat")
    open_pane(page, live_app, caseworker, {"host": "Word", "docx": b64(docx_file("Notat om mødet")), "pdf": b64(text_pdf("x"))})
    page.locator("li", has_text=case["number"]).get_by_role("radio").check()
    page.get_by_label("Titel").fill("Mødenotat")
    page.get_by_label("Endeligt").check()
    page.get_by_role("button", name="Gem på sagen").click()
    page.locator("#notice .banner.ok", has_text=f"Gemt på sag {case['number']}").wait_for()
    (doc,) = caseworker.get("/api/documents", query_string={"scope": "case", "case_id": case["id"]}).json
    assert doc["title"] == "Mødenotat" and doc["status"] == "final"
    assert page.evaluate("window.__officeRecord.settings")["sagspost.document"]["document_id"] == doc["id"]
    assert page.evaluate("window.__officeRecord.fileTypes") == ["compressed"]


def test_outlook_compose_attaches_a_case_document_and_marks_the_message_for_the_case(page, live_app, caseworker, new_case):
    case = new_case(caseworker, title="Byggesag")
    upload(caseworker, files=[("file", "tegning.pdf", text_pdf("Tegning"))], case_id=case["id"], title="Tegning")
    open_pane(page, live_app, caseworker, {"host": "Outlook", "composing": True})
    page.locator("li", has_text=case["number"]).get_by_role("radio").check()
    page.locator("li", has_text="Tegning").get_by_role("button", name="Vedhæft").click()
    page.locator("#notice .banner.ok", has_text="tegning.pdf er vedhæftet").wait_for()
    page.get_by_role("button", name="Journalisér, når e-mailen er sendt").click()
    page.locator("#notice .banner.ok", has_text=case["number"]).wait_for()
    record = page.evaluate("window.__officeRecord")
    assert record["attachments"][0]["name"] == "tegning.pdf" and record["attachments"][0]["size"] > 100
    assert record["headers"] == {"X-Sagspost-Case": case["id"]}
    screenshot(page, "addin-outlook-4-compose")


def test_the_sign_in_dialog_hands_the_pane_a_working_token(page, live_app, make_user):
    make_user("bo", password="correct horse battery")
    page.add_init_script(f"window.__officeSetup = {json.dumps({'host': 'Outlook', 'composing': True})};")
    page.add_init_script(FAKE_OFFICE)
    page.goto(live_app.url + "/addin/signin.html")
    page.get_by_label("Brugernavn").fill("bo")
    page.get_by_label("Adgangskode").fill("wrong password")
    page.get_by_role("button", name="Log ind").click()
    page.get_by_role("alert").filter(has_text="Forkert brugernavn eller adgangskode").wait_for()
    page.get_by_label("Adgangskode").fill("correct horse battery")
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_function("window.__officeRecord.messagedParent")
    session = json.loads(page.evaluate("window.__officeRecord.messagedParent"))
    me = requests.get(live_app.url + "/api/auth/me", headers={"Authorization": f"Bearer {session['token']}"}, timeout=10)
    assert me.json()["user"]["username"] == "bo"
    screenshot(page, "addin-signin-dialog")
