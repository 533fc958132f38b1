"""The main journeys in a real browser (Debian's Chromium through Playwright) against the app over HTTP.

Screenshots of each step are saved under test-artifacts/.
"""
from __future__ import annotations

import base64
import io
import re

import pytest

from tests.files import text_pdf, xlsx_file
from tests.generation.conftest import upload_template, word_template
from tests.live import screenshot
from tests.post.conftest import post_simulator  # noqa: F401  (a real NgDP simulator over HTTP)
from tests.web.conftest import PASSWORD

ADULT = "120385-1100"  # Mette Fiktivsen, fictional, in server/post/data/registers.json
FATHER = "210783-1101"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DROP_FILE = """async ({data, name}) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "application/pdf"}));
  const zone = document.querySelector("form[data-dropzone]");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


LOADED_WIDTH = "img => img.decode().then(() => img.naturalWidth)"


@pytest.fixture
def app_overrides(post_simulator):  # noqa: F811
    return {"post_api_url": post_simulator.api_url}


@pytest.fixture
def console_errors(page):
    """Script errors and CSP violations the page reports; a journey ends with none."""
    errors = []
    page.on("console", lambda message: errors.append(message.text + str(message.location)) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def sign_in(page, live_app, username: str) -> None:
    page.goto(live_app.url + "/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(live_app.url + "/")


def test_create_a_case_drop_a_document_finalise_it_and_find_it(page, live_app, sara, template, console_errors):
    sign_in(page, live_app, "sara")
    screenshot(page, "journey-1-min-side")
    page.get_by_role("link", name="Opret sag").first.click()
    page.get_by_label("Sagsskabelon").select_option(label="Personalesag")
    page.get_by_label("Titel", exact=True).fill("Ansættelse af Jens Hansen")
    page.get_by_role("button", name="Opret sag").click()
    page.get_by_role("heading", name="Ansættelse af Jens Hansen").wait_for()
    screenshot(page, "journey-1-case-created")

    pdf = text_pdf("Ansættelseskontrakt\nStillingen som skolepædagog tiltrædes 1. august.")
    with page.expect_navigation():
        page.evaluate(DROP_FILE, {"data": base64.b64encode(pdf).decode(), "name": "kontrakt.pdf"})
    page.get_by_role("link", name="kontrakt.pdf").click()
    page.get_by_role("img", name="Side 1 af kontrakt.pdf").wait_for()
    assert page.get_by_role("img", name="Side 1 af kontrakt.pdf").evaluate(LOADED_WIDTH) > 100
    screenshot(page, "journey-1-document-preview")
    page.get_by_role("button", name="Markér som endelig").click()
    assert page.locator("#doc-status").inner_text() == "Endelig"

    page.get_by_label("Søg i sager, dokumenter og kontakter").fill("skolepædagog")
    page.get_by_label("Søg i sager, dokumenter og kontakter").press("Enter")
    hit = page.locator(".hit", has_text="kontrakt.pdf")
    hit.wait_for()
    assert hit.locator("mark").first.inner_text().lower() == "skolepædagog"
    screenshot(page, "journey-1-search")
    # typing in the page's own box searches as you type: the results change without submitting
    page.get_by_label("Søg efter").fill("ansættelse")
    page.locator(".hit", has_text="Ansættelse af Jens Hansen").wait_for()
    assert "q=ans%C3%A6ttelse" in page.url
    assert console_errors == []


def test_send_a_letter_and_see_it_delivered_live(page, live_app, sara, boss, post_simulator, console_errors):  # noqa: F811
    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    assert boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).status_code == 201
    sign_in(page, live_app, "sara")
    page.get_by_role("link", name="Digital Post").click()
    page.get_by_role("link", name="Send brev").click()
    page.get_by_label("Titel (modtageren ser den)").fill("Svar på ansøgning")
    page.get_by_label("… eller upload brevet (PDF, Word)").set_input_files(
        files=[{"name": "svar.pdf", "mimeType": "application/pdf", "buffer": text_pdf("Kære Mette\nDu får hermed svar.")}])
    page.get_by_label("CPR-, CVR- eller P-numre").fill(ADULT)
    screenshot(page, "journey-2-send-form")
    page.get_by_role("button", name="Forhåndsvis").click()
    recipient = page.get_by_role("row", name="Mette Fiktivsen")
    assert "Digital" in recipient.inner_text()
    assert page.get_by_role("img", name="Side 1 af Svar på ansøgning").evaluate(LOADED_WIDTH) > 100
    screenshot(page, "journey-2-preview")
    assert post_simulator.deliveries()["total"] == 0  # nothing is sent by looking
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("heading", name="Svar på ansøgning").wait_for()
    status = page.locator("#letters .letter-status").first
    assert status.inner_text() == "Sendt"
    assert "Mette Fiktivsen" in page.locator("#letters").inner_text()

    # the log, too, follows the letters while they are on their way
    page.get_by_role("link", name="Afsendelser").first.click()
    assert "Sendt: 1" in page.locator("#log").inner_text()
    assert page.locator("#log[hx-trigger]").count() == 1
    page.go_back()

    # the receipt arrives while the page is open: the letters' table updates by itself (htmx)
    assert sara.post("/api/post/poll").status_code == 202
    page.locator("#letters .letter-status", has_text="Leveret").wait_for(timeout=10_000)
    assert "Leveret 1" in page.locator("#letters-summary").inner_text()  # the live region screen readers hear
    screenshot(page, "journey-2-delivered")
    page.get_by_role("link", name="Vis brevet til Mette Fiktivsen").click()
    assert page.get_by_role("img", name="Side 1 af svar.pdf").evaluate(LOADED_WIDTH) > 100
    assert post_simulator.deliveries()["total"] == 1
    assert console_errors == []


def test_mail_merge_shows_the_bad_row_then_sends_the_corrected_sheet(page, live_app, sara, boss, post_simulator,  # noqa: F811
                                                                      console_errors):
    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    assert boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).status_code == 201
    made = upload_template(boss, "Udbetaling", word_template("Kære {{ Navn }}", "Du får {{ Beløb }} kr. udbetalt."),
                           for_merge="true")
    assert made.status_code == 201, made.json
    header = ["CPR", "Navn", "Beløb"]
    sign_in(page, live_app, "sara")
    page.goto(live_app.url + "/post/merge")
    page.get_by_label("Fletteskabelon").select_option(label="Udbetaling")
    bad = xlsx_file([header, [ADULT, "Mette Fiktivsen", 1200], ["010100-00", "Forkert Nummer", 50]])
    page.get_by_label("Regneark (.xlsx eller .csv)").set_input_files(
        files=[{"name": "udbetaling.xlsx", "mimeType": XLSX, "buffer": bad}])
    page.get_by_role("button", name="Kontrollér og flet").click()
    problems = page.locator(".problems")
    problems.wait_for()
    assert "Række 3" in problems.inner_text() and "010100-00" not in page.content()
    assert page.locator("tr.bad-row").count() == 1
    screenshot(page, "journey-3-merge-bad-row")

    page.get_by_role("link", name="Ny fletning").click()
    page.get_by_label("Fletteskabelon").select_option(label="Udbetaling")
    good = xlsx_file([header, [ADULT, "Mette Fiktivsen", 1200], [FATHER, "Jens Fiktivsen", 50]])
    page.get_by_label("Regneark (.xlsx eller .csv)").set_input_files(
        files=[{"name": "udbetaling.xlsx", "mimeType": XLSX, "buffer": good}])
    page.get_by_role("button", name="Kontrollér og flet").click()
    page.get_by_role("button", name="Send 2 breve").wait_for(timeout=60_000)  # letters rendered by LibreOffice
    page.get_by_role("link", name="Vis brevet i række 3").click()
    assert page.get_by_role("img", name="Side 1 af brevet i række 3").evaluate(LOADED_WIDTH) > 100
    screenshot(page, "journey-3-merge-ready")
    page.get_by_label("Titel (modtageren ser den)").fill("Udbetaling 2026")
    page.get_by_role("button", name="Send 2 breve").click()
    page.get_by_role("heading", name="Udbetaling 2026").wait_for()
    assert page.locator("#letters .letter-status", has_text="Sendt").count() == 2
    screenshot(page, "journey-3-merge-sent")
    assert post_simulator.deliveries()["total"] == 2
    assert console_errors == []


def test_statistics_chart_the_letters_per_month_and_paper_letters_wait_to_be_printed(boss, boss_web, post_simulator):  # noqa: F811
    from tests.documents.conftest import upload

    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    sender = boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json
    letter = upload(boss, files=[("file", "brev.pdf", text_pdf("Brev"))]).json
    post_simulator.set_contacts("EXEMPT", FATHER.replace("-", ""))  # he gets his letter on paper
    sent = boss.post("/api/dispatches", json={"title": "Svar", "sender_identity_id": sender["id"], "main_document_id": letter["id"],
                                              "recipients": [{"type": "cpr", "number": ADULT}, {"type": "cpr", "number": FATHER}]})
    assert sent.status_code == 201, sent.json
    dispatch_id = sent.json["id"]
    polled = boss_web.get(f"/post/dispatches/{dispatch_id}/letters?status=done", headers={"HX-Request": "true"})
    assert polled.status_code == 200 and 'id="letters"' in polled.text
    changed = boss_web.get(f"/post/dispatches/{dispatch_id}/letters?status=queued", headers={"HX-Request": "true"})
    assert changed.status_code == 204 and changed.headers["HX-Refresh"] == "true"  # the page reloads itself
    page = boss_web.get("/post/statistics?by=month").text
    assert '<svg role="img"' in page and 'class="bar-digital"' in page
    row = re.search(r'<tr><th scope="row">[^<]+</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>', page)
    assert row.groups() == ("1", "1", "0", "2")
    to_print = boss_web.get("/post/to-print").text
    assert "Vis brevet til Jens Fiktivsen" in to_print and 'href="/post/to-print.pdf"' in to_print
    combined = boss_web.get("/post/to-print.pdf")
    assert combined.mimetype == "application/pdf" and combined.data.startswith(b"%PDF")


def test_a_known_contact_is_found_by_name_and_added_as_party(page, live_app, sara, template, console_errors):
    sara.post("/api/contacts", json={"kind": "organisation", "name": "Testrup Busselskab"})
    case = sara.post("/api/cases", json={"template_id": template["id"], "title": "Befordring"}).json
    sign_in(page, live_app, "sara")
    page.goto(f"{live_app.url}/cases/{case['id']}/parties")
    page.get_by_label("Find en kendt kontakt").press_sequentially("busse")
    page.get_by_label("Testrup Busselskab").check()
    page.get_by_role("button", name="Tilføj part").click()
    page.get_by_role("link", name="Testrup Busselskab").wait_for()
    assert [p["contact"]["name"] for p in sara.get(f"/api/cases/{case['id']}/parties").json] == ["Testrup Busselskab"]
    assert console_errors == []


def test_a_letter_written_from_a_template_is_previewed_with_the_case_filled_in(boss, boss_web, template, post_simulator):  # noqa: F811
    from tests.generation.conftest import upload_template, word_template

    assert boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).status_code == 201
    made = upload_template(boss, "Svarbrev", word_template("Vedrørende sag {{ sag.nummer }}: {{ sag.titel }}"))
    assert made.status_code == 201, made.json
    case = boss.post("/api/cases", json={"template_id": template["id"], "title": "Befordring til skole"}).json
    form = boss_web.get(f"/post/send?case_id={case['id']}").text
    assert "Svarbrev" in form
    sender = boss.get("/api/post/sender-identities").json[0]["id"]
    shown = boss_web.post("/post/send", data={"case_id": case["id"], "title": "Svar", "sender_identity_id": sender,
                                              "letter_template_id": made.json["id"], "numbers": ADULT, "copies": FATHER,
                                              "action": "preview"})
    assert shown.status_code == 200 and "Mette Fiktivsen" in shown.text and shown.text.count("data:image/png") == 1
    assert "Jens Fiktivsen (kopi)" in shown.text
    drafts = boss.get(f"/api/documents?scope=case&case_id={case['id']}").json
    assert [d["title"] for d in drafts] == ["Svar"]


def test_a_refused_letter_shows_the_form_again_with_what_was_typed(boss, boss_web, post_simulator):  # noqa: F811
    assert boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).status_code == 201
    sender = boss.get("/api/post/sender-identities").json[0]["id"]
    letter = boss_web.post("/documents", data={"files": (io.BytesIO(text_pdf("Brev")), "brev.pdf")}, content_type="multipart/form-data")
    assert letter.status_code == 302
    doc_id = boss.get("/api/documents?scope=mine").json[0]["id"]
    refused = boss_web.post("/post/send", data={"title": "Vigtigt brev", "sender_identity_id": sender, "main_document_id": doc_id,
                                                "numbers": "12345", "copies": ""})
    assert refused.status_code in (400, 422)
    assert 'role="alert"' in refused.text and 'value="Vigtigt brev"' in refused.text and ">12345</textarea>" in refused.text
    assert post_simulator.deliveries()["total"] == 0


def test_an_approver_sees_the_dispatch_but_no_link_to_a_case_they_may_not_read(boss, sara, boss_web, template,
                                                                               post_simulator):  # noqa: F811
    from tests.documents.conftest import upload

    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    sender = boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json
    case = sara.post("/api/cases", json={"template_id": template["id"], "title": "Fortrolig"}).json
    letter = upload(sara, files=[("file", "brev.pdf", text_pdf("Brev"))], case_id=case["id"]).json
    sent = sara.post("/api/dispatches", json={"title": "Svar", "sender_identity_id": sender["id"], "case_id": case["id"],
                                              "main_document_id": letter["id"], "recipients": [{"type": "cpr", "number": ADULT}]})
    assert sent.status_code == 201, sent.json
    page = boss_web.get(f"/post/dispatches/{sent.json['id']}").text
    assert "Svar" in page and f"/cases/{case['id']}" not in page


def test_an_approver_finds_the_dispatch_on_min_side_and_approves_it(boss, boss_web, sara, sara_web, post_simulator):  # noqa: F811
    from tests.documents.conftest import upload

    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    sender = boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json
    rule = boss.post(f"/api/post/sender-identities/{sender['id']}/rules", json={"user_id": str(sara.user_id), "requires_approval": True})
    assert rule.status_code == 201, rule.json
    letter = upload(sara, files=[("file", "brev.pdf", text_pdf("Brev"))]).json
    sent = sara.post("/api/dispatches", json={"title": "Til godkendelse", "sender_identity_id": sender["id"],
                                              "main_document_id": letter["id"], "recipients": [{"type": "cpr", "number": ADULT}]})
    assert sent.json["status"] == "awaiting_approval"
    assert "afsendelser til godkendelse" not in sara_web.get("/").text  # caseworkers approve nothing
    home = boss_web.get("/").text
    assert f'href="/post/dispatches/{sent.json["id"]}">Til godkendelse' in home
    boss_web.post(f"/post/dispatches/{sent.json['id']}/approve")
    assert boss.get(f"/api/dispatches/{sent.json['id']}").json["status"] == "done"
    assert "Til godkendelse" not in boss_web.get("/").text.split("approve-h")[1].split("</section>")[0]


def test_a_letter_sent_later_waits_and_can_be_cancelled(boss, boss_web, post_simulator):  # noqa: F811
    from tests.documents.conftest import upload

    assert boss.post("/api/case-templates", json={"name": "Standardsag", "access": "group"}).status_code == 201
    sender = boss.post("/api/post/sender-identities", json={"name": "Testrup Skole", "cvr": "39990059"}).json
    letter = upload(boss, files=[("file", "brev.pdf", text_pdf("Brev"))]).json
    sent = boss_web.post("/post/send", data={"title": "Senere", "sender_identity_id": sender["id"], "main_document_id": letter["id"],
                                             "numbers": ADULT, "send_at": "2099-01-02T08:30"})
    assert sent.status_code == 302, sent.text
    dispatch_id = sent.location.rsplit("/", 1)[1]
    dispatch = boss.get(f"/api/dispatches/{dispatch_id}").json
    assert dispatch["status"] == "scheduled" and dispatch["send_at"].startswith("2099-01-02T07:30")  # 08:30 Danish time
    page = boss_web.get(sent.location).text
    assert "02.01.2099 08.30" in page and "Annullér de breve der ikke er sendt" in page
    boss_web.post(f"/post/dispatches/{dispatch_id}/cancel")
    assert boss.get(f"/api/dispatches/{dispatch_id}").json["status"] == "cancelled"
    assert post_simulator.deliveries()["total"] == 0
