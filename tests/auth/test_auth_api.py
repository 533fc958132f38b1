"""Sign-in, sessions, CSRF, API tokens, users and groups, through the HTTP API."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.auth.models import ApiToken, User
from server.db import utcnow

PASSWORD = "correct horse battery"


def login(client, username, password=PASSWORD):
    return client.post("/api/auth/login", json={"username": username, "password": password})


def signed_in(app, username, password=PASSWORD):
    """A fresh test client with a browser session; returns (client, csrf_token)."""
    client = app.test_client()
    res = login(client, username, password)
    assert res.status_code == 200, res.json
    return client, res.json["csrf_token"]


def assert_error(res, status):
    assert res.status_code == status, (res.status_code, res.get_data(as_text=True))
    body = res.json
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    return body


# ---------------------------------------------------------------- sign-in


def test_login_sets_a_safe_session_cookie_and_answers_user_rights_and_csrf(app, make_user):
    bob = make_user("bob", roles=["caseworker"], password=PASSWORD, full_name="Bob Hansen")
    client = app.test_client()

    res = login(client, "bob")

    assert res.status_code == 200
    cookie = next(h for h in res.headers.getlist("Set-Cookie") if h.startswith("sagspost_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    body = res.json
    assert body["user"]["id"] == str(bob.user_id)
    assert body["user"]["username"] == "bob"
    assert body["user"]["roles"] == ["caseworker"]
    assert "password" not in body["user"] and "password_hash" not in body["user"]
    assert "cases.create" in body["rights"] and "users.manage" not in body["rights"]
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 20


def test_login_username_is_case_insensitive_and_records_last_login(app, make_user):
    make_user("bob", password=PASSWORD)
    res = login(app.test_client(), "  BOB ")
    assert res.status_code == 200
    assert res.json["user"]["last_login_at"] is not None


def test_wrong_password_and_unknown_user_get_the_same_401(app, make_user):
    make_user("bob", password=PASSWORD)
    wrong = login(app.test_client(), "bob", "not the password at all")
    unknown = login(app.test_client(), "nobody", PASSWORD)
    assert_error(wrong, 401)
    assert_error(unknown, 401)
    assert wrong.json["message"] == unknown.json["message"]
    assert "sagspost_session=" not in " ".join(wrong.headers.getlist("Set-Cookie"))


def test_user_without_password_cannot_sign_in(app, make_user):
    make_user("nopass")  # e.g. a directory user
    assert_error(login(app.test_client(), "nopass", ""), 422)  # empty password is a bad body
    assert_error(login(app.test_client(), "nopass", "anything at all"), 401)


def test_inactive_user_cannot_sign_in(app, admin, make_user):
    bob = make_user("bob", password=PASSWORD)
    assert login(app.test_client(), "bob").status_code == 200
    assert admin.patch(f"/api/users/{bob.user_id}", json={"active": False}).status_code == 200
    res = login(app.test_client(), "bob")
    assert_error(res, 401)
    assert res.json["message"] == login(app.test_client(), "bob", "wrong password!!").json["message"]


def test_deactivating_a_user_ends_their_sessions_and_tokens(app, admin, make_user):
    bob = make_user("bob", password=PASSWORD)
    client, _ = signed_in(app, "bob")
    assert admin.patch(f"/api/users/{bob.user_id}", json={"active": False}).status_code == 200
    assert_error(client.get("/api/auth/me"), 401)
    assert_error(bob.get("/api/auth/me"), 401)


def test_login_with_a_bad_body_is_422(app):
    res = app.test_client().post("/api/auth/login", json={"username": "bob"})
    body = assert_error(res, 422)
    assert "password" in json.dumps(body["errors"])


def test_me_works_with_the_cookie_and_not_without(app, make_user):
    bob = make_user("bob", password=PASSWORD)
    client, csrf = signed_in(app, "bob")

    res = client.get("/api/auth/me")
    assert res.status_code == 200
    assert res.json["user"]["id"] == str(bob.user_id)
    assert res.json["csrf_token"] == csrf
    assert "cases.create" in res.json["rights"]

    assert_error(app.test_client().get("/api/auth/me"), 401)


def test_me_with_a_bearer_token_has_no_csrf_token(caseworker):
    res = caseworker.get("/api/auth/me")
    assert res.status_code == 200
    assert res.json["user"]["username"] == "anna"
    assert res.json["csrf_token"] is None


def test_cookie_post_and_patch_need_the_csrf_header(app, make_user):
    boss = make_user("boss", roles=["org_admin"], password=PASSWORD)
    client, csrf = signed_in(app, "boss")

    assert_error(client.post("/api/groups", json={"name": "Byg"}), 403)
    assert_error(client.post("/api/groups", json={"name": "Byg"}, headers={"X-CSRF-Token": "wrong"}), 403)
    # a non-ASCII header value is a wrong token, not a crash
    assert_error(client.post("/api/groups", json={"name": "Byg"}, headers={"X-CSRF-Token": "æøå"}), 403)
    assert client.get("/api/groups").json == []  # nothing was created by the refused calls

    res = client.post("/api/groups", json={"name": "Byg"}, headers={"X-CSRF-Token": csrf})
    assert res.status_code == 201

    url = f"/api/users/{boss.user_id}"
    assert_error(client.patch(url, json={"full_name": "The Boss"}), 403)
    assert client.get(url).json["full_name"] == ""
    res = client.patch(url, json={"full_name": "The Boss"}, headers={"X-CSRF-Token": csrf})
    assert res.status_code == 200
    assert client.get(url).json["full_name"] == "The Boss"


def test_bearer_calls_need_no_csrf_header(admin):
    assert admin.post("/api/groups", json={"name": "Byg"}).status_code == 201


def test_logout_ends_the_session(app, make_user):
    make_user("bob", password=PASSWORD)
    client, csrf = signed_in(app, "bob")
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert_error(client.get("/api/auth/me"), 401)


def test_logout_everywhere_ends_the_other_sessions_too(app, make_user):
    bob = make_user("bob", password=PASSWORD)
    first, csrf = signed_in(app, "bob")
    second, _ = signed_in(app, "bob")
    assert second.get("/api/auth/me").status_code == 200

    assert first.post("/api/auth/logout-everywhere", headers={"X-CSRF-Token": csrf}).status_code == 204

    assert_error(first.get("/api/auth/me"), 401)
    assert_error(second.get("/api/auth/me"), 401)
    # API tokens are not browser sessions and keep working
    assert bob.get("/api/auth/me").status_code == 200
    # signing in again works
    third, _ = signed_in(app, "bob")
    assert third.get("/api/auth/me").status_code == 200


def test_logout_everywhere_needs_a_caller(app):
    assert_error(app.test_client().post("/api/auth/logout-everywhere"), 401)


# ---------------------------------------------------------------- own password


def test_caseworker_changes_own_password_and_old_sessions_end(app, make_user):
    bob = make_user("bob", password=PASSWORD)
    other_browser, _ = signed_in(app, "bob")
    client, csrf = signed_in(app, "bob")

    res = client.patch(f"/api/users/{bob.user_id}", json={"password": "a brand new secret"}, headers={"X-CSRF-Token": csrf})

    assert res.status_code == 200
    assert_error(other_browser.get("/api/auth/me"), 401)
    assert_error(login(app.test_client(), "bob", PASSWORD), 401)
    assert login(app.test_client(), "bob", "a brand new secret").status_code == 200


def test_own_password_change_by_token(app, make_user):
    bob = make_user("bob", password=PASSWORD)
    browser, _ = signed_in(app, "bob")
    assert bob.patch(f"/api/users/{bob.user_id}", json={"password": "another new secret"}).status_code == 200
    assert_error(browser.get("/api/auth/me"), 401)
    assert login(app.test_client(), "bob", "another new secret").status_code == 200


def test_password_needs_twelve_characters(app, make_user):
    bob = make_user("bob", password=PASSWORD)
    res = bob.patch(f"/api/users/{bob.user_id}", json={"password": "short1234"})
    body = assert_error(res, 422)
    assert "password" in body["errors"]
    assert login(app.test_client(), "bob", PASSWORD).status_code == 200
    # the same rule when an administrator creates a user
    admin = make_user("root", roles=["it_admin"])
    assert_error(admin.post("/api/users", json={"username": "x", "password": "elevenchars"}), 422)


def test_caseworker_cannot_change_others_or_own_roles(app, caseworker, make_user):
    bob = make_user("bob", password=PASSWORD)
    assert_error(caseworker.patch(f"/api/users/{bob.user_id}", json={"password": "hijacked password"}), 403)
    assert_error(caseworker.patch(f"/api/users/{bob.user_id}", json={"full_name": "X"}), 403)
    assert_error(caseworker.patch(f"/api/users/{caseworker.user_id}", json={"roles": ["it_admin"]}), 403)
    assert_error(caseworker.patch(f"/api/users/{caseworker.user_id}", json={"active": False}), 403)
    assert login(app.test_client(), "bob", PASSWORD).status_code == 200
    assert caseworker.get(f"/api/users/{caseworker.user_id}").json["roles"] == ["caseworker"]


# ---------------------------------------------------------------- API tokens


def test_token_secret_is_shown_once_and_works_as_bearer(app, db_session, caseworker):
    res = caseworker.post("/api/auth/tokens", json={"name": "script", "expires_in_days": 30})
    assert res.status_code == 201
    secret = res.json["token"]
    assert secret.startswith("sp_") and len(secret) > 30
    assert res.json["prefix"] == secret[: len(res.json["prefix"])]
    assert res.json["name"] == "script"

    listing = caseworker.get("/api/auth/tokens")
    assert listing.status_code == 200
    assert {t["name"] for t in listing.json} == {"test", "script"}
    assert secret not in listing.get_data(as_text=True)
    assert all("token" not in t for t in listing.json)

    me = app.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200
    assert me.json["user"]["username"] == "anna"

    # stored hashed: no column of the row holds the secret
    row = db_session.get(ApiToken, uuid.UUID(res.json["id"]))
    assert row.token_hash != secret and secret not in row.token_hash
    assert secret not in " ".join(str(getattr(row, c.key)) for c in ApiToken.__table__.columns)
    assert row.last_used_at is not None


def test_revoked_token_is_refused(app, caseworker):
    res = caseworker.post("/api/auth/tokens", json={"name": "script"})
    secret, token_id = res.json["token"], res.json["id"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/auth/me", headers=headers).status_code == 200

    assert caseworker.delete(f"/api/auth/tokens/{token_id}").status_code == 204

    assert_error(app.test_client().get("/api/auth/me", headers=headers), 401)
    listed = {t["id"]: t for t in caseworker.get("/api/auth/tokens").json}
    assert listed[token_id]["revoked_at"] is not None


def test_a_token_can_revoke_itself(app, caseworker):
    own = next(t for t in caseworker.get("/api/auth/tokens").json if t["name"] == "test")
    assert caseworker.delete(f"/api/auth/tokens/{own['id']}").status_code == 204
    assert_error(caseworker.get("/api/auth/me"), 401)


def test_someone_elses_token_cannot_be_revoked_by_a_caseworker(caseworker, make_user):
    bob = make_user("bob")
    bobs = bob.get("/api/auth/tokens").json[0]
    assert_error(caseworker.delete(f"/api/auth/tokens/{bobs['id']}"), 404)
    assert bob.get("/api/auth/me").status_code == 200


def test_expired_token_is_refused(app, db_session, caseworker):
    res = caseworker.post("/api/auth/tokens", json={"name": "short"})
    headers = {"Authorization": f"Bearer {res.json['token']}"}
    row = db_session.get(ApiToken, uuid.UUID(res.json["id"]))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    assert_error(app.test_client().get("/api/auth/me", headers=headers), 401)


@pytest.mark.parametrize("value", ["sp_not-a-real-token", "garbage", "", "sp_"])
def test_garbage_bearer_is_401(app, value):
    res = app.test_client().get("/api/auth/me", headers={"Authorization": f"Bearer {value}"})
    assert_error(res, 401)


def test_garbage_bearer_is_refused_even_with_a_valid_cookie(app, make_user):
    make_user("bob", password=PASSWORD)
    client, _ = signed_in(app, "bob")
    assert_error(client.get("/api/auth/me", headers={"Authorization": "Bearer sp_nope"}), 401)


@pytest.mark.parametrize("days", [0, -1, 366, 10000])
def test_token_lifetime_must_be_between_1_and_365_days(caseworker, days):
    body = assert_error(caseworker.post("/api/auth/tokens", json={"name": "x", "expires_in_days": days}), 422)
    assert "expires_in_days" in json.dumps(body["errors"])
    assert len(caseworker.get("/api/auth/tokens").json) == 1


@pytest.mark.parametrize("days", [1, 365])
def test_token_lifetime_bounds_are_allowed(caseworker, days):
    res = caseworker.post("/api/auth/tokens", json={"name": "x", "expires_in_days": days})
    assert res.status_code == 201


# ---------------------------------------------------------------- users


def test_admin_creates_gets_and_patches_a_user(app, admin, make_group):
    byg = make_group("Byg")
    res = admin.post(
        "/api/users",
        json={
            "username": "carl", "email": "carl@kommune.dk", "full_name": "Carl Nielsen",
            "password": PASSWORD, "roles": ["caseworker"], "group_ids": [str(byg)],
        },
    )
    assert res.status_code == 201
    carl = res.json
    assert carl["username"] == "carl" and carl["email"] == "carl@kommune.dk"
    assert carl["roles"] == ["caseworker"] and carl["active"] is True
    assert [g["name"] for g in carl["groups"]] == ["Byg"]
    assert "password" not in carl

    got = admin.get(f"/api/users/{carl['id']}")
    assert got.status_code == 200 and got.json["full_name"] == "Carl Nielsen"

    res = admin.patch(
        f"/api/users/{carl['id']}", json={"full_name": "Carl N.", "roles": ["caseworker", "org_admin"], "group_ids": []}
    )
    assert res.status_code == 200
    got = admin.get(f"/api/users/{carl['id']}").json
    assert got["full_name"] == "Carl N." and got["roles"] == ["caseworker", "org_admin"] and got["groups"] == []
    assert login(app.test_client(), "carl").status_code == 200


def test_user_list_is_paginated_and_filtered(admin, make_user, make_group):
    byg = make_group("Byg")
    make_user("bente", groups=[byg], full_name="Bente Bygning")
    make_user("carl", roles=["org_admin"], email="carl@kommune.dk")
    make_user("dora", groups=[byg])
    admin.patch(f"/api/users/{make_user('erik').user_id}", json={"active": False})

    res = admin.get("/api/users?page=1&page_size=2")
    assert res.status_code == 200
    assert json.loads(res.headers["X-Pagination"])["total"] == 5
    assert [u["username"] for u in res.json] == ["admin", "bente"]
    page2 = admin.get("/api/users?page=2&page_size=2")
    assert [u["username"] for u in page2.json] == ["carl", "dora"]

    def names(query):
        r = admin.get(f"/api/users?{query}")
        assert r.status_code == 200, r.json
        return [u["username"] for u in r.json]

    assert names("q=BYGNING") == ["bente"]
    assert names("q=kommune.dk") == ["carl"]
    assert names(f"group_id={byg}") == ["bente", "dora"]
    assert names("role=org_admin") == ["admin", "carl"]
    assert names("active=false") == ["erik"]
    assert names("active=true&role=caseworker") == ["bente", "dora"]
    assert_error(admin.get("/api/users?role=pope"), 422)


def test_caseworker_can_read_users_but_not_change_them(caseworker, admin):
    assert caseworker.get("/api/users").status_code == 200
    assert caseworker.get(f"/api/users/{admin.user_id}").json["username"] == "admin"
    assert_error(caseworker.post("/api/users", json={"username": "eve"}), 403)
    assert_error(caseworker.patch(f"/api/users/{admin.user_id}", json={"active": False}), 403)
    assert [u["username"] for u in admin.get("/api/users?q=eve").json] == []


def test_duplicate_users_are_409(admin, make_user):
    make_user("bob", email="bob@kommune.dk")
    carl = make_user("carl", email="carl@kommune.dk")
    assert_error(admin.post("/api/users", json={"username": "BOB"}), 409)
    assert_error(admin.post("/api/users", json={"username": "new", "email": "Bob@Kommune.dk"}), 409)
    assert_error(admin.patch(f"/api/users/{carl.user_id}", json={"username": "Bob"}), 409)
    assert_error(admin.patch(f"/api/users/{carl.user_id}", json={"email": "BOB@kommune.dk"}), 409)
    assert_error(admin.patch(f"/api/users/{carl.user_id}", json={"email": "bob@kommune.dk"}), 409)
    got = admin.get(f"/api/users/{carl.user_id}").json
    assert got["username"] == "carl" and got["email"] == "carl@kommune.dk"


def test_admin_cannot_deactivate_themselves(admin):
    assert_error(admin.patch(f"/api/users/{admin.user_id}", json={"active": False}), 409)
    assert admin.get("/api/auth/me").status_code == 200


def test_unknown_user_is_404_and_unknown_group_ref_is_404(admin):
    assert_error(admin.get(f"/api/users/{uuid.uuid4()}"), 404)
    assert_error(admin.patch(f"/api/users/{uuid.uuid4()}", json={"full_name": "x"}), 404)
    assert_error(admin.post("/api/users", json={"username": "x", "group_ids": [str(uuid.uuid4())]}), 404)


# ---------------------------------------------------------------- groups


def test_groups_create_patch_and_members(admin, make_user):
    bob, carl = make_user("bob"), make_user("carl")
    res = admin.post("/api/groups", json={"name": "Byg og Miljø", "description": "Teknik"})
    assert res.status_code == 201
    gid = res.json["id"]
    assert res.json["member_count"] == 0 and res.json["active"] is True

    assert admin.post(f"/api/groups/{gid}/members", json={"user_id": str(bob.user_id)}).status_code == 204
    assert admin.post(f"/api/groups/{gid}/members", json={"user_id": str(carl.user_id)}).status_code == 204
    assert admin.post(f"/api/groups/{gid}/members", json={"user_id": str(bob.user_id)}).status_code == 204  # idempotent
    assert sorted(u["username"] for u in admin.get(f"/api/groups/{gid}/members").json) == ["bob", "carl"]
    assert admin.get(f"/api/groups/{gid}").json["member_count"] == 2
    assert [g["name"] for g in bob.get(f"/api/users/{bob.user_id}").json["groups"]] == ["Byg og Miljø"]

    assert admin.delete(f"/api/groups/{gid}/members/{bob.user_id}").status_code == 204
    assert [u["username"] for u in admin.get(f"/api/groups/{gid}/members").json] == ["carl"]

    res = admin.patch(f"/api/groups/{gid}", json={"name": "Teknik", "description": "Teknik og miljø"})
    assert res.status_code == 200
    got = admin.get(f"/api/groups/{gid}").json
    assert got["name"] == "Teknik" and got["description"] == "Teknik og miljø"

    res = admin.patch(f"/api/groups/{gid}", json={"member_ids": [str(bob.user_id)]})
    assert res.status_code == 200
    assert [u["username"] for u in admin.get(f"/api/groups/{gid}/members").json] == ["bob"]

    assert admin.patch(f"/api/groups/{gid}", json={"active": False}).status_code == 200
    assert admin.get(f"/api/groups/{gid}").json["active"] is False


def test_group_list_paginates_and_filters(admin, make_group):
    for name in ("Byg", "Social", "Skole"):
        make_group(name)
    res = admin.get("/api/groups?page_size=2")
    assert json.loads(res.headers["X-Pagination"])["total"] == 3
    assert [g["name"] for g in res.json] == ["Byg", "Skole"]
    assert [g["name"] for g in admin.get("/api/groups?q=SO").json] == ["Social"]


def test_duplicate_group_names_are_409(admin, make_group):
    make_group("Byg")
    social = make_group("Social")
    assert_error(admin.post("/api/groups", json={"name": "byg"}), 409)
    assert_error(admin.patch(f"/api/groups/{social}", json={"name": "BYG"}), 409)
    assert admin.get(f"/api/groups/{social}").json["name"] == "Social"


def test_groups_need_users_manage(caseworker, make_group):
    gid = make_group("Byg")
    assert caseworker.get("/api/groups").status_code == 200
    assert_error(caseworker.post("/api/groups", json={"name": "Mine"}), 403)
    assert_error(caseworker.patch(f"/api/groups/{gid}", json={"name": "Mine"}), 403)
    assert_error(caseworker.post(f"/api/groups/{gid}/members", json={"user_id": str(caseworker.user_id)}), 403)
    assert_error(caseworker.delete(f"/api/groups/{gid}/members/{caseworker.user_id}"), 403)
    assert caseworker.get(f"/api/groups/{gid}/members").json == []
    assert caseworker.get(f"/api/groups/{gid}").json["name"] == "Byg"


def test_unknown_group_and_member_are_404(admin, make_group):
    gid = make_group("Byg")
    assert_error(admin.get(f"/api/groups/{uuid.uuid4()}"), 404)
    assert_error(admin.post(f"/api/groups/{gid}/members", json={"user_id": str(uuid.uuid4())}), 404)
    assert_error(admin.post(f"/api/groups/{uuid.uuid4()}/members", json={"user_id": str(admin.user_id)}), 404)


def test_group_membership_reaches_the_principal(app, admin, make_user, db_session):
    bob = make_user("bob")
    gid = admin.post("/api/groups", json={"name": "Byg"}).json["id"]
    admin.post(f"/api/groups/{gid}/members", json={"user_id": str(bob.user_id)})
    user = db_session.scalar(select(User).where(User.username == "bob"))
    assert [str(g.id) for g in user.groups] == [gid]


# ---------------------------------------------------------------- errors, documents, health


def test_errors_are_json_with_code_status_message(app, admin):
    assert_error(app.test_client().get("/api/users"), 401)
    assert_error(admin.get(f"/api/users/{uuid.uuid4()}"), 404)
    body = assert_error(admin.post("/api/users", json={"email": "not an e-mail"}), 422)
    assert set(body["errors"]["json"]) == {"username", "email"}
    assert_error(admin.get("/api/no-such-thing"), 404)
    assert_error(admin.delete("/api/users"), 405)
    assert_error(admin.get("/api/users/not-a-uuid"), 404)
    res = admin.post("/api/users", data="{not json", headers={"Content-Type": "application/json"})
    assert res.status_code in (400, 422)
    assert_error(res, res.status_code)


def test_method_not_allowed_keeps_the_allow_header(admin):
    res = admin.delete("/api/users")
    assert res.status_code == 405
    assert "GET" in res.headers["Allow"]


def test_openapi_document_covers_auth_users_groups_roles_rights(app):
    res = app.test_client().get("/api/openapi.json")
    assert res.status_code == 200
    paths = res.json["paths"]
    for path in (
        "/api/auth/login", "/api/auth/logout", "/api/auth/logout-everywhere", "/api/auth/me", "/api/auth/tokens",
        "/api/auth/tokens/{token_id}", "/api/users", "/api/users/{user_id}", "/api/groups", "/api/groups/{group_id}",
        "/api/groups/{group_id}/members", "/api/groups/{group_id}/members/{user_id}", "/api/roles",
        "/api/roles/{code}", "/api/rights", "/api/audit/changes",
    ):
        assert path in paths, path
    assert "post" in paths["/api/users"] and "patch" in paths["/api/users/{user_id}"]
    assert "put" in paths["/api/roles/{code}"]
    assert "bearer" in res.json["components"]["securitySchemes"]


def test_swagger_ui_page_is_served(app):
    res = app.test_client().get("/api/docs")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "swagger-ui" in html.lower()
    assert "openapi.json" in html


def test_healthz(app):
    res = app.test_client().get("/healthz")
    assert res.status_code == 200 and res.json == {"status": "ok"}



def test_readyz_reports_an_unmigrated_database(app):
    # the test database is built with create_all, so it carries no Alembic revision
    res = app.test_client().get("/readyz")
    assert res.status_code == 503
    assert res.json["status"] == "unavailable"
    assert "not migrated" in res.json["reason"]


def test_readyz_answers_json(app):
    res = app.test_client().get("/readyz")
    assert res.status_code in (200, 503)
    assert res.is_json
    assert res.json["status"] in ("ready", "unavailable")
    if res.status_code == 503:
        assert res.json["reason"]
