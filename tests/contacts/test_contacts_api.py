"""Contacts through the HTTP API: creating, validating, changing, listing and searching."""
import json

import pytest

JENS = {"kind": "person", "first_name": "Jens", "last_name": "Hansen", "cpr": "0101901234"}
ACME = {"kind": "organisation", "name": "Acme ApS", "cvr": "25313763", "p_number": "1003388394"}


def create(caller, **body):
    response = caller.post("/api/contacts", json=body)
    assert response.status_code == 201, response.json
    return response.json


def total(response) -> int:
    return json.loads(response.headers["X-Pagination"])["total"]


# ---------------------------------------------------------------- creating


def test_create_a_person_with_address(caseworker):
    body = {
        **JENS, "co": "c/o Mette Hansen", "street": "Vestergade 1, 2. tv.", "postal_code": "8000",
        "city": "Aarhus C", "country": "dk", "email": "jens@example.dk", "phone": "+45 12 34 56 78",
    }
    created = create(caseworker, **body)
    assert created["kind"] == "person"
    assert created["name"] == "Jens Hansen"  # derived from first and last name
    assert created["cpr"] == "010190-1234"  # normalised to DDMMYY-SSSS
    assert created["birth_date"] == "1990-01-01"
    assert created["country"] == "DK"
    assert {k: created[k] for k in ("co", "street", "postal_code", "city", "email", "phone")} == {
        k: body[k] for k in ("co", "street", "postal_code", "city", "email", "phone")
    }
    fetched = caseworker.get(f"/api/contacts/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json == created


def test_a_person_may_have_a_display_name_of_their_own(caseworker):
    created = create(caseworker, kind="person", first_name="Hans Christian", last_name="Andersen", name="H.C. Andersen")
    assert created["name"] == "H.C. Andersen"


def test_a_foreign_person_needs_no_cpr_number(caseworker):
    created = create(caseworker, kind="person", first_name="Ingrid", last_name="Larsson", country="SE")
    assert created["cpr"] is None and created["birth_date"] is None


def test_a_person_needs_some_name(caseworker):
    response = caseworker.post("/api/contacts", json={"kind": "person", "cpr": "010190-1234"})
    assert response.status_code == 422
    assert "name" in response.json["message"]


def test_create_an_organisation_with_cvr_and_p_number(caseworker):
    created = create(caseworker, **ACME, street="Hovedgaden 2", postal_code="1000", city="København K")
    assert created["kind"] == "organisation"
    assert (created["name"], created["cvr"], created["p_number"]) == ("Acme ApS", "25313763", "1003388394")
    assert created["cpr"] is None and created["first_name"] is None


def test_an_organisation_may_have_only_a_cvr_or_only_a_p_number_or_neither(caseworker):
    assert create(caseworker, kind="organisation", name="A", cvr="10403782")["p_number"] is None
    assert create(caseworker, kind="organisation", name="B", p_number="1003388394")["cvr"] is None
    assert create(caseworker, kind="organisation", name="Forening uden CVR")["cvr"] is None


def test_an_organisation_needs_a_name(caseworker):
    response = caseworker.post("/api/contacts", json={"kind": "organisation", "cvr": "25313763"})
    assert response.status_code == 422
    assert response.json["errors"] == {"name": ["An organisation needs a name."]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "organisation", "name": "Acme", "cpr": "010190-1234"}, "cpr"),
        ({"kind": "organisation", "name": "Acme", "first_name": "Jens"}, "first_name"),
        ({"kind": "person", "first_name": "Jens", "cvr": "25313763"}, "cvr"),
        ({"kind": "person", "first_name": "Jens", "p_number": "1003388394"}, "p_number"),
    ],
)
def test_numbers_belong_to_their_kind(caseworker, body, field):
    response = caseworker.post("/api/contacts", json=body)
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def test_an_unknown_kind_is_refused(caseworker):
    response = caseworker.post("/api/contacts", json={"kind": "robot", "name": "R2"})
    assert response.status_code == 422


# ---------------------------------------------------------------- CPR, CVR and P-number validation


