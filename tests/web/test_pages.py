"""The pages through a test client: signing in, security headers, rights, and the case journey's steps."""
from __future__ import annotations

import io
import re

from tests.files import text_pdf
from tests.web.conftest import PASSWORD, case_id_from, login_form, upload_to_case


def test_signed_out_visitors_are_sent_to_the_sign_in_page(app):
    client = app.test_client()
    response = client.get("/cases")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    page = client.get(response.location)
    assert page.status_code == 200 and "Log ind i Sagspost" in page.text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_signing_in_sets_the_same_cookie_session_as_the_api(app, sara):
    client = app.test_client()
    bad = login_form(client, username="sara", password="forkert-kodeord-123")
    assert bad.status_code == 401 and "Forkert brugernavn eller adgangskode" in bad.text
    good = login_form(client, username="sara", password=PASSWORD, next="/cases")
    assert good.status_code == 302 and good.location == "/cases"
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "sagspost_session=" in cookie
    me = client.get("/api/auth/me").json
    assert me["user"]["username"] == "sara" and me["csrf_token"]


def test_a_sign_in_posted_from_elsewhere_is_refused(app, sara):
    client = app.test_client()  # no visit to the sign-in page: no token in this browser's session
    refused = client.post("/login", data={"username": "sara", "password": PASSWORD, "csrf_token": "gæt"})
    assert refused.status_code == 400 and "Log ind igen" in refused.text
    assert client.get("/").status_code == 302  # not signed in


def test_sign_in_never_redirects_off_site(app, sara):
    response = login_form(app.test_client(), username="sara", password=PASSWORD, next="https://evil.example/")
    assert response.location == "/"


def test_a_form_without_the_csrf_token_is_refused(sara_web, template):
    response = sara_web.client.post("/cases/new", data={"template_id": template["id"], "title": "Uden token"})
    assert response.status_code == 302
    assert "CSRF" in sara_web.get("/").text  # the reason, shown on the next page
    assert "Uden token" not in sara_web.get("/cases?scope=all").text


def test_signing_out_ends_the_session(sara_web):
    assert sara_web.post("/logout").status_code == 302
    assert sara_web.get("/").status_code == 302


def test_caseworkers_see_no_administration_and_cannot_open_it(sara_web, boss_web):
    assert "Administration" not in sara_web.get("/").text
    assert sara_web.get("/admin/users").status_code == 403
    assert 'href="/admin"' in boss_web.get("/").text
    assert "sara" in boss_web.get("/admin/users").text


def test_the_language_switch_shows_english(sara_web):
    assert "Mine sager" in sara_web.get("/").text
    sara_web.post("/language", data={"lang": "en"})
    page = sara_web.get("/").text
    assert "My cases" in page and '<html lang="en">' in page


def test_create_a_case_upload_finalise_and_find_the_document(sara_web, template, caseworker):
    created = sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Elevsag <Jens>"})
    assert created.status_code == 302
    case_id = case_id_from(created.location)
    page = sara_web.get(f"/cases/{case_id}")
    assert "Elevsag &lt;Jens&gt;" in page.text and "<Jens>" not in page.text

    pdf = text_pdf("Bevilling af befordring til skolen")
    uploaded = sara_web.post(f"/cases/{case_id}/documents", data={"files": [(io.BytesIO(pdf), "bevilling.pdf")]},
                             content_type="multipart/form-data")
    assert uploaded.status_code == 302
    doc_id = re.search(r'href="/documents/([0-9a-f-]{36})"', sara_web.get(f"/cases/{case_id}").text).group(1)
    doc_page = sara_web.get(f"/documents/{doc_id}").text
    assert "Kladde" in doc_page and f"/documents/{doc_id}/files/" in doc_page

    image = re.search(r'src="(/documents/[^"]+/pages/0\.png)"', doc_page).group(1)
    png = sara_web.get(image)
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")

    assert sara_web.post(f"/documents/{doc_id}/status", data={"status": "final"}).status_code == 302
    assert "Endelig" in sara_web.get(f"/documents/{doc_id}").text

    results = sara_web.get("/search?q=befordring").text
    assert f'href="/documents/{doc_id}"' in results and "<mark>befordring</mark>" in results.lower()


def test_a_case_the_user_may_not_read_is_not_found(sara_web, caseworker, new_case):
    hidden = new_case(caseworker, title="Fortrolig")
    response = sara_web.get(f"/cases/{hidden['id']}")
    assert response.status_code == 404 and "Fortrolig" not in response.text




