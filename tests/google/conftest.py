"""Fixtures for the Google add-on: a local Google (certificates, OAuth, Gmail/Drive/Sheets REST), an app
pointed at it, a caseworker linked to a Google account, and Google-shaped event objects signed for it."""
from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path

import pytest

from server.auth import oidc
from server.auth import services as auth
from tests.google.fake_google import USER_TOKEN, GoogleState, create_fake_google
from tests.live import serve_in_thread

BASE_URL = "https://sagspost.example.dk"
SERVICE_ACCOUNT = "service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
CLIENT_ID = "123456789-addon.apps.googleusercontent.com"
GOOGLE_SUB = "109876543210987654321"
SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "google"


@pytest.fixture
def google():
    state = GoogleState()
    live = serve_in_thread(create_fake_google(state), threads=4, name="fake-google")
    state.url = live.url
    oidc.clear_cache()
    yield state
    live.stop()
    oidc.clear_cache()


@pytest.fixture
def app_overrides(google):
    return {
        "google_addon_base_url": BASE_URL,
        "google_addon_service_account": SERVICE_ACCOUNT,
        "google_addon_client_id": CLIENT_ID,
        "google_certs_url": f"{google.url}/oauth2/v1/certs",
        "google_api_root": google.url,
    }


@pytest.fixture
def linked(app, caseworker):
    """The caseworker, linked to the Google account GOOGLE_SUB."""
    session = app.extensions["sagspost.sessionmaker"]()
    user = auth.get_user(session, caseworker.user_id)
    auth.link_identity(session, None, user, "google", GOOGLE_SUB, "anna@kommune.dk")
    session.commit()
    session.close()
    return caseworker


class Addon:
    """Posts Google-shaped events to the add-on's endpoints, as Google would."""

    def __init__(self, client, google: GoogleState):
        self.client, self.google = client, google

    def event(self, endpoint: str, host: str = "GMAIL", *, form: dict | None = None, params: dict | None = None,
              sub: str = GOOGLE_SUB, email: str = "anna@kommune.dk", system_claims: dict | None = None, **parts) -> dict:
        system = {"aud": f"{BASE_URL}/api/google/addon/{endpoint}", "sub": "1122334455", "email": SERVICE_ACCOUNT,
                  "email_verified": True, "azp": "1122334455", **(system_claims or {})}
        user = {"aud": CLIENT_ID, "sub": sub, "email": email, "email_verified": True, "azp": CLIENT_ID}
        common = {"hostApp": host, "platform": "WEB", "userLocale": "da", "timeZone": {"id": "Europe/Copenhagen", "offset": 3600000}}
        if form:
            common["formInputs"] = {k: _input(v) for k, v in form.items()}
        if params:
            common["parameters"] = {k: str(v) for k, v in params.items()}
        return {"commonEventObject": common,
                "authorizationEventObject": {"userOAuthToken": USER_TOKEN, "userIdToken": self.google.sign(user),
                                             "systemIdToken": self.google.sign(system)},
                **parts}

    def post(self, endpoint: str, event: dict | None = None, **kw):
        body, headers = as_sent_by_google(event or self.event(endpoint, **kw))
        return self.client.post(f"/api/google/addon/{endpoint}", json=body, headers=headers)


def as_sent_by_google(event: dict) -> tuple[dict, dict]:
    """(body, headers) as Google sends them: the system ID token as the Authorization header (the
    deployment's default), not in the event. event() keeps it there only so tests can forge it."""
    tokens = dict(event.get("authorizationEventObject") or {})
    system = tokens.pop("systemIdToken", None)
    return {**event, "authorizationEventObject": tokens}, ({"Authorization": f"Bearer {system}"} if system else {})


def _input(value) -> dict:
    if isinstance(value, dict):
        return value
    return {"stringInputs": {"value": value if isinstance(value, list) else [value]}}


@pytest.fixture
def addon(app, google):
    return Addon(app.test_client(), google)


def _shared_validator():
    spec = importlib.util.spec_from_file_location("shared_schema_validate", SCHEMAS.parent / "office" / "validate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_validator = _shared_validator()


def schema_errors(doc: dict, kind: str = "gresponse") -> list[str]:
    """Errors of a response (gresponse) or deployment (gdeploy) against the shared Google schemas."""
    return _validator.CHECKS[kind](doc)


def validate_response(body: dict) -> None:
    """Every card the server answers with must pass the shared add-on response schema."""
    errors = schema_errors(body)
    assert not errors, errors


def texts(body: dict) -> str:
    """All text a card shows, for asserting on what the user sees."""
    return json.dumps(body, ensure_ascii=False)


def new_id() -> str:
    return uuid.uuid4().hex


from tests.cases.conftest import new_case, plan, template  # noqa: F401,E402
