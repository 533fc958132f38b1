def test_healthz_answers_ok(app):
    assert app.test_client().get("/healthz").json == {"status": "ok"}


def test_openapi_document_lists_the_endpoints(app):
    spec = app.test_client().get("/api/openapi.json").json
    assert spec["info"]["title"] == "Sagspost API"
    assert "/api/users" in spec["paths"]
    assert "/api/auth/login" in spec["paths"]
