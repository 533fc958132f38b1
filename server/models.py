"""Imports every domain's models so the metadata is complete (Alembic, tests)."""
from server.addins import models as _addins  # noqa: F401
from server.admin import models as _admin  # noqa: F401
from server.audit import models as _audit  # noqa: F401
from server.auth import models as _auth  # noqa: F401
from server.cases import models as _cases  # noqa: F401
from server.contacts import models as _contacts  # noqa: F401
from server.documents import models as _documents  # noqa: F401
from server.generation import models as _generation  # noqa: F401
from server.jobs import models as _jobs  # noqa: F401
from server.post import models as _post  # noqa: F401
from server.retention import models as _retention  # noqa: F401
from server.search import models as _search  # noqa: F401
from server.work import models as _work  # noqa: F401
from server.db import Base

metadata = Base.metadata
