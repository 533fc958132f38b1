"""The sign-in page offers Google sign-in where it is configured (and only there)."""
from __future__ import annotations

import pytest


@pytest.fixture
def app_overrides():
    return {"google_client_id": "sagspost.apps.googleusercontent.com", "google_client_secret": "hemmelig"}


def test_the_google_button_starts_the_google_sign_in(app):
    page = app.test_client().get("/login?next=/cases").text
    assert "Log ind med Google" in page and 'href="/api/auth/google/login?next=/cases"' in page
    started = app.test_client().get("/api/auth/google/login?next=/cases")
    assert started.status_code == 302 and started.location.startswith("https://accounts.google.com/")
