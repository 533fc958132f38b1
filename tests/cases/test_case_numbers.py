"""Case numbers stay unique when many requests create cases at the same time."""
from concurrent.futures import ThreadPoolExecutor

from server.cases.services import allocate_case_number


def test_concurrent_case_creation_gives_unique_consecutive_numbers(app, caseworker, template):
    def create(i):
        client = app.test_client()
        response = client.post(
            "/api/cases", json={"template_id": template["id"], "title": f"Sag {i}"},
            headers={"Authorization": f"Bearer {caseworker.token}"},
        )
        assert response.status_code == 201, response.json
        return response.json["number"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        numbers = list(pool.map(create, range(60)))
    assert len(set(numbers)) == 60
    sequences = sorted(int(n[-6:]) for n in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 60))


def test_allocation_in_parallel_transactions_never_repeats(app):
    maker = app.extensions["sagspost.sessionmaker"]

    def allocate(_):
        with maker() as session, session.begin():
            return allocate_case_number(session, 2031)

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(allocate, range(200)))
    assert sorted(numbers) == [f"2031-{i:06d}" for i in range(1, 201)]
