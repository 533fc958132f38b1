"""The sign-in page offers only the ways to sign in that the installation has set up."""


def test_without_microsoft_or_google_set_up_only_the_password_form_is_offered(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Log ind med Microsoft" not in page and "Log ind med Google" not in page
    assert client.get("/api/auth/entra/login").status_code == 404
    assert client.get("/api/auth/google/login").status_code == 404