@pytest.mark.parametrize(
    "cpr, born",
    [
        ("010190-1234", "1990-01-01"),
        ("010107-4006", "2007-01-01"),  # 7th digit 4, YY 07: 2007; fails modulus 11 and is still valid
        ("010158-5001", "1858-01-01"),  # 7th digit 5, YY 58: 1858
        ("010157-6001", "2057-01-01"),  # 7th digit 6, YY 57: 2057
        ("290200-4001", "2000-02-29"),
    ],
)
def test_valid_cpr_numbers_are_accepted_with_the_right_birth_date(caseworker, cpr, born):
    created = create(caseworker, kind="person", first_name="X", cpr=cpr)
    assert created["birth_date"] == born
    assert created["cpr"] == cpr


@pytest.mark.parametrize(
    "cpr, message",
    [
        ("310290-1234", "CPR number has no valid date: 31 February 1990"),
        ("3002901234", "CPR number has no valid date: 30 February 1990"),
        ("290200-1234", "CPR number has no valid date: 29 February 1900"),
        ("011390-1234", "CPR number has no valid date: there is no month 13"),
        ("010190-123", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("01019012345", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("0101AB-1234", "CPR number must be 10 digits as DDMMYY-SSSS"),
    ],
)
def test_invalid_cpr_numbers_give_422_with_a_message_without_the_number(caseworker, cpr, message):
    response = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "X", "cpr": cpr})
    assert response.status_code == 422
    assert response.json["message"] == message
    assert response.json["errors"] == {"cpr": [message]}
    text = response.get_data(as_text=True)
    assert cpr not in text and cpr.replace("-", "") not in text


@pytest.mark.parametrize(
    "cvr, message",
    [
        ("25313764", "CVR number fails the modulus-11 check"),
        ("2531376", "CVR number must be 8 digits"),
        ("01234560", "CVR number cannot start with 0"),
    ],
)
def test_invalid_cvr_numbers_give_422(caseworker, cvr, message):
    response = caseworker.post("/api/contacts", json={"kind": "organisation", "name": "Acme", "cvr": cvr})
    assert response.status_code == 422
    assert response.json["errors"] == {"cvr": [message]}


def test_an_invalid_p_number_gives_422(caseworker):
    response = caseworker.post("/api/contacts", json={"kind": "organisation", "name": "Acme", "p_number": "123456789"})
    assert response.status_code == 422
    assert response.json["errors"] == {"p_number": ["P-number must be exactly 10 digits"]}


def test_a_bad_country_or_email_gives_422(caseworker):
    bad_country = caseworker.post("/api/contacts", json={"kind": "organisation", "name": "A", "country": "D1"})
    assert bad_country.status_code == 422 and "country" in bad_country.json["errors"]
    bad_email = caseworker.post("/api/contacts", json={"kind": "organisation", "name": "A", "email": "not-an-address"})
    assert bad_email.status_code == 422


# ---------------------------------------------------------------- one CPR number, one person


def test_a_second_person_with_the_same_cpr_number_is_a_conflict(caseworker):
    create(caseworker, **JENS)
    again = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Jens", "cpr": "010190-1234"})
    assert again.status_code == 409
    text = again.get_data(as_text=True)
    assert "0101901234" not in text and "010190-1234" not in text and "010190" not in text
    listed = caseworker.get("/api/contacts")
    assert total(listed) == 1


def test_changing_a_cpr_number_to_one_already_taken_is_a_conflict(caseworker):
    create(caseworker, **JENS)
    other = create(caseworker, kind="person", first_name="Hanne", cpr="020290-1234")
    response = caseworker.patch(f"/api/contacts/{other['id']}", json={"cpr": "010190-1234"})
    assert response.status_code == 409
    assert "010190" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- changing


def test_change_address_and_clear_a_field(caseworker):
    created = create(caseworker, **JENS, email="jens@example.dk", city="Aarhus")
    response = caseworker.patch(f"/api/contacts/{created['id']}", json={"city": "Odense", "postal_code": "5000", "email": None})
    assert response.status_code == 200
    assert (response.json["city"], response.json["postal_code"], response.json["email"]) == ("Odense", "5000", None)
    assert response.json["cpr"] == "010190-1234"  # untouched
    assert caseworker.get(f"/api/contacts/{created['id']}").json["city"] == "Odense"


