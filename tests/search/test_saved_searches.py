"""Saved searches: each user's own, run again later, invisible to everyone else."""
from tests.search.conftest import ids


def test_save_list_run_and_delete(caseworker, new_case, search):
    case = new_case(caseworker, title="Skolebus Nord")
    new_case(caseworker, title="Skolebus Syd")
    body = {"name": "Mine busser", "query": {"q": "skolebus nord", "types": ["case"], "fields": ["title"]}}
    created = caseworker.post("/api/saved-searches", json=body)
    assert created.status_code == 201, created.json
    saved = created.json
    assert saved["name"] == "Mine busser" and saved["query"]["q"] == "skolebus nord"
    assert saved["query"]["types"] == ["case"] and saved["query"]["fields"] == ["title"]
    assert [s["id"] for s in caseworker.get("/api/saved-searches").json] == [saved["id"]]
    assert caseworker.get(f"/api/saved-searches/{saved['id']}").json == saved

    run = caseworker.post(f"/api/saved-searches/{saved['id']}/run")
    assert run.status_code == 200, run.json
    assert ids(run.json) == [case["id"]] and run.json["total"] == 1
    paged = caseworker.post(f"/api/saved-searches/{saved['id']}/run", json={"offset": 1, "limit": 5}).json
    assert paged["hits"] == [] and paged["total"] == 1 and (paged["offset"], paged["limit"]) == (1, 5)

    assert caseworker.delete(f"/api/saved-searches/{saved['id']}").status_code == 204
    assert caseworker.get("/api/saved-searches").json == []
    assert caseworker.post(f"/api/saved-searches/{saved['id']}/run").status_code == 404


def test_filters_and_dates_survive_saving(caseworker, new_case, plan):
    key = plan["keys"]["00.01.00"]["id"]
    query = {"q": "", "journal_key_id": key, "date_from": "2020-01-01", "date_to": "2099-12-31", "sort": "date"}
    saved = caseworker.post("/api/saved-searches", json={"name": "Nøgle", "query": query}).json
    for name, value in query.items():
        assert saved["query"][name] == value, name
    case = new_case(caseworker, title="Noget")
    assert ids(caseworker.post(f"/api/saved-searches/{saved['id']}/run").json) == [case["id"]]


def test_names_are_unique_per_user_and_required(caseworker, make_user):
    body = {"name": "Min søgning", "query": {"q": "x"}}
    assert caseworker.post("/api/saved-searches", json=body).status_code == 201
    again = caseworker.post("/api/saved-searches", json=body)
    assert again.status_code == 409 and "Min søgning" in again.json["message"]
    assert make_user("other").post("/api/saved-searches", json=body).status_code == 201
    assert caseworker.post("/api/saved-searches", json={"name": "  ", "query": {"q": "x"}}).status_code == 422
    assert caseworker.post("/api/saved-searches", json={"query": {"q": "x"}}).status_code == 422
    bad = caseworker.post("/api/saved-searches", json={"name": "Dårlig", "query": {"types": ["user"]}})
    assert bad.status_code == 422


def test_another_users_saved_searches_are_as_if_absent(caseworker, make_user, new_case):
    new_case(caseworker, title="Fortrolig")
    saved = caseworker.post("/api/saved-searches", json={"name": "Min", "query": {"q": "fortrolig"}}).json
    other = make_user("other")
    assert other.get("/api/saved-searches").json == []
    for response in (
        other.get(f"/api/saved-searches/{saved['id']}"),
        other.post(f"/api/saved-searches/{saved['id']}/run"),
        other.delete(f"/api/saved-searches/{saved['id']}"),
    ):
        assert response.status_code == 404 and response.json["message"] == "No such saved search."
    assert len(caseworker.get("/api/saved-searches").json) == 1
    # and a copy of the query run by the other user finds only what they may see
    assert other.post("/api/search", json={"q": "fortrolig"}).json["total"] == 0


def test_search_needs_a_signed_in_user(app):
    client = app.test_client()
    assert client.post("/api/search", json={"q": "x"}).status_code == 401
    assert client.get("/api/saved-searches").status_code == 401


def test_the_query_is_never_taken_from_the_url(caseworker):
    assert caseworker.get("/api/search?q=010190-1234").status_code == 405
