"""The deployment file `sagspost manifest --google` writes: valid, narrow scopes, every URL served."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.errors import Invalid
from server.google import deployment
from tests.google.conftest import schema_errors

BASE = "https://sagspost.example.dk"
EXPECTED_SCOPES = {
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/gmail.addons.execute",
    "https://www.googleapis.com/auth/gmail.addons.current.message.readonly",
    "https://www.googleapis.com/auth/drive.addons.metadata.readonly",
    "https://www.googleapis.com/auth/drive.file",
}


def _run_function_urls(node) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k in ("runFunction", "onTriggerFunction")]
        return found + [u for v in node.values() for u in _run_function_urls(v)]
    if isinstance(node, list):
        return [u for v in node for u in _run_function_urls(v)]
    return []


def test_the_cli_writes_a_valid_deployment_for_the_base_url(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGSPOST_")}
    env["SAGSPOST_DATA_DIR"] = str(tmp_path / "data")
    sagspost = Path(sys.executable).with_name("sagspost")
    done = subprocess.run([str(sagspost), "manifest", "--google", "--base-url", BASE + "/", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    written = tmp_path / "out" / "google-deployment.json"
    assert done.stdout.strip() == str(written)
    deployment = json.loads(written.read_text())
    assert schema_errors(deployment, "gdeploy") == []
    assert set(deployment["oauthScopes"]) == EXPECTED_SCOPES
    addons = deployment["addOns"]
    assert addons["gmail"]["contextualTriggers"][0]["onTriggerFunction"] == f"{BASE}/api/google/addon/gmail"
    assert {"docs", "sheets", "drive"} <= addons.keys()
    assert addons["httpOptions"]["authorizationHeader"] == "SYSTEM_ID_TOKEN"


def test_every_url_in_the_deployment_is_an_endpoint_that_demands_googles_signature(app, addon):
    urls = _run_function_urls(deployment.render(BASE))
    assert len(urls) == 8
    for url in urls:
        response = addon.client.post(url.removeprefix(BASE), json={"commonEventObject": {}})
        assert response.status_code == 401, url


def test_a_plain_http_base_url_is_refused():
    with pytest.raises(Invalid):
        deployment.render("http://sagspost.example.dk")


def test_the_add_on_and_sign_in_endpoints_are_in_the_openapi_document(app):
    paths = app.test_client().get("/api/openapi.json").json["paths"]
    assert "post" in paths["/api/google/addon/{name}"]
    assert "get" in paths["/api/auth/google/login"] and "get" in paths["/api/auth/google/callback"]
