"""Users and groups from LDAP, against a real OpenLDAP server (tests/auth/ldap_server.py)."""
from __future__ import annotations

import dataclasses
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.audit.models import AuditEvent
from server.auth import directory
from server.auth.models import Group, User
from server.cli import main
from tests.auth.ldap_server import (  # noqa: F401  (fixtures)
    GROUPS,
    PEOPLE,
    READER_PASSWORD,
    group_dn,
    ldap_directory,
    slapd_server,
    user_dn,
)

# ldap3 imports pyasn1 names that pyasn1 now marks deprecated; nothing for us to change
pytestmark = pytest.mark.filterwarnings("ignore:(tagMap|typeMap) is deprecated:DeprecationWarning")


def sync(app, ldap, actor=None, **overrides):
    settings = dataclasses.replace(app.config["SAGSPOST"], **ldap.settings(**overrides))
    session = app.extensions["sagspost.sessionmaker"]()
    try:
        with session.begin():
            return directory.sync_ldap(session, app.extensions["sagspost.passwords"], settings, actor=actor)
    finally:
        session.close()


def state(app) -> tuple[dict[str, User], dict[str, Group]]:
    session = app.extensions["sagspost.sessionmaker"]()
    try:
        users = {u.username: u for u in session.scalars(select(User))}
        groups = {g.name: g for g in session.scalars(select(Group))}
        for g in groups.values():
            g.member_names = {u.username for u in g.members}
        return users, groups
    finally:
        session.close()


def counts(report) -> tuple[int, int, int, int, int]:
    return (report.created_users, report.updated_users, report.deactivated_users, report.created_groups, report.updated_groups)


def test_first_sync_creates_users_and_groups_with_memberships(app, ldap_directory):
    report = sync(app, ldap_directory)

    assert report.problems == []
    # three users although the server answers at most two per search: the sync pages
    assert counts(report) == (3, 0, 0, 2, 0)
    users, groups = state(app)
    mette = users["mette"]
    assert mette.full_name == "Mette Ærø-Jensen" and mette.email == "mette@example.dk"
    assert mette.source == "ldap" and mette.external_id == ldap_directory.entry_uuid(user_dn("mette"))
    assert mette.password_hash is None and mette.active
    assert {r.code for r in mette.roles} == {"caseworker"}
    assert users["soren"].full_name == "Søren Østergård"
    assert groups["Byggeri"].source == "ldap"
    assert groups["Byggeri"].external_id == ldap_directory.entry_uuid(group_dn("Byggeri"))
    assert groups["Byggeri"].member_names == {"mette", "soren"}
    assert groups["Borgerservice"].member_names == {"anne"}


def test_changes_in_the_directory_follow_on_the_next_sync(app, ldap_directory):
    sync(app, ldap_directory)
    before, _ = state(app)

    ldap_directory.delete(user_dn("anne"))                               # gone
    ldap_directory.rename(user_dn("mette"), "uid=mkj")                   # new username, same entry
    ldap_directory.modify(user_dn("mkj"), cn="Mette Kjær", sn="Kjær", mail="mkj@example.dk")
    ldap_directory.set_members("Borgerservice", ["soren"])               # soren moved ...
    ldap_directory.set_members("Byggeri", ["mkj"])                       # ... out of Byggeri (no refint here)
    ldap_directory.rename(group_dn("Borgerservice"), "cn=Borgerservice og Ydelse")

    report = sync(app, ldap_directory)

    assert report.problems == []
    assert counts(report) == (0, 2, 1, 0, 2)
    users, groups = state(app)
    assert set(users) == {"mkj", "soren", "anne"}
    assert users["mkj"].id == before["mette"].id
    assert (users["mkj"].full_name, users["mkj"].email) == ("Mette Kjær", "mkj@example.dk")
    assert users["anne"].id == before["anne"].id and not users["anne"].active   # deactivated, not deleted
    assert set(groups) == {"Byggeri", "Borgerservice og Ydelse"}
    assert groups["Byggeri"].member_names == {"mkj"}
    assert groups["Borgerservice og Ydelse"].member_names == {"soren"}

    # nothing changed since: nothing to do, nothing audited
    session = app.extensions["sagspost.sessionmaker"]()
    audited = session.scalar(select(func.count()).select_from(AuditEvent))
    session.close()
    assert counts(sync(app, ldap_directory)) == (0, 0, 0, 0, 0)
    session = app.extensions["sagspost.sessionmaker"]()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == audited
    session.close()

    # back in the directory (a new entry, so a new entryUUID): the old user is taken over, not duplicated
    ldap_directory.add_user("anne", "Anne", "Åberg", "anne@example.dk")
    report = sync(app, ldap_directory)
    assert counts(report)[:3] == (0, 1, 0)
    users, _ = state(app)
    assert users["anne"].id == before["anne"].id and users["anne"].active
    assert users["anne"].external_id == ldap_directory.entry_uuid(user_dn("anne"))


