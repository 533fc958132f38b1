"""Users and groups from a CSV export: over HTTP (POST /api/users/import) and `sagspost import-users`."""
from __future__ import annotations

import io

from click.testing import CliRunner
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.auth import directory
from server.auth.models import Group, User
from server.cli import main


def upload(caller, data: bytes, *, deactivate_missing: bool | None = None, filename: str = "brugere.csv"):
    url = "/api/users/import"
    if deactivate_missing is not None:
        url += f"?deactivate_missing={'true' if deactivate_missing else 'false'}"
    return caller.post(url, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def users_by_name(app) -> dict[str, User]:
    session = app.extensions["sagspost.sessionmaker"]()
    try:
        return {u.username: u for u in session.scalars(select(User))}
    finally:
        session.close()


def group_members(app) -> dict[str, set[str]]:
    session = app.extensions["sagspost.sessionmaker"]()
    try:
        return {g.name: {u.username for u in g.members} for g in session.scalars(select(Group))}
    finally:
        session.close()


def groups_of(user: User) -> set[str]:
    return {g.name for g in user.groups}


DANISH = (
    "Brugernavn;Fornavn;Efternavn;E-mail;Grupper;Roller;Aktiv\r\n"
    "søren;Søren;Østergård;soren@kommune.dk;Byggeri, Miljø og Natur;Sagsbehandler;ja\r\n"
    "ÆRØ;Åse;Ærø;aase.aeroe@kommune.dk;Byggeri;Organisationsadministrator;Ja\r\n"
)


def test_semicolon_cp1252_with_danish_letters_and_headers(app, admin):
    data = DANISH.encode("cp1252")
    with_danish = data.decode("cp1252")
    assert "ø" in with_danish and data != with_danish.encode("utf-8")  # really not UTF-8

    resp = upload(admin, data)

    assert resp.status_code == 200, resp.json
    assert resp.json == {
        "created_users": 2, "updated_users": 0, "deactivated_users": 0,
        "created_groups": 2, "updated_groups": 0, "problems": [],
    }
    users = users_by_name(app)
    soren, aase = users["søren"], users["ÆRØ"]
    assert soren.full_name == "Søren Østergård" and soren.email == "soren@kommune.dk"
    assert aase.full_name == "Åse Ærø"
    assert soren.source == aase.source == "csv"
    assert soren.password_hash is None and soren.active
    assert {r.code for r in soren.roles} == {"caseworker"}
    assert {r.code for r in aase.roles} == {"org_admin"}
    assert group_members(app) == {"Byggeri": {"søren", "ÆRØ"}, "Miljø og Natur": {"søren"}}
    groups = {g["name"]: g for g in admin.get("/api/groups").json}
    assert groups["Miljø og Natur"]["source"] == "csv" and groups["Byggeri"]["member_count"] == 2


def test_comma_utf8_with_bom_and_english_headers(app, admin):
    data = (
        "username,email,displayName,groups,roles,active\n"
        'mette,mette@kommune.dk,Mette Kjær,"Borgerservice;Løn og Personale",caseworker,true\n'
        'jens,,"Jensen, Jens",Borgerservice|Byggeri,"caseworker, it_admin",\n'
    ).encode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")

    resp = upload(admin, data)

    assert resp.status_code == 200, resp.json
    assert (resp.json["created_users"], resp.json["created_groups"], resp.json["problems"]) == (2, 3, [])
    users = users_by_name(app)
    assert users["mette"].full_name == "Mette Kjær"
    assert users["jens"].full_name == "Jensen, Jens" and users["jens"].email is None
    assert {r.code for r in users["jens"].roles} == {"caseworker", "it_admin"}
    assert groups_of(users["mette"]) == {"Borgerservice", "Løn og Personale"}
    assert groups_of(users["jens"]) == {"Borgerservice", "Byggeri"}


def test_other_exports_tab_separated_utf16_and_ad_member_of(app, admin):
    data = (
        "sAMAccountName\tmail\tgivenName\tsn\tmemberOf\r\n"
        "kbo\tkbo@kommune.dk\tKåre\tBøgh\tCN=Byggeri,OU=Grupper,DC=kommune,DC=dk;CN=Vej og Park,OU=Grupper,DC=kommune,DC=dk\r\n"
    ).encode("utf-16")

    resp = upload(admin, data)

    assert resp.status_code == 200, resp.json
    assert resp.json["problems"] == []
    kbo = users_by_name(app)["kbo"]
    assert kbo.full_name == "Kåre Bøgh"
    assert groups_of(kbo) == {"Byggeri", "Vej og Park"}


def test_existing_groups_are_used_and_reimport_updates_without_duplicates(app, admin, make_group):
    make_group("Byggeri")  # a local group the file names in other letter case
    first = (
        "brugernavn;navn;email;grupper\n"
        "mette;Mette Kjær;mette@kommune.dk;BYGGERI;Borgerservice\n"  # unquoted `;` in the cell: a 5th cell, ignored
        "jens;Jens Jensen;jens@kommune.dk;Borgerservice\n"
    ).encode()
    assert upload(admin, first).json["created_users"] == 2
    before = users_by_name(app)
    assert groups_of(before["mette"]) == {"Byggeri"}

    second = (
        "brugernavn;navn;email;grupper\n"
        "METTE;Mette Kjær Holm;mette.holm@kommune.dk;Borgerservice|Byggeri\n"
        "jens;Jens Jensen;jens@kommune.dk;Vej og Park\n"
    ).encode()
    resp = upload(admin, second)

    assert resp.json == {
        "created_users": 0, "updated_users": 2, "deactivated_users": 0,
        "created_groups": 1, "updated_groups": 1, "problems": [],  # Borgerservice: +mette, -jens
    }
    after = users_by_name(app)
    assert set(after) == {"admin", "mette", "jens"}
    assert after["mette"].id == before["mette"].id
    assert after["mette"].full_name == "Mette Kjær Holm" and after["mette"].email == "mette.holm@kommune.dk"
    assert groups_of(after["mette"]) == {"Borgerservice", "Byggeri"}
    assert groups_of(after["jens"]) == {"Vej og Park"}  # memberships follow the file
    session = app.extensions["sagspost.sessionmaker"]()
    assert session.scalar(select(func.count()).select_from(Group)) == 3
    session.close()

    again = upload(admin, second).json
    assert again == {
        "created_users": 0, "updated_users": 0, "deactivated_users": 0,
        "created_groups": 0, "updated_groups": 0, "problems": [],
    }


def test_bad_rows_are_reported_by_row_number_and_good_rows_imported(app, admin, make_user):
    make_user("kirsten", email="kirsten@kommune.dk")
    data = (
        "username;email;name;roles\n"            # row 1
        "ok1;ok1@kommune.dk;Første OK;\n"        # row 2
        ";nobody@kommune.dk;Uden Navn;\n"        # row 3: missing username
        "bad2;not-an-email;Forkert Mail;\n"      # row 4
        "bad3;bad3@kommune.dk;Ukendt Rolle;chef\n"  # row 5
        ";;;\n"                                  # row 6: empty, ignored
        "ok2;ok2@kommune.dk;Anden OK;Sagsbehandler\n"  # row 7
        "OK1;ok1b@kommune.dk;Dublet;\n"          # row 8: same username as row 2
        "bad4;KIRSTEN@kommune.dk;Optaget Mail;\n"  # row 9: another user's address
    ).encode()

    resp = upload(admin, data)

    assert resp.status_code == 200
    assert resp.json["created_users"] == 2
    assert resp.json["problems"] == [
        "row 3: missing username",
        "row 4: invalid e-mail address 'not-an-email'",
        "row 5: unknown role 'chef'",
        "row 8: username 'OK1' already in row 2; row skipped",
        "row 9: the e-mail address 'KIRSTEN@kommune.dk' belongs to user 'kirsten'; row skipped",
    ]
    assert set(users_by_name(app)) == {"admin", "kirsten", "ok1", "ok2"}


def test_deactivate_missing_only_touches_csv_users(app, admin, caseworker):
    everyone = b"username;name\nmette;Mette\njens;Jens\nlise;Lise\n"
    upload(admin, everyone)

    resp = upload(admin, b"username;name\nmette;Mette\njens;Jens\n", deactivate_missing=True)

    assert resp.json["deactivated_users"] == 1 and resp.json["updated_users"] == 0
    users = users_by_name(app)
    assert not users["lise"].active
    assert users["mette"].active and users["admin"].active and users["anna"].active  # local users untouched
    # without the flag nobody is deactivated
    assert upload(admin, b"username\nmette\n").json["deactivated_users"] == 0
    assert users_by_name(app)["jens"].active
    # back in the file: active again
    back = upload(admin, everyone, deactivate_missing=True).json
    assert (back["updated_users"], back["deactivated_users"]) == (1, 0)
    assert users_by_name(app)["lise"].active


def test_active_column_and_bad_active_value(app, admin):
    resp = upload(admin, b"brugernavn;aktiv\nmette;nej\njens;m\xc3\xa5ske\n")
    assert resp.json["problems"] == ["row 3: cannot read active value 'måske' (use ja/nej, yes/no or 1/0)"]
    assert users_by_name(app)["mette"].active is False


def test_local_users_only_gain_group_memberships(app, admin, caseworker):
    resp = upload(
        admin,
        "brugernavn;navn;e-mail;grupper;roller;aktiv\nAnna;Anna Anden;ny@kommune.dk;Byggeri;it_admin;nej\n".encode(),
    )
    assert resp.json["updated_users"] == 1 and resp.json["created_users"] == 0
    anna = users_by_name(app)["anna"]
    assert anna.source == "local" and anna.active and anna.full_name == "" and anna.email is None
    assert {r.code for r in anna.roles} == {"caseworker"}
    assert groups_of(anna) == {"Byggeri"}


def test_every_change_is_audited_with_the_actor(app, admin):
    upload(admin, b"username;groups\nmette;Byggeri\n")
    upload(admin, b"username;groups\nmette;Borgerservice\n")
    session = app.extensions["sagspost.sessionmaker"]()
    try:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.at)).all()
        actions = [(e.action, e.actor_name) for e in events if e.summary == "CSV import"]
        assert ("user.created", "admin") in actions and ("group.created", "admin") in actions
        updated = next(e for e in events if e.action == "user.updated" and e.summary == "CSV import")
        assert updated.before == {"groups": ["Byggeri"]} and updated.after == {"groups": ["Borgerservice"]}
        group_change = next(e for e in events if e.action == "group.updated")
        assert group_change.after == {"members_removed": ["mette"]}
    finally:
        session.close()


