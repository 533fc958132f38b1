"""Tasks (opgaver) in the browser: the case page's tab, Min side and the Opgaver page."""
from __future__ import annotations

import re
from datetime import date, timedelta

from tests.web.conftest import case_id_from


def test_a_task_created_on_the_case_page_shows_on_min_side(sara_web, group, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Elevsag Ida"}).location)
    tab = sara_web.get(f"/cases/{case_id}/tasks")
    assert tab.status_code == 200 and 'aria-current="page">Opgaver</a>' in tab.text
    assert 'name="csrf_token"' in tab.text and "<script>" not in tab.text and "style=" not in tab.text

    late = (date.today() - timedelta(days=2)).isoformat()
    created = sara_web.post(f"/cases/{case_id}/tasks", data={
        "title": "Indhent udtalelse <skole>", "subject": f"group:{group}", "due_date": late})
    assert created.status_code == 302 and created.location.endswith(f"/cases/{case_id}/tasks")
    assert "Indhent udtalelse &lt;skole&gt;" in sara_web.get(f"/cases/{case_id}/tasks").text

    home = sara_web.get("/").text
    assert "Mine opgaver" in home and "Indhent udtalelse &lt;skole&gt;" in home
    assert "Overskredet" in home and 'class="overdue"' in home and "Elevsag Ida" in home
    assert "Indhent udtalelse &lt;skole&gt;" in sara_web.get("/tasks?overdue=1").text

    task_id = re.search(r'action="/tasks/([0-9a-f-]{36})/status"', home).group(1)
    assert sara_web.post(f"/tasks/{task_id}/status", data={"status": "done", "next": "/"}).status_code == 302
    assert "Indhent udtalelse" not in sara_web.get("/").text
    assert "Indhent udtalelse" in sara_web.get("/tasks?status=done").text
    history = sara_web.get(f"/cases/{case_id}/history").text
    assert "Oprettede opgaven" in history and "Afsluttede opgaven" in history


def test_a_bad_due_date_is_refused_with_the_reason(sara_web, group, template):
    case_id = case_id_from(sara_web.post("/cases/new", data={"template_id": template["id"], "title": "Elevsag"}).location)
    refused = sara_web.post(f"/cases/{case_id}/tasks", data={"title": "X", "subject": f"group:{group}", "due_date": "i morgen"},
                            follow_redirects=True)
    assert "YYYY-MM-DD" in refused.text
    assert "Ingen opgaver." in sara_web.get(f"/cases/{case_id}/tasks").text
