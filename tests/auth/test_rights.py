"""Rights are data: the catalogue, the four roles, and editing which role holds what."""
from __future__ import annotations

from server.auth.rights import DEFAULT_ROLE_RIGHTS, Right, RoleCode

ROLES = {"it_admin", "system_admin", "org_admin", "caseworker"}


def _rights_of(caller, code):
    res = caller.get(f"/api/roles/{code}")
    assert res.status_code == 200
    return res.json["rights"]


def test_rights_catalogue_lists_every_named_right(caseworker):
    res = caseworker.get("/api/rights")
    assert res.status_code == 200
    by_name = {r["name"]: r["description"] for r in res.json}
    assert set(by_name) == {r.value for r in Right}
    assert "users.manage" in by_name and "rights.manage" in by_name and "audit.read" in by_name
    assert all(by_name.values())


def test_roles_lists_the_four_roles_with_their_rights(caseworker):
    res = caseworker.get("/api/roles")
    assert res.status_code == 200
    roles = {r["code"]: r for r in res.json}
    assert set(roles) == ROLES
    for code in RoleCode:
        assert roles[code.value]["rights"] == sorted(r.value for r in DEFAULT_ROLE_RIGHTS[code])
        assert roles[code.value]["name"]
    assert "users.manage" not in roles["caseworker"]["rights"]
    assert "rights.manage" in roles["it_admin"]["rights"]


def test_rights_and_roles_need_a_caller(app):
    assert app.test_client().get("/api/rights").status_code == 401
    assert app.test_client().get("/api/roles").status_code == 401


def test_unknown_role_is_404(admin):
    res = admin.get("/api/roles/pope")
    assert res.status_code == 404 and res.json["code"] == 404
    assert admin.put("/api/roles/pope", json={"rights": []}).status_code == 404


def test_granting_users_manage_to_caseworkers_takes_effect_at_once(admin, caseworker):
    assert caseworker.post("/api/groups", json={"name": "Før"}).status_code == 403
    before = _rights_of(admin, "caseworker")

    res = admin.put("/api/roles/caseworker", json={"rights": before + ["users.manage"]})
    assert res.status_code == 200
    assert res.json["rights"] == sorted(before + ["users.manage"])
    assert "users.manage" in caseworker.get("/api/auth/me").json["rights"]
    created = caseworker.post("/api/groups", json={"name": "Efter"})
    assert created.status_code == 201

    res = admin.put("/api/roles/caseworker", json={"rights": before})
    assert res.status_code == 200
    assert _rights_of(admin, "caseworker") == sorted(before)
    assert "users.manage" not in caseworker.get("/api/auth/me").json["rights"]
    assert caseworker.post("/api/groups", json={"name": "Igen"}).status_code == 403
    assert caseworker.patch(f"/api/groups/{created.json['id']}", json={"name": "X"}).status_code == 403


def test_role_rights_can_be_set_to_the_same_list_and_emptied(admin):
    same = _rights_of(admin, "caseworker")
    assert admin.put("/api/roles/caseworker", json={"rights": same}).status_code == 200
    assert _rights_of(admin, "caseworker") == same
    assert admin.put("/api/roles/caseworker", json={"rights": same + same}).status_code == 200
    assert _rights_of(admin, "caseworker") == same
    assert admin.put("/api/roles/caseworker", json={"rights": []}).status_code == 200
    assert _rights_of(admin, "caseworker") == []


def test_changing_role_rights_needs_rights_manage(caseworker):
    before = _rights_of(caseworker, "caseworker")
    res = caseworker.put("/api/roles/caseworker", json={"rights": before + ["rights.manage"]})
    assert res.status_code == 403 and res.json["code"] == 403
    assert _rights_of(caseworker, "caseworker") == before


def test_unknown_right_is_422(admin):
    before = _rights_of(admin, "caseworker")
    res = admin.put("/api/roles/caseworker", json={"rights": ["cases.create", "world.domination"]})
    assert res.status_code == 422
    assert res.json["code"] == 422 and res.json["message"]
    assert "rights" in str(res.json["errors"])
    assert _rights_of(admin, "caseworker") == before
    assert admin.put("/api/roles/caseworker", json={}).status_code == 422


def test_removing_rights_manage_from_every_role_is_refused(admin):
    for code in ("it_admin", "system_admin"):
        rights = [r for r in _rights_of(admin, code) if r != "rights.manage"]
        assert admin.put(f"/api/roles/{code}", json={"rights": rights}).status_code == 200

    last = [r for r in _rights_of(admin, "org_admin") if r != "rights.manage"]
    res = admin.put("/api/roles/org_admin", json={"rights": last})
    assert res.status_code == 409
    assert res.json["code"] == 409 and res.json["message"]
    assert "rights.manage" in _rights_of(admin, "org_admin")
    assert "rights.manage" in admin.get("/api/auth/me").json["rights"]


def test_last_rights_manage_role_is_kept_even_when_the_actor_holds_another_role(admin, make_user):
    # caseworkers get rights.manage; a caseworker strips the admin roles, then tries their own
    cw = _rights_of(admin, "caseworker")
    assert admin.put("/api/roles/caseworker", json={"rights": cw + ["rights.manage"]}).status_code == 200
    anna = make_user("anna2", roles=["caseworker"])
    for code in ("it_admin", "system_admin", "org_admin"):
        rights = [r for r in _rights_of(anna, code) if r != "rights.manage"]
        assert anna.put(f"/api/roles/{code}", json={"rights": rights}).status_code == 200
    assert anna.put("/api/roles/caseworker", json={"rights": cw}).status_code == 409
    assert "rights.manage" in _rights_of(anna, "caseworker")


def test_rights_manage_can_move_to_another_role(admin):
    """The guard only refuses the last holder; giving it elsewhere first makes removal possible."""
    for code in ("it_admin", "system_admin"):
        rights = [r for r in _rights_of(admin, code) if r != "rights.manage"]
        assert admin.put(f"/api/roles/{code}", json={"rights": rights}).status_code == 200
    cw = _rights_of(admin, "caseworker")
    assert admin.put("/api/roles/caseworker", json={"rights": cw + ["rights.manage"]}).status_code == 200
    org = [r for r in _rights_of(admin, "org_admin") if r != "rights.manage"]
    assert admin.put("/api/roles/org_admin", json={"rights": org}).status_code == 200
