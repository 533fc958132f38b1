"""The access matrix: who sees and changes a case, in reads, lists, counts and writes."""
import json

import pytest

READ, WRITE, NONE = "read", "write", "none"


@pytest.fixture
def world(make_user, make_group, new_case, public_template, admin):
    team = make_group("Team 1")
    owner = make_user("owner")
    users = {
        "owner": owner,
        "reader": make_user("reader"),
        "writer": make_user("writer"),
        "teammate": make_user("teammate", groups=[team]),
        "group_reader": make_user("group_reader", groups=[make_group("Revision")]),
        "stranger": make_user("stranger"),
        "orgadmin": make_user("orgadmin", roles=["org_admin"]),
    }
    case = new_case(owner, title="Fortrolig", owner_group_id=str(team))
    url = f"/api/cases/{case['id']}/members"
    assert owner.post(url, json={"user_id": str(users["reader"].user_id), "access": "read"}).status_code == 201
    assert owner.post(url, json={"user_id": str(users["writer"].user_id), "access": "write"}).status_code == 201
    revision = users["group_reader"].get("/api/auth/me").json["user"]["groups"][0]["id"]
    assert owner.post(url, json={"group_id": revision, "access": "read"}).status_code == 201
    public = owner.post("/api/cases", json={"template_id": public_template["id"], "title": "Åben"}).json
    return {"users": users, "case": case, "public": public, "team": team}


EXPECTED = {
    "owner": WRITE,
    "writer": WRITE,
    "teammate": WRITE,
    "reader": READ,
    "group_reader": READ,
    "stranger": NONE,
    "orgadmin": NONE,
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_read_list_count_and_write_follow_membership(world, who):
    user, case = world["users"][who], world["case"]
    expected = EXPECTED[who]
    read = user.get(f"/api/cases/{case['id']}")
    listed = user.get("/api/cases?q=Fortrolig")
    total = json.loads(listed.headers["X-Pagination"])["total"]
    update = user.patch(f"/api/cases/{case['id']}", json={"description": f"by {who}"})
    note = user.post(f"/api/cases/{case['id']}/notes", json={"text": "note"})
    history = user.get(f"/api/cases/{case['id']}/history")
    if expected == NONE:
        assert read.status_code == 404 and read.json["message"] == "No such case."
        assert listed.json == [] and total == 0
        assert update.status_code == 404 and note.status_code == 404 and history.status_code == 404
    else:
        assert read.status_code == 200
        assert [c["id"] for c in listed.json] == [case["id"]] and total == 1
        assert history.status_code == 200
        if expected == WRITE:
            assert update.status_code == 200 and note.status_code == 201
        else:
            assert update.status_code == 403 and note.status_code == 403


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_public_case_is_readable_by_all_but_writable_only_by_members(world, who):
    user, public = world["users"][who], world["public"]
    assert user.get(f"/api/cases/{public['id']}").status_code == 200
    update = user.patch(f"/api/cases/{public['id']}", json={"description": "x"})
    assert update.status_code == (200 if who == "owner" else 403)


def test_right_to_access_all_cases_is_data_an_administrator_grants(world, admin):
    orgadmin, case = world["users"]["orgadmin"], world["case"]
    assert orgadmin.get(f"/api/cases/{case['id']}").status_code == 404
    rights = admin.get("/api/roles/org_admin").json["rights"]
    assert admin.put("/api/roles/org_admin", json={"rights": rights + ["cases.access_all"]}).status_code == 200
    assert orgadmin.get(f"/api/cases/{case['id']}").status_code == 200
    assert orgadmin.patch(f"/api/cases/{case['id']}", json={"description": "admin"}).status_code == 200


def test_only_owner_changes_who_can_see_the_case(world):
    case, users = world["case"], world["users"]
    assert users["writer"].patch(f"/api/cases/{case['id']}", json={"access": "public"}).status_code == 403
    assert users["owner"].patch(f"/api/cases/{case['id']}", json={"access": "public"}).status_code == 200
    assert users["stranger"].get(f"/api/cases/{case['id']}").status_code == 200


def test_removing_a_member_removes_access(world):
    case, users = world["case"], world["users"]
    members = users["owner"].get(f"/api/cases/{case['id']}/members").json
    reader = next(m for m in members if m["user_id"] == str(users["reader"].user_id))
    assert users["owner"].delete(f"/api/cases/{case['id']}/members/{reader['id']}").status_code == 204
    assert users["reader"].get(f"/api/cases/{case['id']}").status_code == 404


def test_unassigned_cases_in_my_groups_and_taking_one(world, make_user, new_case):
    team, users = world["team"], world["users"]
    teammate = users["teammate"]
    unassigned = new_case(users["owner"], title="Ny henvendelse", owner_group_id=str(team), unassigned=True)
    assert unassigned["owner_user_id"] is None
    listed = teammate.get("/api/cases?scope=unassigned").json
    assert [c["id"] for c in listed] == [unassigned["id"]]
    assert users["stranger"].get("/api/cases?scope=unassigned").json == []
    taken = teammate.post(f"/api/cases/{unassigned['id']}/assign", json={"user_id": str(teammate.user_id)})
    assert taken.status_code == 200 and taken.json["owner_user_id"] == str(teammate.user_id)
    assert teammate.get("/api/cases?scope=unassigned").json == []
    assert [c["id"] for c in teammate.get("/api/cases?scope=mine").json] == [unassigned["id"]]
    history = teammate.get(f"/api/cases/{unassigned['id']}/history").json
    assert history[0]["action"] == "case.assigned"


def test_reader_cannot_assign_and_stranger_gets_404(world):
    case, users = world["case"], world["users"]
    assert users["reader"].post(f"/api/cases/{case['id']}/assign", json={"user_id": str(users["reader"].user_id)}).status_code == 403
    assert users["stranger"].post(f"/api/cases/{case['id']}/assign", json={"user_id": str(users["stranger"].user_id)}).status_code == 404


def test_every_read_is_in_the_access_log(world, admin):
    case, reader = world["case"], world["users"]["reader"]
    reader.get(f"/api/cases/{case['id']}")
    reader.get(f"/api/cases/{case['id']}/history")
    log = admin.get(f"/api/audit/access-log?case_id={case['id']}&user_id={reader.user_id}").json
    assert sorted(e["action"] for e in log) == ["read", "read_history"]
    assert reader.get("/api/audit/access-log").status_code == 403


def test_user_without_create_right_cannot_create_cases(make_user, template):
    nobody = make_user("nobody", roles=[])
    assert nobody.post("/api/cases", json={"template_id": template["id"]}).status_code == 403
