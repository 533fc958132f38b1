"""Tasks (opgaver) through the API: created on a case, listed as mine (also via a group), access
following the case, history, and bad input."""
import json
from datetime import date, timedelta

import pytest

from tests.cases.conftest import new_case, plan, template  # noqa: F401


@pytest.fixture
def team(make_group):
    return make_group("Team 1")


@pytest.fixture
def world(make_user, team, new_case):
    owner = make_user("owner")
    users = {
        "owner": owner,
        "reader": make_user("reader"),
        "teammate": make_user("teammate", groups=[team]),
        "stranger": make_user("stranger"),
    }
    case = new_case(owner, title="Fortrolig")
    response = owner.post(f"/api/cases/{case['id']}/members", json={"user_id": str(users["reader"].user_id), "access": "read"})
    assert response.status_code == 201
    return {"users": users, "case": case}


def create(caller, case_id, **body):
    return caller.post(f"/api/cases/{case_id}/tasks", json={"title": "Indhent udtalelse", **body})


def total(response) -> int:
    return json.loads(response.headers["X-Pagination"])["total"]


def test_create_list_on_case_and_mine(world):
    owner, reader, case = world["users"]["owner"], world["users"]["reader"], world["case"]
    due = (date.today() + timedelta(days=7)).isoformat()
    response = create(owner, case["id"], assignee_user_id=str(reader.user_id), due_date=due, description="Ring til skolen")
    assert response.status_code == 201, response.json
    task = response.json
    assert task["status"] == "open" and task["due_date"] == due and task["overdue"] is False
    assert task["case_id"] == case["id"] and task["created_by_id"] == str(owner.user_id)

    assert [t["id"] for t in owner.get(f"/api/cases/{case['id']}/tasks").json] == [task["id"]]
    mine = reader.get("/api/tasks")
    assert [t["id"] for t in mine.json] == [task["id"]] and total(mine) == 1
    assert owner.get("/api/tasks").json == []  # created by, not assigned to
    assert reader.get(f"/api/tasks/{task['id']}").json["title"] == "Indhent udtalelse"


def test_mine_includes_tasks_for_my_groups_and_filters(world, team):
    owner, teammate, case = world["users"]["owner"], world["users"]["teammate"], world["case"]
    # the teammate sees the case only as a member; their group gets the tasks
    owner.post(f"/api/cases/{case['id']}/members", json={"user_id": str(teammate.user_id), "access": "write"})
    late = create(owner, case["id"], title="Forsinket", assignee_group_id=str(team),
                  due_date=(date.today() - timedelta(days=3)).isoformat()).json
    later = create(owner, case["id"], title="Senere", assignee_group_id=str(team)).json
    assert late["overdue"] is True

    assert [t["title"] for t in teammate.get("/api/tasks").json] == ["Forsinket", "Senere"]
    assert [t["id"] for t in teammate.get("/api/tasks?overdue=true").json] == [late["id"]]
    assert [t["id"] for t in teammate.get("/api/tasks?overdue=false").json] == [later["id"]]

    done = teammate.patch(f"/api/tasks/{late['id']}", json={"status": "done"})
    assert done.status_code == 200 and done.json["status"] == "done" and done.json["completed_at"]
    assert done.json["overdue"] is False
    assert [t["id"] for t in teammate.get("/api/tasks?status=open").json] == [later["id"]]
    assert [t["id"] for t in teammate.get("/api/tasks?status=done").json] == [late["id"]]
    reopened = teammate.patch(f"/api/tasks/{late['id']}", json={"status": "open"}).json
    assert reopened["status"] == "open" and reopened["completed_at"] is None


def test_an_outsider_gets_404_and_sees_none(world, make_user, team):
    owner, case = world["users"]["owner"], world["case"]
    # assigned to the stranger's group, yet the stranger's group may not read the case
    outsider = make_user("outsider", groups=[team])
    task = create(owner, case["id"], assignee_group_id=str(team)).json
    stranger = world["users"]["stranger"]
    for who in (stranger, outsider):
        assert who.get(f"/api/tasks/{task['id']}").status_code == 404
        assert who.get(f"/api/tasks/{task['id']}").json["message"] == "No such task."
        assert who.patch(f"/api/tasks/{task['id']}", json={"status": "done"}).status_code == 404
        assert who.get(f"/api/cases/{case['id']}/tasks").status_code == 404
        assert create(who, case["id"], assignee_group_id=str(team)).status_code == 404
        listed = who.get("/api/tasks")
        assert listed.json == [] and total(listed) == 0