def test_caseworker_may_not_import(app, caseworker):
    resp = upload(caseworker, b"username\nmette\n")
    assert resp.status_code == 403
    assert "mette" not in users_by_name(app)


def test_file_without_username_column_or_file_is_rejected(app, admin):
    resp = upload(admin, b"navn;afdeling\nMette;Byggeri\n")
    assert resp.status_code == 422
    assert "no username column" in resp.json["message"]
    assert admin.post("/api/users/import", data={}, content_type="multipart/form-data").status_code == 422


def test_empty_files_and_workbooks_are_rejected_with_a_reason(app, admin):
    assert upload(admin, b"").json["message"] == "The file is empty."
    assert upload(admin, b";;;\r\n;;;\r\n").json["message"] == "The file is empty."
    resp = upload(admin, b"PK\x03\x04 rest of an xlsx", filename="brugere.xlsx")
    assert resp.status_code == 422 and "Excel workbook" in resp.json["message"]


def test_header_after_blank_lines_keeps_spreadsheet_row_numbers(app, admin):
    resp = upload(admin, b"\r\n;;\r\nusername;email\r\nok;ok@kommune.dk\r\n;x@kommune.dk\r\n")
    assert resp.json["created_users"] == 1
    assert resp.json["problems"] == ["row 5: missing username"]