def test_a_group_gone_from_the_directory_is_deactivated(app, ldap_directory):
    sync(app, ldap_directory)
    ldap_directory.delete(group_dn("Borgerservice"))

    report = sync(app, ldap_directory)

    assert counts(report) == (0, 1, 0, 0, 1)  # anne lost the membership; the group went inactive
    users, groups = state(app)
    assert not groups["Borgerservice"].active and groups["Borgerservice"].member_names == set()
    assert users["anne"].active


def test_a_local_user_with_the_same_username_only_gets_memberships(app, ldap_directory, make_user):
    make_user("anne", roles=["org_admin"], full_name="Anne Lokal")

    report = sync(app, ldap_directory)

    assert report.problems == [
        f"entry {user_dn('anne')}: 'anne' is a local user; only their directory group memberships are synchronised"
    ]
    users, groups = state(app)
    anne = users["anne"]
    assert (anne.source, anne.full_name, anne.external_id) == ("local", "Anne Lokal", None)
    assert groups["Borgerservice"].member_names == {"anne"}


def test_users_previously_imported_from_csv_are_taken_over(app, ldap_directory, admin):
    with app.app_context():
        session = app.extensions["sagspost.sessionmaker"]()
        with session.begin():
            directory.import_csv(session, None, b"username;name;groups\nsoren;S. O.;Byggeri\n")
        session.close()

    report = sync(app, ldap_directory)

    assert counts(report) == (2, 1, 0, 1, 1)
    users, groups = state(app)
    assert (users["soren"].source, users["soren"].full_name) == ("ldap", "Søren Østergård")
    assert groups["Byggeri"].source == "ldap" and groups["Byggeri"].member_names == {"mette", "soren"}


def test_wrong_bind_password_is_a_clear_error_and_changes_nothing(app, ldap_directory, admin):
    sync(app, ldap_directory)
    ldap_directory.delete(user_dn("anne"))

    with pytest.raises(directory.DirectoryUnavailable) as caught:
        sync(app, ldap_directory, ldap_bind_password="wrong-password")

    message = caught.value.message
    assert "refused the bind" in message and "SAGSPOST_LDAP_BIND_PASSWORD" in message
    assert "wrong-password" not in message
    users, _ = state(app)
    assert users["anne"].active

    app.config["SAGSPOST"] = dataclasses.replace(
        app.config["SAGSPOST"], **ldap_directory.settings(ldap_bind_password="wrong-password")
    )
    resp = admin.post("/api/directory/sync")
    assert resp.status_code == 502
    assert "refused the bind" in resp.json["message"] and "wrong-password" not in resp.get_data(as_text=True)
    assert state(app)[0]["anne"].active


def test_unreachable_directory_and_missing_settings(app, ldap_directory, admin):
    with pytest.raises(directory.DirectoryUnavailable, match="Cannot reach the directory"):
        sync(app, ldap_directory, ldap_url="ldap://127.0.0.1:1")
    with pytest.raises(directory.DirectoryUnavailable, match="no such entry while searching users under ou=nobody"):
        sync(app, ldap_directory, ldap_user_base=f"ou=nobody,{PEOPLE}")

    with pytest.raises(directory.DirectoryInvalid) as caught:
        sync(app, ldap_directory, ldap_url="", ldap_group_base="")
    assert caught.value.message == (
        "Directory sync is not configured: SAGSPOST_LDAP_URL, SAGSPOST_LDAP_GROUP_BASE must be set."
    )
    with pytest.raises(directory.DirectoryInvalid, match="SAGSPOST_LDAP_BIND_PASSWORD"):
        sync(app, ldap_directory, ldap_bind_password="")

    resp = admin.post("/api/directory/sync")  # the app has no LDAP settings
    assert resp.status_code == 422 and "SAGSPOST_LDAP_URL" in resp.json["message"]


def test_sync_over_http_needs_a_right(app, ldap_directory, admin, caseworker, make_user):
    app.config["SAGSPOST"] = dataclasses.replace(app.config["SAGSPOST"], **ldap_directory.settings())
    assert caseworker.post("/api/directory/sync").status_code == 403

    resp = admin.post("/api/directory/sync")

    assert resp.status_code == 200, resp.json
    assert resp.json == {
        "created_users": 3, "updated_users": 0, "deactivated_users": 0,
        "created_groups": 2, "updated_groups": 0, "problems": [],
    }
    session = app.extensions["sagspost.sessionmaker"]()
    created = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.created", AuditEvent.summary == "LDAP sync")).all()
    session.close()
    assert {e.actor_name for e in created} == {"admin"} and len(created) == 3


