from pathlib import Path

from click.testing import CliRunner

from server.cli import main

KLE = Path(__file__).parent / "data" / "emneplan-test.xml"


def _upload(caller, data: bytes, plan="KLE"):
    return caller.post(
        f"/api/journal-plans/import-kle?plan_name={plan}",
        data={"file": (__import__("io").BytesIO(data), "emneplan.xml")},
        content_type="multipart/form-data",
    )


def test_import_builds_the_tree_and_retired_keys_are_inactive(admin):
    report = _upload(admin, KLE.read_bytes())
    assert report.status_code == 200, report.json
    assert report.json["created"] == 8
    tree = admin.get(f"/api/journal-plans/{report.json['plan_id']}/keys").json
    assert [n["number"] for n in tree] == ["17", "81"]
    leaves = [(c["number"], c["title"], c["is_leaf"]) for c in tree[0]["children"][0]["children"]]
    assert leaves == [("17.01.00", "Elevforhold i almindelighed", True), ("17.01.10", "Elevfravær", True)]
    with_retired = admin.get(f"/api/journal-plans/{report.json['plan_id']}/keys?include_inactive=true").json
    assert len(with_retired[0]["children"][0]["children"]) == 3


def test_reimport_updates_titles_and_deactivates_keys_that_left(admin):
    first = _upload(admin, KLE.read_bytes()).json
    changed = KLE.read_bytes().replace(b"<EmneTitel>Elevfrav\xc3\xa6r</EmneTitel>", "<EmneTitel>Fravær</EmneTitel>".encode())
    changed = changed.replace(b"<EmneNr>81.01.00</EmneNr>", b"<EmneNr>81.01.05</EmneNr>")
    second = _upload(admin, changed).json
    assert second["plan_id"] == first["plan_id"]
    assert (second["created"], second["updated"], second["deactivated"]) == (1, 1, 1)


def test_cases_can_be_filed_on_imported_leaf_keys(admin, caseworker):
    plan_id = _upload(admin, KLE.read_bytes()).json["plan_id"]
    tree = admin.get(f"/api/journal-plans/{plan_id}/keys").json
    leaf = tree[0]["children"][0]["children"][1]
    template = admin.post("/api/case-templates", json={"name": "Elevsag", "journal_key_id": leaf["id"]}).json
    case = caseworker.post("/api/cases", json={"template_id": template["id"]}).json
    assert case["journal_key"] == "17.01.10 Elevfravær"


def test_bad_files_are_refused_with_a_reason(admin, caseworker):
    assert _upload(caseworker, KLE.read_bytes()).status_code == 403
    broken = _upload(admin, b"<KLE-Emneplan><HovedgruppeKomponent>")
    assert broken.status_code == 422 and "not well-formed XML" in broken.json["message"]
    empty = _upload(admin, b"<KLE-Emneplan/>")
    assert empty.status_code == 422 and "No KLE keys" in empty.json["message"]


def test_cli_command_imports_the_file(database_url, tmp_path):
    env = {"SAGSPOST_DATABASE_URL": database_url, "SAGSPOST_DATA_DIR": str(tmp_path), "SAGSPOST_LOG_LEVEL": "WARNING"}
    result = CliRunner().invoke(main, ["import-kle", str(KLE), "--plan", "KLE cli"], env=env)
    assert result.exit_code == 0, result.output
    assert "8 keys created" in result.output
