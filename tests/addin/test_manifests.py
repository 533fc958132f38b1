"""The Office manifests: rendered by `sagspost manifest` and served under /manifest, valid against
Microsoft's schemas (the shared XSD set and unified-manifest JSON schema, offline).

Our manifests use no element newer than the XSD set (no <Runtimes>, LaunchEvent, SupportsPinning or
WebApplicationInfo: sign-in is nested app authentication, which needs none), so nothing is set aside.
"""
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests.addin.conftest import CLIENT_ID

SCHEMAS = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "office"
VALIDATE = SCHEMAS / "validate.py"
BASE = "https://sagspost.kommune.example:8443/sag"


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(VALIDATE), *map(str, paths)], capture_output=True, text=True, timeout=60)


def sagspost(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SAGSPOST_DATA_DIR": str(data_dir), "SAGSPOST_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("manifests")
    result = sagspost("manifest", "--base-url", BASE + "/", "--out", str(out), data_dir=out / "data")
    assert result.returncode == 0, result.stderr
    return out


def test_the_command_writes_every_manifest_and_they_validate_against_microsofts_schemas(rendered):
    files = sorted(p.name for p in rendered.iterdir() if p.is_file())
    assert files == ["manifest.json", "office.xml", "outlook.xml", "sagspost-unified.zip"]
    result = validate(rendered / "outlook.xml", rendered / "office.xml", rendered / "manifest.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK") == 3


def test_the_outlook_manifest_reads_and_composes_messages_from_the_base_url(rendered):
    ns = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1",
          "v": "http://schemas.microsoft.com/office/mailappversionoverrides",
          "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0"}
    doc = etree.parse(str(rendered / "outlook.xml"))
    assert doc.xpath("string(/o:OfficeApp/o:Requirements/o:Sets/o:Set[@Name='Mailbox']/@MinVersion)", namespaces=ns) == "1.1"
    surfaces = doc.xpath("//v:ExtensionPoint/@xsi:type", namespaces={**ns, "xsi": "http://www.w3.org/2001/XMLSchema-instance"})
    assert surfaces == ["MessageReadCommandSurface", "MessageComposeCommandSurface"]
    urls = doc.xpath("//@DefaultValue[starts-with(., 'http')]", namespaces=ns)
    assert urls and all(u.startswith(BASE + "/addin/") for u in urls)
    sizes = sorted(int(s) for s in set(doc.xpath("//v:Icon/bt:Image/@size", namespaces=ns)))
    assert sizes == [16, 32, 80]


def test_word_and_excel_share_one_manifest_with_its_own_id(rendered):
    ns = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1"}
    office, outlook = (etree.parse(str(rendered / name)) for name in ("office.xml", "outlook.xml"))
    assert office.xpath("/o:OfficeApp/o:Hosts/o:Host/@Name", namespaces=ns) == ["Document", "Workbook"]
    assert office.xpath("string(//o:Id)", namespaces=ns) != outlook.xpath("string(//o:Id)", namespaces=ns)


def test_the_unified_package_holds_one_manifest_for_all_three_hosts_and_its_icons(rendered):
    with zipfile.ZipFile(rendered / "sagspost-unified.zip") as package:
        assert sorted(package.namelist()) == ["icon-192.png", "manifest.json", "outline-32.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("icon-192.png")[16:24] == (192).to_bytes(4, "big") * 2  # PNG width and height
    (extension,) = manifest["extensions"]
    assert extension["requirements"]["scopes"] == ["mail", "document", "workbook"]
    assert {r["code"]["page"] for r in extension["runtimes"]} == {BASE + "/addin/taskpane.html"}
    assert [r["contexts"] for r in extension["ribbons"]] == [["mailRead", "mailCompose"], ["default"]]


def test_an_http_base_url_is_refused_because_office_needs_https(tmp_path):
    result = sagspost("manifest", "--base-url", "http://localhost:8000", "--out", str(tmp_path / "out"), data_dir=tmp_path)
    assert result.returncode != 0 and "HTTPS" in result.stderr


def test_the_app_serves_manifests_for_its_own_address_and_the_pane_files(app, tmp_path):
    client = app.test_client()
    response = client.get("/manifest/outlook.xml", base_url="https://sagspost.test")
    assert response.status_code == 200 and b"https://sagspost.test/addin/taskpane.html" in response.data
    path = tmp_path / "served.xml"
    path.write_bytes(response.data)
    assert validate(path).returncode == 0
    package = client.get("/manifest/sagspost-unified.zip", base_url="https://sagspost.test")
    assert zipfile.ZipFile(io.BytesIO(package.data)).namelist()
    assert client.get("/manifest/other.xml").status_code == 404
    assert client.get("/addin/taskpane.html").status_code == 200
    assert client.get("/addin/icons/icon-80.png").mimetype == "image/png"
    assert client.get("/addin/vendor/office.js").status_code == 200
    # the pane's tests and packages are not served
    assert client.get("/addin/test/excel.test.js").status_code == 404
    assert client.get("/addin/package.json").status_code == 404


def test_the_pane_loads_office_js_from_the_microsoft_cdn_and_asks_entra_for_the_api_scope(app):
    config = app.test_client().get("/api/addin/config", base_url="https://sagspost.test").json
    assert config["office_js"] == "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
    assert config["entra_scope"] == f"api://sagspost.test/{CLIENT_ID}/access_as_user"


class TestLocalOfficeJs:
    @pytest.fixture
    def app_overrides(self):
        return {"addin_office_js": "local"}

    def test_office_js_comes_from_the_npm_package_and_without_entra_the_dialog_is_used(self, app):
        config = app.test_client().get("/api/addin/config").json
        assert config["office_js"] == "/addin/vendor/office.js"
        assert config["entra_client_id"] is None
