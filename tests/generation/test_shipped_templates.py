"""The letter templates in templates/ install on a new installation and fill cleanly from a case."""
from __future__ import annotations

from server.bootstrap import SHIPPED_TEMPLATES
from server.generation import templates
from tests.generation.conftest import pdf_text


def test_every_shipped_template_installs_and_fills_a_case_letter(app, db_session, admin, caseworker, new_case,
                                                                   settings_organisation):
    installed = {t.name: t.id for t in templates.install_shipped(db_session, app.extensions["sagspost.blobs"],
                                                                   SHIPPED_TEMPLATES)}
    db_session.commit()
    assert set(installed) == {"Standardbrev", "Partshøring", "Afgørelse", "Kvittering for modtagelse"}
    assert templates.install_shipped(db_session, app.extensions["sagspost.blobs"], SHIPPED_TEMPLATES) == []
    db_session.rollback()  # ends the read, which on SQLite holds the write lock
    case = new_case(caseworker, title="Ansøgning om SFO-plads")
    mette = caseworker.post("/api/contacts", json={"kind": "person", "first_name": "Mette", "last_name": "Fiktivsen",
                                                   "street": "Skolevej 3", "postal_code": "9999", "city": "Testrup"}).json
    caseworker.post(f"/api/cases/{case['id']}/parties", json={"contact_id": mette["id"], "is_primary": True})

    for name, template_id in installed.items():
        response = caseworker.post(f"/api/document-templates/{template_id}/render",
                                   json={"case_id": case["id"], "format": "pdf"})
        assert response.status_code == 200, (name, response.json)
        text = pdf_text(response.data)
        assert "Testrup Kommune" in text and "Mette Fiktivsen" in text and case["number"] in text, name
        assert "{{" not in text and "{%" not in text and "Side 1 af 1" in text, name
