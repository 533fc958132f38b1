import pytest


@pytest.fixture
def plan(admin):
    """A journal plan: 00 (main group) > 00.01 (group) > 00.01.00 and 00.01.02 (leaves)."""
    plan = admin.post("/api/journal-plans", json={"name": "Organisation"}).json
    keys = {}
    for number, title, parent in [
        ("00", "Kommunens styrelse", None),
        ("00.01", "Kommunens styrelse", "00"),
        ("00.01.00", "Kommunens styrelse i almindelighed", "00.01"),
        ("00.01.02", "Forretningsorden", "00.01"),
    ]:
        body = {"number": number, "title": title, "parent_id": keys[parent]["id"] if parent else None}
        response = admin.post(f"/api/journal-plans/{plan['id']}/keys", json=body)
        assert response.status_code == 201, response.json
        keys[number] = response.json
    return {"plan": plan, "keys": keys}


@pytest.fixture
def template(admin, plan):
    """A restricted template filed on leaf 00.01.00, with two standard folders."""
    body = {
        "name": "Personalesag",
        "title_pattern": "{template} {year}",
        "journal_key_id": plan["keys"]["00.01.00"]["id"],
        "access": "members",
        "standard_folders": ["Korrespondance", "Kontrakter"],
        "retention_years": 5,
    }
    response = admin.post("/api/case-templates", json=body)
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def public_template(admin, plan):
    response = admin.post("/api/case-templates", json={"name": "Offentlig sag", "access": "public"})
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def new_case(template):
    def _new(caller, **body):
        response = caller.post("/api/cases", json={"template_id": template["id"], **body})
        assert response.status_code == 201, response.json
        return response.json

    return _new
