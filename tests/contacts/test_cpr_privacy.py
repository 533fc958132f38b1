"""CPR numbers: shown in full only with contacts.view_cpr, never in logs or the audit trail."""
import json
import logging
import uuid

import pytest

from server.auth import services as auth
from server.auth.models import User
from server.contacts import services
from server.errors import Invalid, NotFound

CPR, CPR_DIGITS, MASKED = "010190-1234", "0101901234", "010190-xxxx"
JENS = {"kind": "person", "first_name": "Jens", "last_name": "Hansen", "cpr": CPR_DIGITS}


def leaks(text: str) -> bool:
    return CPR in text or CPR_DIGITS in text


@pytest.fixture
def jens(caseworker):
    response = caseworker.post("/api/contacts", json=JENS)
    assert response.status_code == 201
    assert response.json["cpr"] == CPR  # the caseworker holds contacts.view_cpr
    return response.json


# ---------------------------------------------------------------- masking


def test_a_caseworker_sees_the_cpr_number_in_full_everywhere(caseworker, jens):
    assert caseworker.get(f"/api/contacts/{jens['id']}").json["cpr"] == CPR
    assert caseworker.get("/api/contacts").json[0]["cpr"] == CPR
    assert caseworker.post("/api/contacts/search", json={"cpr": CPR}).json[0]["cpr"] == CPR


@pytest.mark.parametrize("roles", [[], ["it_admin"]])
def test_without_contacts_view_cpr_the_number_is_masked_everywhere(make_user, jens, roles):
    reader = make_user("reader", roles=roles)
    one = reader.get(f"/api/contacts/{jens['id']}")
    listed = reader.get("/api/contacts")
    searched = reader.post("/api/contacts/search", json={"cpr": CPR})
    for response in (one, listed):
        assert response.status_code == 200
        assert not leaks(response.get_data(as_text=True))
    assert one.json["cpr"] == MASKED
    assert one.json["birth_date"] == "1990-01-01"
    assert [c["cpr"] for c in listed.json] == [MASKED]
    # A lookup by full number would let the masked digits be guessed one try at a time.
    assert searched.status_code == 403
    assert not leaks(searched.get_data(as_text=True))


def test_a_user_who_may_create_but_not_see_gets_the_masked_number_back(app, make_user, caseworker):
    # Rights are data: take view_cpr away from the caseworker role, keep contacts.create.
    session = app.extensions["sagspost.sessionmaker"]()
    role = auth.get_role(session, "caseworker")
    rights = [rr.right for rr in role.rights if rr.right != "contacts.view_cpr"]
    auth.set_role_rights(session, _system(session), "caseworker", rights)
    session.commit()
    session.close()
    response = caseworker.post("/api/contacts", json=JENS)
    assert response.status_code == 201
    assert response.json["cpr"] == MASKED
    assert not leaks(response.get_data(as_text=True))


def _system(session):
    """A principal holding rights.manage, for arranging role rights directly."""
    admin = auth.create_user(
        session, None, auth.Passwords(1, 1024), username="root", roles=["it_admin", "org_admin"]
    )
    return auth.principal_for(admin)


# ---------------------------------------------------------------- logs and audit trail


def test_cpr_numbers_never_reach_the_logs(caseworker, caplog):
    caplog.set_level(logging.DEBUG)
    assert caseworker.post("/api/contacts", json=JENS).status_code == 201
    assert caseworker.post("/api/contacts", json={**JENS, "cpr": CPR}).status_code == 409  # duplicate
    assert caseworker.post("/api/contacts", json={**JENS, "cpr": "3102901234"}).status_code == 422
    assert caseworker.post("/api/contacts/search", json={"cpr": CPR}).status_code == 200
    # the capture works: the request log is there
    assert sum(r.name == "sagspost.http" for r in caplog.records) == 4
    for record in caplog.records:
        everything = f"{record.getMessage()} {vars(record)}"
        assert not leaks(everything) and "3102901234" not in everything, record.name


def test_the_audit_trail_holds_the_masked_number_only(admin, caseworker, jens):
    changed = caseworker.patch(f"/api/contacts/{jens['id']}", json={"cpr": "010190-1236"})
    assert changed.status_code == 200
    response = admin.get(f"/api/audit/changes?entity_type=contact&entity_id={jens['id']}")
    assert response.status_code == 200
    events = {e["action"]: e for e in response.json}
    assert set(events) == {"contact.created", "contact.updated"}
    assert events["contact.created"]["after"]["cpr"] == MASKED
    assert events["contact.created"]["after"]["name"] == "Jens Hansen"
    # the new number has the same masked form, so the change is named in the summary
    assert events["contact.updated"]["summary"] == "CPR number changed"
    assert events["contact.updated"]["after"]["cpr"] == MASKED
    text = response.get_data(as_text=True)
    assert not leaks(text) and "0101901236" not in text and "010190-1236" not in text


def test_an_audited_change_lists_only_what_changed(admin, caseworker, jens):
    caseworker.patch(f"/api/contacts/{jens['id']}", json={"city": "Vejle"})
    events = admin.get(f"/api/audit/changes?entity_type=contact&entity_id={jens['id']}").json
    updated = next(e for e in events if e["action"] == "contact.updated")
    assert (updated["before"], updated["after"]) == ({"city": None}, {"city": "Vejle"})


# ---------------------------------------------------------------- the interface the cases domain calls


def principal(db_session, username: str):
    return auth.principal_for(db_session.query(User).filter_by(username=username).one())


def test_get_contact_and_its_summary(db_session, make_user, caseworker, jens):
    make_user("reader", roles=[])
    seeing, masked = principal(db_session, caseworker.username), principal(db_session, "reader")
    contact = services.get_contact(db_session, masked, uuid.UUID(jens["id"]))
    expected = {
        "id": contact.id, "kind": "person", "name": "Jens Hansen", "cvr": None, "p_number": None, "email": None,
    }
    assert services.contact_summary(contact, seeing) == {**expected, "cpr": CPR}
    assert services.contact_summary(contact, masked) == {**expected, "cpr": MASKED}
    with pytest.raises(NotFound):
        services.get_contact(db_session, masked, uuid.UUID(int=0))


def test_find_by_cpr(db_session, caseworker, jens):
    actor = principal(db_session, caseworker.username)
    assert str(services.find_by_cpr(db_session, actor, CPR_DIGITS).id) == jens["id"]
    assert str(services.find_by_cpr(db_session, actor, CPR).id) == jens["id"]
    assert services.find_by_cpr(db_session, actor, "010190-1238") is None
    with pytest.raises(Invalid) as err:
        services.find_by_cpr(db_session, actor, "3102901234")
    assert "3102901234" not in json.dumps([err.value.message, err.value.errors])


def test_a_contact_repr_has_no_cpr_number(db_session, caseworker, jens):
    contact = services.find_by_cpr(db_session, principal(db_session, caseworker.username), CPR)
    assert not leaks(repr(contact))



def test_a_change_that_changes_nothing_is_not_audited(admin, caseworker, jens):
    assert caseworker.patch(f"/api/contacts/{jens['id']}", json={"first_name": "Jens"}).status_code == 200
    events = admin.get(f"/api/audit/changes?entity_type=contact&entity_id={jens['id']}").json
    assert [e["action"] for e in events] == ["contact.created"]
