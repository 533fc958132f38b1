import json

import pytest

CPR = "010190-1234"


@pytest.fixture
def roles(admin):
    return {
        name: admin.post("/api/party-roles", json={"name": name}).json["id"]
        for name in ("Elev", "Forælder", "Praktiksted")
    }


@pytest.fixture
def person(caseworker):
    response = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Jens", "last_name": "Hansen", "cpr": CPR})
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def company(caseworker):
    response = caseworker.post("/api/contacts", json={"kind": "organisation", "name": "Bageriet ApS", "cvr": "25313763"})
    assert response.status_code == 201, response.json
    return response.json


def test_parties_with_roles_and_one_primary(caseworker, new_case, person, company, roles):
    case = new_case(caseworker)
    url = f"/api/cases/{case['id']}/parties"
    first = caseworker.post(url, json={"contact_id": person["id"], "role_id": roles["Elev"], "is_primary": True})
    assert first.status_code == 201, first.json
    assert first.json["role"] == "Elev" and first.json["contact"]["name"] == "Jens Hansen"
    second = caseworker.post(url, json={"contact_id": company["id"], "role_id": roles["Praktiksted"], "is_primary": True})
    assert second.status_code == 201
    parties = caseworker.get(url).json
    assert {p["contact"]["name"]: p["is_primary"] for p in parties} == {"Jens Hansen": False, "Bageriet ApS": True}
    duplicate = caseworker.post(url, json={"contact_id": person["id"], "role_id": roles["Elev"]})
    assert duplicate.status_code == 409
    # the same person may also be a party in another role
    assert caseworker.post(url, json={"contact_id": person["id"], "role_id": roles["Forælder"]}).status_code == 201


def test_party_cpr_is_masked_for_users_without_the_right(caseworker, make_user, new_case, person, roles):
    case = new_case(caseworker)
    caseworker.post(f"/api/cases/{case['id']}/parties", json={"contact_id": person["id"], "role_id": roles["Elev"]})
    viewer = make_user("viewer", roles=[])
    caseworker.post(f"/api/cases/{case['id']}/members", json={"user_id": str(viewer.user_id), "access": "read"})
    assert caseworker.get(f"/api/cases/{case['id']}/parties").json[0]["contact"]["cpr"] == CPR
    masked = viewer.get(f"/api/cases/{case['id']}/parties")
    assert masked.json[0]["contact"]["cpr"] == "010190-xxxx"
    assert "1234" not in masked.get_data(as_text=True)


def test_party_changes_are_in_history_without_cpr(caseworker, new_case, person, roles):
    case = new_case(caseworker)
    url = f"/api/cases/{case['id']}/parties"
    party = caseworker.post(url, json={"contact_id": person["id"], "role_id": roles["Elev"]}).json
    changed = caseworker.patch(f"{url}/{party['id']}", json={"role_id": roles["Forælder"], "note": "mor"})
    assert changed.status_code == 200 and changed.json["role"] == "Forælder"
    assert caseworker.delete(f"{url}/{party['id']}").status_code == 204
    assert caseworker.get(url).json == []
    history = caseworker.get(f"/api/cases/{case['id']}/history")
    actions = [e["action"] for e in history.json]
    assert actions[:3] == ["case.party_removed", "case.party_updated", "case.party_added"]
    assert "Tilføjede part Jens Hansen som Elev" in [e["summary"] for e in history.json]
    assert "1234" not in history.get_data(as_text=True)


def test_parties_given_at_creation_and_finding_cases_of_a_contact(caseworker, new_case, person, roles, template):
    case = new_case(caseworker, parties=[{"contact_id": person["id"], "role_id": roles["Elev"], "is_primary": True}])
    new_case(caseworker, title="Anden sag")
    listed = caseworker.get(f"/api/cases?party_contact_id={person['id']}")
    assert [c["id"] for c in listed.json] == [case["id"]]
    assert json.loads(listed.headers["X-Pagination"])["total"] == 1


def test_unknown_contact_or_role_is_refused(caseworker, new_case, person):
    case = new_case(caseworker)
    url = f"/api/cases/{case['id']}/parties"
    missing = "00000000-0000-0000-0000-000000000000"
    assert caseworker.post(url, json={"contact_id": missing}).status_code == 404
    assert caseworker.post(url, json={"contact_id": person["id"], "role_id": missing}).status_code == 404
    assert caseworker.post(url, json={"role_id": missing}).status_code == 422


def test_deactivated_party_role_cannot_be_used(admin, caseworker, new_case, person, roles):
    admin.patch(f"/api/party-roles/{roles['Elev']}", json={"active": False})
    assert [r["name"] for r in caseworker.get("/api/party-roles").json] == ["Forælder", "Praktiksted"]
    case = new_case(caseworker)
    response = caseworker.post(f"/api/cases/{case['id']}/parties", json={"contact_id": person["id"], "role_id": roles["Elev"]})
    assert response.status_code == 422
    assert caseworker.post("/api/party-roles", json={"name": "X"}).status_code == 403