def test_openapi_documents_the_upload(app):
    spec = app.test_client().get("/api/openapi.json").json
    op = spec["paths"]["/api/users/import"]["post"]
    body = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in body:
        body = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert (body["properties"]["file"]["type"], body["properties"]["file"]["format"]) == ("string", "binary")
    assert [p["name"] for p in op["parameters"] if p["in"] == "query"] == ["deactivate_missing"]
    assert "/api/directory/sync" in spec["paths"]


def test_report_describe():
    report = directory.ImportReport(created_users=2, updated_users=1, problems=["row 3: missing username"])
    text = report.describe()
    assert "2 created, 1 updated, 0 deactivated" in text and "row 3: missing username" in text


# ---------------------------------------------------------------- the `sagspost import-users` command


def cli_env(tmp_path, database_url: str) -> dict[str, str]:
    return {
        "SAGSPOST_DATABASE_URL": database_url,
        "SAGSPOST_DATA_DIR": str(tmp_path / "cli-data"),
        "SAGSPOST_SECRET_KEY": "cli-test",
        "SAGSPOST_LOG_FORMAT": "text",
        "SAGSPOST_LOG_LEVEL": "WARNING",
        "SAGSPOST_ARGON2_TIME_COST": "1",
        "SAGSPOST_ARGON2_MEMORY_COST_KIB": "1024",
    }


def test_cli_import_users(app, tmp_path, database_url):
    csv_file = tmp_path / "brugere.csv"
    csv_file.write_bytes(DANISH.encode("cp1252"))
    runner = CliRunner()

    result = runner.invoke(main, ["import-users", str(csv_file)], env=cli_env(tmp_path, database_url))

    assert result.exit_code == 0, result.output
    assert "Users: 2 created, 0 updated, 0 deactivated." in result.output
    assert "Groups: 2 created" in result.output
    assert users_by_name(app)["søren"].full_name == "Søren Østergård"

    csv_file.write_bytes(b"username\nnew\n")
    result = runner.invoke(
        main, ["import-users", "--deactivate-missing", str(csv_file)], env=cli_env(tmp_path, database_url)
    )
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 2 deactivated" in result.output


def test_cli_import_users_bad_file_is_a_message_not_a_traceback(app, tmp_path, database_url):
    csv_file = tmp_path / "forkert.csv"
    csv_file.write_bytes(b"navn;afdeling\nMette;Byggeri\n")

    result = CliRunner().invoke(main, ["import-users", str(csv_file)], env=cli_env(tmp_path, database_url))

    assert result.exit_code == 1
    assert "Error: The file has no username column" in result.output
    assert "Traceback" not in result.output
