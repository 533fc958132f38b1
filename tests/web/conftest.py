"""Fixtures for the browser UI: users with passwords, a signed-in test client, a case with a PDF."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.cases.conftest import new_case, plan, public_template, template  # noqa: F401
from tests.documents.conftest import upload

PASSWORD = "korrekt-hest-batteri-42"


@dataclass
class Browser:
    """A test client signed in through the sign-in page, with the session's CSRF token."""

    client: object
    csrf: str

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kw)


def login_form(client, **fields):
    """POST the sign-in form as a browser does: from the page, with the form's token."""
    client.get("/login")
    with client.session_transaction() as session:
        token = session["login_csrf"]
    return client.post("/login", data={"csrf_token": token, **fields})


def sign_in(app, username: str, password: str = PASSWORD) -> Browser:
    client = app.test_client()
    response = login_form(client, username=username, password=password)
    assert response.status_code == 302, response.text
    with client.session_transaction() as session:
        return Browser(client, session["csrf"])


@pytest.fixture
def group(make_group):
    return make_group("Skoleafdelingen")


@pytest.fixture
def sara(make_user, group):
    """A caseworker in a group, who can sign in with a password."""
    return make_user("sara", roles=["caseworker"], groups=[group], password=PASSWORD, full_name="Sara Sagsbehandler")


@pytest.fixture
def sara_web(app, sara):
    return sign_in(app, "sara")


@pytest.fixture
def boss(make_user, group):
    return make_user("boss", roles=["org_admin", "it_admin"], groups=[group], password=PASSWORD, full_name="Bo Chef")


@pytest.fixture
def boss_web(app, boss):
    return sign_in(app, "boss")


def case_id_from(location: str) -> str:
    return re.search(r"/cases/([0-9a-f-]{36})", location).group(1)


def upload_to_case(caller, case_id: str, filename: str, content: bytes) -> dict:
    response = upload(caller, files=[("file", filename, content)], case_id=case_id)
    assert response.status_code == 201, response.json
    return response.json