def test_a_document_is_generated_on_the_case_from_a_template(sara_web, boss, template):
    from tests.generation.conftest import upload_template, word_template

    made = upload_template(boss, "Kvittering", word_template("Sag {{ sag.nummer }}: {{ sag.titel }}"))
    assert made.status_code == 201, made.json
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Skolesag"}).location)
    assert "Dan dokument fra skabelon" in sara_web.get(f"/cases/{case_id}").text
    response = sara_web.post(f"/cases/{case_id}/generate", data={"template_id": made.json["id"]})
    assert response.status_code == 302 and "/documents/" in response.location
    page = sara_web.get(response.location).text
    assert "Kvittering" in page and "Kladde" in page and "Kvittering.docx" in page


def test_without_google_configured_there_is_no_google_button(app):
    assert "Google" not in app.test_client().get("/login").text


def test_a_party_added_on_the_case_page_shows_the_case_on_its_contact_page(sara_web, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Elevsag Ida"}).location)
    added = sara_web.post(f"/cases/{case_id}/parties", data={"kind": "person", "number": "020516-4100", "name": "Ida Fiktivsen",
                                                             "is_primary": "on"})
    assert added.status_code == 302
    parties = sara_web.get(f"/cases/{case_id}/parties").text
    contact_id = re.search(r'href="/contacts/([0-9a-f-]{36})">Ida Fiktivsen', parties).group(1)
    assert "Elevsag Ida" in sara_web.get(f"/contacts/{contact_id}").text
    assert f"/contacts/{contact_id}" in sara_web.get("/contacts?q=ida").text
    # the same number again is the same contact, not a second one
    sara_web.post(f"/cases/{case_id}/parties", data={"kind": "person", "number": "0205164100", "name": "Ida F."})
    assert sara_web.get("/contacts?q=ida").text.count("/contacts/") == 1


def test_members_are_added_and_removed_on_the_case_page(sara_web, sara, caseworker, template, make_group):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Delt sag"}).location)
    assert caseworker.get(f"/api/cases/{case_id}").status_code == 404
    sara_web.post(f"/cases/{case_id}/members", data={"subject": f"user:{caseworker.user_id}", "access": "read"})
    assert caseworker.get(f"/api/cases/{case_id}").json["my_access"] == "read"
    members = sara_web.get(f"/cases/{case_id}/members").text
    member_id = re.search(r'action="/cases/[0-9a-f-]{36}/members/([0-9a-f-]{36})/remove"', members).group(1)
    assert 'aria-label="Fjern: anna"' in members  # which of the many "Fjern" buttons, for a screen reader
    sara_web.post(f"/cases/{case_id}/members/{member_id}/remove")
    assert caseworker.get(f"/api/cases/{case_id}").status_code == 404


def test_a_word_document_is_previewed_as_the_pdf_it_would_be_sent_as(sara_web, sara, template):
    from tests.files import docx_file

    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Wordsag"}).location)
    doc = upload_to_case(sara, case_id, "afgørelse.docx", docx_file("Afgørelse om befordring"))
    page = sara_web.get(f"/documents/{doc['id']}").text
    assert f'href="/documents/{doc["id"]}/preview"' in page
    shown = sara_web.get(f"/documents/{doc['id']}/preview").text
    assert shown.count('src="data:image/png;base64,') == 1


def test_search_results_escape_what_users_wrote(sara_web, template):
    sara_web.post("/cases/new", data={"template_id": template["id"], "title": '<img src=x onerror="alert(1)"> befordring'})
    results = sara_web.get("/search?q=befordring").text
    assert "<mark>befordring</mark>" in results.lower()
    assert "<img src=x" not in results and "&lt;img src=x" in results


def test_a_draft_gets_a_bilag_then_goes_to_the_trash_and_comes_back(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Bilagssag"}).location)
    doc = upload_to_case(sara, case_id, "brev.pdf", text_pdf("Brev"))
    sara_web.post(f"/documents/{doc['id']}/files", data={"file": (io.BytesIO(text_pdf("Bilag")), "bilag.pdf")},
                  content_type="multipart/form-data")
    assert [f["role"] for f in sara.get(f"/api/documents/{doc['id']}").json["files"]] == ["main", "attachment"]
    assert sara_web.post(f"/documents/{doc['id']}/delete").location == f"/cases/{case_id}"
    assert "brev.pdf" not in sara_web.get(f"/cases/{case_id}").text
    assert "brev.pdf" in sara_web.get("/admin/trash").text
    sara_web.post(f"/admin/trash/documents/{doc['id']}/restore")
    assert "brev.pdf" in sara_web.get(f"/cases/{case_id}").text


def test_only_holders_of_cases_delete_see_the_delete_button(sara_web, boss_web, template):
    case_id = case_id_from(boss_web.post("/cases/new", data={"template_id": template["id"], "title": "Slettes"}).location)
    assert "Læg sagen i papirkurven" in boss_web.get(f"/cases/{case_id}").text
    mine = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Min"}).location)
    assert "Læg sagen i papirkurven" not in sara_web.get(f"/cases/{mine}").text
    boss_web.post(f"/cases/{case_id}/delete")
    assert boss_web.get(f"/cases/{case_id}").status_code == 404


def test_case_and_document_details_are_edited_on_their_pages(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Før"}).location)
    sara_web.post(f"/cases/{case_id}/edit", data={"title": "Efter", "description": "Ny beskrivelse", "tags": "skole, bus",
                                                  "access": "public"})
    case = sara.get(f"/api/cases/{case_id}").json
    assert (case["title"], case["tags"], case["access"]) == ("Efter", ["bus", "skole"], "public")
    doc = upload_to_case(sara, case_id, "brev.pdf", text_pdf("Brev"))
    sara_web.post(f"/documents/{doc['id']}/edit", data={"title": "Svarbrev", "direction": "outgoing",
                                                        "document_date": "2026-01-15"})
    changed = sara.get(f"/api/documents/{doc['id']}").json
    assert (changed["title"], changed["direction"], changed["document_date"]) == ("Svarbrev", "outgoing", "2026-01-15")


def test_the_case_list_filters_by_journal_number_and_sorts(sara_web, template, plan):
    other_key = plan["keys"]["00.01.02"]["id"]
    sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Bsag"})
    sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Asag", "journal_key_id": other_key})
    listed = sara_web.get(f"/cases?scope=mine&journal_key_id={other_key}").text
    assert "Asag" in listed and "Bsag" not in listed
    by_title = sara_web.get("/cases?scope=mine&sort=title").text
    assert by_title.index("Asag") < by_title.index("Bsag")


def test_an_uploaded_page_is_never_shown_in_our_origin(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Farlig"}).location)
    doc = upload_to_case(sara, case_id, "side.html", b"<html><script>alert(1)</script></html>")
    page = sara_web.get(f"/documents/{doc['id']}").text
    assert "<script>alert" not in page
    file_id = doc["files"][0]["id"]
    download = sara_web.get(f"/documents/{doc['id']}/files/{file_id}/download?inline=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_search_is_saved_run_again_and_deleted(sara_web, template):
    sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Befordring af elever"})
    saved = sara_web.post("/search/saved", data={"q": "befordring", "types": "case", "name": "Mine befordringssager"})
    assert saved.status_code == 302
    page = sara_web.get("/search").text
    saved_id = re.search(r'href="/search/saved/([0-9a-f-]{36})">Mine befordringssager', page).group(1)
    again = sara_web.get(f"/search/saved/{saved_id}")
    assert again.status_code == 302 and "q=befordring" in again.location and "types=case" in again.location
    assert "Befordring af elever" in sara_web.get(again.location).text
    sara_web.post(f"/search/saved/{saved_id}/delete")
    assert "Mine befordringssager" not in sara_web.get("/search").text


def test_a_facet_narrows_the_results_and_can_be_removed(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Befordring"}).location)
    upload_to_case(sara, case_id, "befordring.pdf", text_pdf("Befordring til skolen"))
    both = sara_web.get("/search?q=befordring").text
    assert both.count('<li class="hit">') == 2
    narrowed_url = re.search(r'href="(/search\?[^"]*types=document[^"]*)"', both).group(1).replace("&amp;", "&")
    narrowed = sara_web.get(narrowed_url).text
    assert narrowed.count('<li class="hit">') == 1 and '<h3><a href="/documents/' in narrowed
    assert "Fjern filter" in narrowed


def test_a_refused_case_keeps_what_was_typed(sara_web):
    refused = sara_web.post("/cases/new", data={"title": "Uden skabelon", "description": "Vigtig beskrivelse"})
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text and 'value="Uden skabelon"' in refused.text and "Vigtig beskrivelse</textarea>" in refused.text


def test_the_language_follows_the_browser_and_survives_signing_in(app, sara):
    client = app.test_client()
    assert "Sign in to Sagspost" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    client.post("/language", data={"lang": "en"})
    login_form(client, username="sara", password=PASSWORD)
    assert "My cases" in client.get("/").text


def test_a_merged_pdf_is_split_and_a_page_in_doubt_is_named(sara_web):
    good = text_pdf("Mette Fiktivsen\nCPR 120385-1100\nSide 1", "Side 2 af Mettes brev", "Jens Fiktivsen\n2107831101")
    made = sara_web.post("/post/merge", data={"pdf": (io.BytesIO(good), "samlet.pdf")}, content_type="multipart/form-data")
    page = sara_web.get(made.location).text
    assert "Send 2 breve" in page and page.count('class="row-status"') == 2
    image = sara_web.get(made.location + "/rows/1/pages/1.png")  # the letter's second page, "Side 2 af Mettes brev"
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")

    doubtful = text_pdf("Til 120385-1100 og 210783-1101")
    made = sara_web.post("/post/merge", data={"pdf": (io.BytesIO(doubtful), "tvivl.pdf")}, content_type="multipart/form-data")
    page = sara_web.get(made.location).text
    assert "Side 1</strong>" in page and "Send" not in page.split('id="rows-h"')[1]


def test_a_personal_document_is_put_on_a_case(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Modtager"}).location)
    sara_web.post("/documents", data={"files": (io.BytesIO(text_pdf("Notat")), "notat.pdf")}, content_type="multipart/form-data")
    (doc,) = sara.get("/api/documents?scope=mine").json
    page = sara_web.get(f"/documents/{doc['id']}").text
    assert "Læg på en sag" in page and "Modtager" in page
    sara_web.post(f"/documents/{doc['id']}/move", data={"case_id": case_id})
    assert sara.get(f"/api/documents/{doc['id']}").json["case_id"] == case_id
    assert sara.get("/api/documents?scope=mine").json == []
    assert "Læg på en sag" not in sara_web.get(f"/documents/{doc['id']}").text


def test_a_contact_is_created_and_its_address_changed(sara_web, sara):
    made = sara_web.post("/contacts", data={"kind": "organisation", "number": "25313763", "name": "Bageriet ApS",
                                            "street": "Hovedgaden 1", "postal_code": "9999", "city": "Testrup"})
    assert made.status_code == 302 and "/contacts/" in made.location
    contact_id = made.location.rsplit("/", 1)[1]
    page = sara_web.get(made.location).text
    assert "Bageriet ApS" in page and "25313763" in page and "Hovedgaden 1" in page
    sara_web.post(f"/contacts/{contact_id}/edit", data={"name": "Bageriet ApS", "street": "Torvet 2", "postal_code": "9999",
                                                        "city": "Testrup"})
    assert sara.get(f"/api/contacts/{contact_id}").json["street"] == "Torvet 2"


def test_a_document_is_sent_as_a_letter_from_its_page(sara_web, sara, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Brevsag"}).location)
    doc = upload_to_case(sara, case_id, "svar.pdf", text_pdf("Svar"))
    link = re.search(r'href="(/post/send\?[^"]+)">Send som brev', sara_web.get(f"/documents/{doc['id']}").text).group(1)
    form = sara_web.get(link.replace("&amp;", "&")).text
    assert f'<option value="{doc["id"]}" selected>svar.pdf</option>' in form


def test_a_note_is_written_with_its_category(sara_web, boss_web, template):
    boss_web.post("/admin/lists/note-categories", data={"name": "Telefonnotat"})
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Notesag"}).location)
    notes = sara_web.get(f"/cases/{case_id}/notes").text
    category = re.search(r'<option value="([0-9a-f-]{36})">Telefonnotat</option>', notes).group(1)
    sara_web.post(f"/cases/{case_id}/notes", data={"text": "Moderen ringede <b>i dag</b>", "category_id": category})
    notes = sara_web.get(f"/cases/{case_id}/notes").text
    assert "Moderen ringede &lt;b&gt;i dag&lt;/b&gt;" in notes and "· Telefonnotat" in notes
    assert "Tilføjede en note" in sara_web.get(f"/cases/{case_id}/history").text


def test_an_address_that_does_not_exist_is_a_page_for_a_browser_and_json_for_the_api(sara_web):
    page = sara_web.get("/cases/not-a-case-id", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Siden findes ikke." in page.text and 'href="/"' in page.text

    api = sara_web.get("/api/cases/not-a-case-id", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json["code"] == 404
