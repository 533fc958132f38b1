"""What a new installation needs before its first sign-in."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.admin import services as lists
from server.auth import services as auth
from server.auth.models import User
from server.auth.rights import RoleCode
from server.cases import templates


def initialise(session: Session, passwords: auth.Passwords, admin_password: str) -> bool:
    """Create the roles, the default lists and a first case template; create user 'admin' with
    every administrator role if no user exists.

    Returns whether the administrator was created.
    """
    auth.ensure_roles(session)
    lists.ensure_default_lists(session)
    if not templates.list_templates(session, include_inactive=True):
        templates.create_template(session, None, {"name": "Standardsag", "title_pattern": "{template}"})
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
