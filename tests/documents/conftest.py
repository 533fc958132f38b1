import io

import pytest

from tests.cases.conftest import new_case, plan, public_template, template  # noqa: F401


def upload(caller, url="/api/documents", files=(), **form):
    """POST a multipart upload: files is a list of (field, filename, bytes)."""
    data = {k: v for k, v in form.items() if v is not None}
    for field, filename, content in files:
        data.setdefault(field, [])
        data[field].append((io.BytesIO(content), filename))
    return caller.post(url, data=data, content_type="multipart/form-data")


@pytest.fixture
def case(caseworker, new_case):  # noqa: F811
    return new_case(caseworker, title="Elevsag Jens")
