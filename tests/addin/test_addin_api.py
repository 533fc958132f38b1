"""The add-in API: suggestions for a message, where it is archived, archiving it, signing the pane in."""
import pytest

from server.auth import services as auth
from tests.addin.conftest import OTHER_TENANT, TENANT
from tests.documents.conftest import upload
from tests.files import email_file

MESSAGE_ID = "<sfo-2026@example.dk>"


def archive(caller, case, eml=None, **form):
    return upload(caller, "/api/addin/messages", files=[("file", "message.eml", eml or email_file(message_id=MESSAGE_ID))],
                  case_id=case["id"], **form)


@pytest.fixture
def sender_case(caseworker, new_case):
    """A case where Mette (the e-mail's sender) is a party."""
    case = new_case(caseworker, title="SFO-plads Mette")
    contact = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Mette", "last_name": "Jensen",
                                                     "email": "mette@example.dk"}).json
    assert caseworker.post(f"/api/cases/{case['id']}/parties", json={"contact_id": contact["id"]}).status_code == 201
    return case


def test_suggestions_name_why_each_case_is_suggested(caseworker, new_case, sender_case):
    other = new_case(caseworker, title="Anden sag")
    found = caseworker.get("/api/addin/suggestions?sender=mette@example.dk&conversation_id=conv-1").json
    by_case = {s["case"]["id"]: s["reasons"] for s in found}
    assert by_case[sender_case["id"]] == ["sender_is_party", "recent"]
    assert by_case[other["id"]] == ["recent"]
    assert found[0]["case"]["id"] == sender_case["id"]  # the stronger reason first
    assert found[0]["case"]["number"] == sender_case["number"]


def test_archiving_shows_where_and_later_messages_of_the_conversation_are_suggested_there(caseworker, new_case, sender_case):
    target = new_case(caseworker, title="Klage")
    response = archive(caseworker, target, conversation_id="conv-1", final="true",
                       eml=email_file(message_id=MESSAGE_ID, attachments=[("bilag.pdf", b"%PDF-1.4 x", "application/pdf"),
                                                                          ("foto.jpg", b"\xff\xd8\xff", "image/jpeg")]),
                       keep_attachments="bilag.pdf")
    assert response.status_code == 201, response.json
    doc = response.json["document"]
    assert doc["case_id"] == target["id"] and doc["status"] == "final"
    assert [f["name"] for f in doc["files"] if f["role"] == "attachment"] == ["bilag.pdf"]

    where = caseworker.get("/api/addin/archived", query_string={"message_id": MESSAGE_ID}).json
    assert [(w["case_number"], w["document_id"]) for w in where] == [(target["number"], doc["id"])]
    later = caseworker.get("/api/addin/suggestions", query_string={"conversation_id": "conv-1", "message_id": "<next@example.dk>"}).json
    assert later[0]["case"]["id"] == target["id"] and later[0]["reasons"][0] == "same_conversation"
    again = caseworker.get("/api/addin/suggestions", query_string={"message_id": MESSAGE_ID}).json
    assert again[0]["reasons"][0] == "message_archived"


def test_archiving_the_same_message_again_stores_nothing_new(caseworker, new_case):
    case = new_case(caseworker)
    first = archive(caseworker, case)
    second = archive(caseworker, case)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["duplicate"] is True and second.json["document"]["id"] == first.json["document"]["id"]


def test_others_do_not_learn_where_a_message_is_archived_on_cases_they_cannot_read(caseworker, make_user, new_case):
    case = new_case(caseworker)  # the template's cases are for members only
    archive(caseworker, case, conversation_id="conv-9")
    bo = make_user("bo")
    assert bo.get("/api/addin/archived", query_string={"message_id": MESSAGE_ID}).json == []
    suggested = bo.get("/api/addin/suggestions", query_string={"conversation_id": "conv-9", "message_id": MESSAGE_ID}).json
    assert case["id"] not in {s["case"]["id"] for s in suggested}
    assert archive(bo, case).status_code == 404


def test_archiving_needs_a_message(caseworker, new_case):
    case = new_case(caseworker)
    response = caseworker.post("/api/addin/messages", data={"case_id": case["id"]}, content_type="multipart/form-data")
    assert response.status_code == 422 and "item_id" in response.json["message"]


# ---------------------------------------------------------------- signing the pane in