def test_sagspost_sync_directory_command(app, ldap_directory, tmp_path, database_url):
    env = {
        "SAGSPOST_DATABASE_URL": database_url,
        "SAGSPOST_DATA_DIR": str(tmp_path / "cli-data"),
        "SAGSPOST_SECRET_KEY": "cli-test",
        "SAGSPOST_LOG_FORMAT": "text",
        "SAGSPOST_LOG_LEVEL": "WARNING",
        "SAGSPOST_ARGON2_TIME_COST": "1",
        "SAGSPOST_ARGON2_MEMORY_COST_KIB": "1024",
        **ldap_directory.env(),
    }
    runner = CliRunner()

    result = runner.invoke(main, ["sync-directory"], env=env)

    assert result.exit_code == 0, result.output
    assert "Users: 3 created, 0 updated, 0 deactivated." in result.output
    assert "Groups: 2 created, 0 updated." in result.output
    users, groups = state(app)
    assert set(users) == {"mette", "soren", "anne"} and groups["Byggeri"].member_names == {"mette", "soren"}

    ldap_directory.delete(user_dn("soren"))
    result = runner.invoke(main, ["sync-directory"], env=env)
    assert result.exit_code == 0, result.output
    assert "Users: 0 created, 0 updated, 1 deactivated." in result.output

    result = runner.invoke(main, ["sync-directory"], env={**env, "SAGSPOST_LDAP_BIND_PASSWORD": "wrong-password"})
    assert result.exit_code == 1
    assert "Error: The directory at" in result.output and "refused the bind" in result.output
    assert "Traceback" not in result.output and "wrong-password" not in result.output
    assert READER_PASSWORD not in result.output

    result = runner.invoke(main, ["sync-directory"], env={**env, "SAGSPOST_LDAP_URL": ""})
    assert result.exit_code == 1 and "SAGSPOST_LDAP_URL must be set" in result.output


# ---------------------------------------------------------------- Active Directory details, without a server


def test_active_directory_entries_objectguid_and_disabled_flag():
    guid = uuid.uuid4()
    entry = {
        "dn": "CN=Kåre Bøgh,OU=Brugere,DC=kommune,DC=dk",
        "raw_attributes": {
            "sAMAccountName": [b"kbo"],
            "objectGUID": [guid.bytes_le],
            "displayName": ["Kåre Bøgh".encode()],
            "mail": [b"kbo@kommune.dk"],
            "userAccountControl": [b"514"],  # NORMAL_ACCOUNT | ACCOUNTDISABLE
        },
    }
    user = directory._directory_user(entry)
    assert (user.username, user.external_id, user.full_name, user.disabled) == ("kbo", str(guid), "Kåre Bøgh", True)
    entry["raw_attributes"]["userAccountControl"] = [b"512"]
    assert directory._directory_user(entry).disabled is False


def test_active_directory_ranged_member_retrieval():
    class FakeConnection:
        def __init__(self):
            self.requests = []
            self.response = []

        def search(self, dn, search_filter, scope, attributes):
            self.requests.append(attributes)
            if attributes == ["member;range=2-*"]:
                self.response = [{"raw_attributes": {"member;range=2-3": [b"CN=c", b"CN=d"]}}]
            else:
                self.response = [{"raw_attributes": {"member;range=4-*": [b"CN=e"]}}]

    conn = FakeConnection()
    raw = {"member": [], "member;range=0-1": [b"CN=a", b"CN=b"]}
    assert directory._member_dns(conn, "CN=Stor,DC=kommune,DC=dk", raw) == ["CN=a", "CN=b", "CN=c", "CN=d", "CN=e"]
    assert conn.requests == [["member;range=2-*"], ["member;range=4-*"]]


def test_member_dns_compare_regardless_of_case_and_spaces():
    assert directory._norm_dn("UID=Mette, OU=People,DC=example,DC=dk") == directory._norm_dn("uid=mette,ou=people,dc=example,dc=dk")


# ---------------------------------------------------------------- the test server's own fallbacks


def test_without_slapd_the_tests_skip_with_a_hint(monkeypatch, tmp_path):
    from tests.auth import ldap_server

    monkeypatch.setattr(ldap_server, "SLAPD", str(tmp_path / "no-slapd"))
    with pytest.raises(pytest.skip.Exception, match="slapd not installed.*make test"):
        ldap_server._start(tmp_path)


def test_a_slapd_that_cannot_start_skips_with_its_output(monkeypatch, tmp_path):
    from tests.auth import ldap_server

    monkeypatch.setattr(ldap_server, "MODULE_DIR", tmp_path / "no-modules")
    with pytest.raises(pytest.skip.Exception, match="slapd could not start"):
        ldap_server._start(tmp_path)
