import pytest

from tests.cases.conftest import new_case, plan, public_template, template  # noqa: F401


@pytest.fixture
def search():
    """search(caller, q="", **criteria) -> the 200 answer's JSON."""

    def _search(caller, q="", expect=200, **criteria):
        response = caller.post("/api/search", json={"q": q, **criteria})
        assert response.status_code == expect, response.json
        return response.json

    return _search


def titles(result) -> list[str]:
    return [h["title"] for h in result["hits"]]


def ids(result) -> list[str]:
    return [h["entity_id"] for h in result["hits"]]


def facet(result, name) -> dict:
    return {f["value"]: f["count"] for f in result["facets"][name]}