def test_the_dialog_sign_in_gives_the_pane_a_working_token(make_user):
    anna = make_user("anna", password="correct horse battery")
    response = anna.client.post("/api/addin/sign-in", json={"username": "anna", "password": "correct horse battery"})
    assert response.status_code == 200, response.json
    me = anna.client.get("/api/auth/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.json["user"]["username"] == "anna"
    wrong = anna.client.post("/api/addin/sign-in", json={"username": "anna", "password": "wrong password!"})
    assert wrong.status_code == 401


def _link(app, username, subject):
    with app.app_context():
        session = app.extensions["sagspost.sessionmaker"]()
        auth.link_identity(session, None, auth.find_user(session, username), "entra", subject, None)
        session.commit()
        session.close()


def test_single_sign_on_with_a_linked_microsoft_account(entra_app, idp, caseworker):
    _link(entra_app, "anna", f"{TENANT}:oid-anna")
    response = caseworker.client.post("/api/addin/entra-sign-in", json={"token": idp.token()})
    assert response.status_code == 200, response.json
    me = caseworker.client.get("/api/auth/me", headers={"Authorization": f"Bearer {response.json['token']}"})
    assert me.json["user"]["username"] == "anna"


def test_an_unlinked_microsoft_account_is_refused_unless_the_administrator_allows_linking_by_email(entra_app, idp, make_user):
    anna = make_user("anna", email="anna@kommune.dk")
    refused = anna.client.post("/api/addin/entra-sign-in", json={"token": idp.token()})
    assert refused.status_code == 403 and "administrator" in refused.json["message"]


@pytest.mark.parametrize("claims, reason", [
    ({"tenant": OTHER_TENANT}, "organisation"),
    ({"scope": "User.Read"}, "access_as_user"),
    ({"lifetime": -3600}, "expired"),
])
def test_microsoft_tokens_are_checked(entra_app, idp, caseworker, claims, reason):
    _link(entra_app, "anna", f"{TENANT}:oid-anna")
    response = caseworker.client.post("/api/addin/entra-sign-in", json={"token": idp.token(**claims)})
    assert response.status_code == 401 and reason in response.json["message"]


class TestLinkByEmail:
    @pytest.fixture
    def app_overrides(self):
        from tests.addin.conftest import CLIENT_ID

        return {"entra_client_id": CLIENT_ID, "entra_tenants": TENANT, "entra_link_by_email": True}

    def test_the_first_sign_in_links_by_email_and_later_ones_by_object_id(self, entra_app, idp, make_user):
        anna = make_user("anna", email="Anna@Kommune.dk")
        first = anna.client.post("/api/addin/entra-sign-in", json={"token": idp.token()})
        assert first.status_code == 200, first.json
        # the e-mail changes in the tenant; the link by object id still finds Anna
        later = anna.client.post("/api/addin/entra-sign-in", json={"token": idp.token(email="anna.new@kommune.dk")})
        assert later.status_code == 200 and later.json["user_id"] == str(anna.user_id)


def test_without_getAsFileAsync_the_server_reads_the_message_through_graph_on_behalf_of_the_user(entra_app, idp, caseworker, new_case):
    _link(entra_app, "anna", f"{TENANT}:oid-anna")
    idp.messages["AAMkAD-rest-id"] = email_file(message_id="<graph@example.dk>", subject="Via Graph")
    case = new_case(caseworker)
    sso = idp.token()
    response = caseworker.post("/api/addin/messages", data={"case_id": case["id"], "item_id": "AAMkAD-rest-id", "sso_token": sso},
                               content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert response.json["document"]["title"] == "Via Graph"
    (obo,) = idp.obo_requests
    assert obo["assertion"] == sso and obo["requested_token_use"] == "on_behalf_of" and obo["client_secret"] == "s3cret"


def test_the_graph_path_refuses_another_users_microsoft_token(entra_app, idp, caseworker, make_user, new_case):
    _link(entra_app, "anna", f"{TENANT}:oid-anna")
    make_user("bo")
    _link(entra_app, "bo", f"{TENANT}:oid-bo")
    case = new_case(caseworker)
    response = caseworker.post("/api/addin/messages", data={"case_id": case["id"], "item_id": "x", "sso_token": idp.token(oid="oid-bo")},
                               content_type="multipart/form-data")
    assert response.status_code == 403