def test_a_derived_display_name_follows_the_names_but_a_chosen_one_stays(caseworker):
    derived = create(caseworker, kind="person", first_name="Jens", last_name="Hansen")
    assert caseworker.patch(f"/api/contacts/{derived['id']}", json={"last_name": "Jensen"}).json["name"] == "Jens Jensen"
    chosen = create(caseworker, kind="person", first_name="Hans", last_name="Andersen", name="H.C. Andersen")
    assert caseworker.patch(f"/api/contacts/{chosen['id']}", json={"last_name": "Ørsted"}).json["name"] == "H.C. Andersen"


def test_changing_the_cpr_number_changes_the_birth_date(caseworker):
    created = create(caseworker, kind="person", first_name="Ida")
    changed = caseworker.patch(f"/api/contacts/{created['id']}", json={"cpr": "1506104001"})
    assert changed.status_code == 200
    assert (changed.json["cpr"], changed.json["birth_date"]) == ("150610-4001", "2010-06-15")
    cleared = caseworker.patch(f"/api/contacts/{created['id']}", json={"cpr": None})
    assert (cleared.json["cpr"], cleared.json["birth_date"]) == (None, None)


def test_a_change_is_validated_like_a_creation(caseworker):
    created = create(caseworker, **ACME)
    assert caseworker.patch(f"/api/contacts/{created['id']}", json={"cvr": "25313764"}).status_code == 422
    assert caseworker.patch(f"/api/contacts/{created['id']}", json={"name": ""}).status_code == 422
    assert caseworker.patch(f"/api/contacts/{created['id']}", json={"kind": "person"}).status_code == 422
    assert caseworker.get(f"/api/contacts/{created['id']}").json["cvr"] == "25313763"


def test_an_unknown_contact_is_404(caseworker):
    missing = "00000000-0000-0000-0000-000000000000"
    assert caseworker.get(f"/api/contacts/{missing}").status_code == 404
    assert caseworker.patch(f"/api/contacts/{missing}", json={"city": "Vejle"}).status_code == 404


# ---------------------------------------------------------------- rights


@pytest.mark.parametrize("roles", [[], ["it_admin"]])
def test_without_contacts_create_nothing_is_created(make_user, caseworker, roles):
    caller = make_user("nobody", roles=roles)
    response = caller.post("/api/contacts", json=JENS)
    assert response.status_code == 403
    assert "contacts.create" in response.json["message"]
    assert total(caseworker.get("/api/contacts")) == 0


def test_without_contacts_edit_nothing_is_changed(make_user, caseworker):
    created = create(caseworker, **ACME)
    reader = make_user("reader", roles=[])
    response = reader.patch(f"/api/contacts/{created['id']}", json={"name": "Changed"})
    assert response.status_code == 403
    assert caseworker.get(f"/api/contacts/{created['id']}").json["name"] == "Acme ApS"


def test_any_signed_in_user_may_read_but_not_anonymous_callers(app, make_user, caseworker):
    created = create(caseworker, **ACME)
    reader = make_user("reader", roles=[])
    assert reader.get(f"/api/contacts/{created['id']}").status_code == 200
    assert reader.get("/api/contacts").status_code == 200
    anonymous = app.test_client()
    assert anonymous.get("/api/contacts").status_code == 401
    assert anonymous.get(f"/api/contacts/{created['id']}").status_code == 401
    assert anonymous.post("/api/contacts/search", json={"cpr": "010190-1234"}).status_code == 401


# ---------------------------------------------------------------- listing and searching


