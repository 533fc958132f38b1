"""What a new installation needs before its first sign-in."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.admin import services as lists
from server.auth import services as auth
from server.auth.models import User
from server.auth.rights import RoleCode
from server.cases import templates
from server.documents.blobs import BlobStore
from server.generation import templates as document_templates

# The letter templates the repository ships (templates/make_templates.py writes them).
SHIPPED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def initialise(session: Session, passwords: auth.Passwords, admin_password: str, store: BlobStore | None = None) -> bool:
    """Create the roles, the default lists, a first case template and (given a blob store) the shipped
    letter templates; create user 'admin' with every administrator role if no user exists.

    Returns whether the administrator was created.
    """
    auth.ensure_roles(session)
    lists.ensure_default_lists(session)
    if not templates.list_templates(session, include_inactive=True):
        templates.create_template(session, None, {"name": "Standardsag", "title_pattern": "{template}"})
    if store is not None:
        document_templates.install_shipped(session, store, SHIPPED_TEMPLATES)
    if session.scalar(select(func.count()).select_from(User)):
        return False
    auth.create_user(
        session,
        None,
        passwords,
        username="admin",
        full_name="Administrator",
        password=admin_password,
        roles=[RoleCode.IT_ADMIN.value, RoleCode.SYSTEM_ADMIN.value, RoleCode.ORG_ADMIN.value],
    )
    return True
