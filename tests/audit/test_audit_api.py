"""Every change to users, groups, roles and tokens lands in the audit trail."""
from __future__ import annotations

import json

PASSWORD = "correct horse battery"


def _changes(caller, query=""):
    res = caller.get(f"/api/audit/changes{query}")
    assert res.status_code == 200, res.json
    return res.json


def _actions(events):
    return [e["action"] for e in events]


def test_audit_trail_needs_audit_read(app, caseworker, make_user):
    res = caseworker.get("/api/audit/changes")
    assert res.status_code == 403
    assert res.json["code"] == 403 and res.json["message"]
    assert caseworker.get("/api/audit/access-log").status_code == 403
    assert app.test_client().get("/api/audit/changes").status_code == 401
    # an org_admin manages users but does not read the audit trail by default
    org = make_user("org", roles=["org_admin"])
    assert org.get("/api/audit/changes").status_code == 403


def test_user_changes_are_audited_with_actor_and_values(admin, make_group):
    byg = make_group("Byg")
    uid = admin.post(
        "/api/users", json={"username": "carl", "email": "carl@kommune.dk", "roles": ["caseworker"], "password": PASSWORD}
    ).json["id"]
    admin.patch(f"/api/users/{uid}", json={"full_name": "Carl Nielsen", "group_ids": [str(byg)]})
    admin.patch(f"/api/users/{uid}", json={"password": "a brand new secret"})

    events = _changes(admin, f"?entity_type=user&entity_id={uid}")
    assert _actions(events) == ["user.updated", "user.updated", "user.created"]
    created, first_patch, password_patch = events[2], events[1], events[0]
    assert all(e["actor_name"] == "admin" and e["actor_id"] == str(admin.user_id) for e in events)
    assert all(e["entity_id"] == uid for e in events)
    assert created["after"]["username"] == "carl" and created["after"]["roles"] == ["caseworker"]
    assert first_patch["before"] == {"full_name": "", "groups": []}
    assert first_patch["after"] == {"full_name": "Carl Nielsen", "groups": ["Byg"]}
    assert password_patch["after"] == {"password": "changed"}
    dumped = json.dumps(events)
    assert PASSWORD not in dumped and "a brand new secret" not in dumped and "argon2" not in dumped


def test_group_changes_and_membership_are_audited(admin, make_user):
    bob, carl = make_user("bob"), make_user("carl")
    gid = admin.post("/api/groups", json={"name": "Byg"}).json["id"]
    admin.patch(f"/api/groups/{gid}", json={"name": "Teknik"})
    admin.post(f"/api/groups/{gid}/members", json={"user_id": str(bob.user_id)})
    admin.delete(f"/api/groups/{gid}/members/{bob.user_id}")
    admin.patch(f"/api/groups/{gid}", json={"member_ids": [str(carl.user_id)]})

    events = _changes(admin, f"?entity_id={gid}")
    assert _actions(events) == [
        "group.updated", "group.member_removed", "group.member_added", "group.updated", "group.created",
    ]
    assert all(e["entity_type"] == "group" and e["actor_name"] == "admin" for e in events)
    assert events[4]["after"] == {"name": "Byg"}
    assert events[3]["before"] == {"name": "Byg"} and events[3]["after"] == {"name": "Teknik"}
    assert events[2]["after"] == {"user": "bob"}
    assert events[1]["before"] == {"user": "bob"}
    # replacing members through PATCH is recorded with who was in and who is in now
    assert events[0]["before"] == {"members": []} and events[0]["after"] == {"members": ["carl"]}


def test_role_rights_changes_are_audited(admin):
    before = admin.get("/api/roles/caseworker").json["rights"]
    admin.put("/api/roles/caseworker", json={"rights": before + ["users.manage"]})
    event = _changes(admin, "?entity_type=role")[0]
    assert event["action"] == "role.rights_changed"
    assert event["before"] == {"rights": before}
    assert event["after"] == {"rights": sorted(before + ["users.manage"])}


def test_token_and_sign_out_events_are_audited(app, admin, make_user):
    bob = make_user("bob", password=PASSWORD)
    tid = bob.post("/api/auth/tokens", json={"name": "script"}).json["id"]
    bob.delete(f"/api/auth/tokens/{tid}")
    bob.post("/api/auth/logout-everywhere")

    tokens = _changes(admin, f"?entity_id={tid}")
    assert _actions(tokens) == ["api_token.revoked", "api_token.created"]
    assert all(e["actor_name"] == "bob" for e in tokens)
    assert tokens[1]["after"] == {"name": "script"}
    assert "user.signed_out_everywhere" in _actions(_changes(admin, f"?entity_id={bob.user_id}"))


def test_refused_changes_leave_no_audit_record(admin, caseworker, make_group):
    gid = make_group("Byg")
    count = json.loads(admin.get("/api/audit/changes").headers["X-Pagination"])["total"]
    assert caseworker.post("/api/groups", json={"name": "Mine"}).status_code == 403
    assert caseworker.patch(f"/api/groups/{gid}", json={"name": "Mine"}).status_code == 403
    assert admin.post("/api/groups", json={"name": "byg"}).status_code == 409
    assert json.loads(admin.get("/api/audit/changes").headers["X-Pagination"])["total"] == count


def test_audit_trail_is_paginated_newest_first(admin, make_group):
    for i in range(5):
        make_group(f"G{i}")
    res = admin.get("/api/audit/changes?entity_type=group&page_size=2")
    assert res.status_code == 200
    assert json.loads(res.headers["X-Pagination"])["total"] == 5
    assert [e["after"]["name"] for e in res.json] == ["G4", "G3"]
    page3 = admin.get("/api/audit/changes?entity_type=group&page_size=2&page=3").json
    assert [e["after"]["name"] for e in page3] == ["G0"]