@pytest.fixture
def directory(caseworker):
    """Three persons (two born the same day) and two organisations."""
    return {
        "jens": create(caseworker, **JENS, email="jens@example.dk", city="Aarhus C"),
        "jane": create(caseworker, kind="person", first_name="Jane", last_name="Hansen", cpr="010190-1236", city="Odense"),
        "ole": create(caseworker, kind="person", first_name="Ole", last_name="Olsen", street="Strandvejen 100_b"),
        "acme": create(caseworker, **ACME, city="Aarhus N"),
        "beta": create(caseworker, kind="organisation", name="Beta A/S", cvr="10403782", city="Vejle"),
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [c["name"] for c in response.json]


def test_list_filters_by_kind_and_free_text(caseworker, directory):
    assert names(caseworker.get("/api/contacts?kind=organisation")) == ["Acme ApS", "Beta A/S"]
    assert names(caseworker.get("/api/contacts?q=hansen")) == ["Jane Hansen", "Jens Hansen"]
    assert names(caseworker.get("/api/contacts?q=jens HANSEN")) == ["Jens Hansen"]  # every word must match
    assert names(caseworker.get("/api/contacts?q=aarhus")) == ["Acme ApS", "Jens Hansen"]  # the address
    assert names(caseworker.get("/api/contacts?q=example.dk")) == ["Jens Hansen"]  # the e-mail
    assert names(caseworker.get("/api/contacts?q=aarhus&kind=person")) == ["Jens Hansen"]


def test_free_text_wildcards_are_taken_literally(caseworker, directory):
    assert names(caseworker.get("/api/contacts?q=100_b")) == ["Ole Olsen"]
    assert names(caseworker.get("/api/contacts?q=100%25")) == []  # a literal "100%"
    assert names(caseworker.get("/api/contacts?q=_")) == ["Ole Olsen"]


def test_list_filters_by_cvr_and_p_number(caseworker, directory):
    assert names(caseworker.get("/api/contacts?cvr=25313763")) == ["Acme ApS"]
    assert names(caseworker.get("/api/contacts?cvr=10403782")) == ["Beta A/S"]
    assert names(caseworker.get("/api/contacts?p_number=1003388394")) == ["Acme ApS"]
    assert caseworker.get("/api/contacts?cvr=123").status_code == 422


def test_list_is_paginated(caseworker, directory):
    first = caseworker.get("/api/contacts?page=1&page_size=2")
    second = caseworker.get("/api/contacts?page=2&page_size=2")
    assert total(first) == 5
    assert names(first) == ["Acme ApS", "Beta A/S"]
    assert names(second) == ["Jane Hansen", "Jens Hansen"]


def test_a_cpr_number_in_the_query_string_is_refused(caseworker, directory):
    response = caseworker.get("/api/contacts?cpr=0101901234")
    assert response.status_code == 422
    assert "POST /api/contacts/search" in json.dumps(response.json)
    assert "0101901234" not in response.get_data(as_text=True)


@pytest.mark.parametrize("cpr", ["010190-1234", "0101901234"])
def test_search_by_full_cpr_number_finds_exactly_that_person(caseworker, directory, cpr):
    response = caseworker.post("/api/contacts/search", json={"cpr": cpr})
    assert names(response) == ["Jens Hansen"]
    assert total(response) == 1
    assert response.json[0]["id"] == directory["jens"]["id"]


def test_search_by_cpr_number_finds_nobody_for_an_unknown_number(caseworker, directory):
    assert names(caseworker.post("/api/contacts/search", json={"cpr": "010190-1238"})) == []


def test_search_with_an_invalid_cpr_number_is_422(caseworker, directory):
    response = caseworker.post("/api/contacts/search", json={"cpr": "310290-1234"})
    assert response.status_code == 422
    assert response.json["errors"] == {"cpr": ["CPR number has no valid date: 31 February 1990"]}


def test_search_combines_criteria_and_pages(caseworker, directory):
    assert names(caseworker.post("/api/contacts/search", json={"q": "hansen", "kind": "person"})) == [
        "Jane Hansen", "Jens Hansen",
    ]
    assert names(caseworker.post("/api/contacts/search", json={"cpr": "0101901234", "q": "jane"})) == []
    assert names(caseworker.post("/api/contacts/search", json={"cvr": "25 31 37 63"})) == ["Acme ApS"]
    paged = caseworker.post("/api/contacts/search?page_size=1&page=2", json={"q": "hansen"})
    assert names(paged) == ["Jens Hansen"] and total(paged) == 2