def test_writing_needs_write_access(world):
    owner, reader, case = world["users"]["owner"], world["users"]["reader"], world["case"]
    task = create(owner, case["id"], assignee_user_id=str(reader.user_id)).json
    assert reader.get(f"/api/cases/{case['id']}/tasks").status_code == 200
    assert reader.get(f"/api/tasks/{task['id']}").status_code == 200
    assert create(reader, case["id"], assignee_user_id=str(reader.user_id)).status_code == 403
    assert reader.patch(f"/api/tasks/{task['id']}", json={"status": "done"}).status_code == 403
    assert owner.get(f"/api/tasks/{task['id']}").json["status"] == "open"


def test_changes_are_in_the_case_history(world, team):
    owner, reader, case = world["users"]["owner"], world["users"]["reader"], world["case"]
    task = create(owner, case["id"], assignee_user_id=str(reader.user_id)).json
    response = owner.patch(f"/api/tasks/{task['id']}", json={"title": "Indhent udtalelse fra skolen",
                                                             "assignee_group_id": str(team), "due_date": "2030-01-31"})
    assert response.status_code == 200, response.json
    assert response.json["assignee_user_id"] is None and response.json["assignee_group_id"] == str(team)
    owner.patch(f"/api/tasks/{task['id']}", json={"status": "done"})
    history = owner.get(f"/api/cases/{case['id']}/history").json
    by_action = {e["action"]: e for e in history}
    assert by_action["task.created"]["after"]["title"] == "Indhent udtalelse"
    updated = by_action["task.updated"]
    assert updated["before"]["title"] == "Indhent udtalelse"
    assert updated["after"] == {"title": "Indhent udtalelse fra skolen", "assignee_user_id": None,
                                "assignee_group_id": str(team), "due_date": "2030-01-31"}
    assert by_action["task.completed"]["after"] == {"status": "done"}


def test_bad_input_is_422_with_the_field_named(world, team):
    owner, reader, case = world["users"]["owner"], world["users"]["reader"], world["case"]
    url = f"/api/cases/{case['id']}/tasks"
    neither = create(owner, case["id"])
    both = create(owner, case["id"], assignee_user_id=str(reader.user_id), assignee_group_id=str(team))
    for response in (neither, both):
        assert response.status_code == 422
        assert set(response.json["errors"]) == {"assignee_user_id", "assignee_group_id"}
    unknown_user = create(owner, case["id"], assignee_user_id="00000000-0000-4000-8000-000000000000")
    assert unknown_user.status_code == 422 and "assignee_user_id" in unknown_user.json["errors"]
    unknown_group = create(owner, case["id"], assignee_group_id="00000000-0000-4000-8000-000000000000")
    assert unknown_group.status_code == 422 and "assignee_group_id" in unknown_group.json["errors"]
    bad_date = create(owner, case["id"], assignee_group_id=str(team), due_date="31-01-2030")
    assert bad_date.status_code == 422 and "due_date" in bad_date.json["errors"]["json"]
    no_title = owner.post(url, json={"title": "  ", "assignee_group_id": str(team)})
    assert no_title.status_code == 422 and "title" in no_title.json["errors"]
    task = create(owner, case["id"], assignee_group_id=str(team)).json
    cleared = owner.patch(f"/api/tasks/{task['id']}", json={"assignee_group_id": None})
    assert cleared.status_code == 422 and "assignee_user_id" in cleared.json["errors"]
    assert owner.patch(f"/api/tasks/{task['id']}", json={"status": "later"}).status_code == 422
    assert owner.get(f"/api/cases/{case['id']}/history").json[0]["action"] == "task.created"
    assert owner.get("/api/openapi.json").json["paths"].keys() >= {
        "/api/cases/{case_id}/tasks", "/api/tasks", "/api/tasks/{task_id}"}
