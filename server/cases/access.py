"""Who may see and change a case. Every read and write of a case goes through here."""
from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from server.auth.principal import Principal
from server.auth.rights import Right
from server.cases.models import AccessLevel, Case, CaseAccess, CaseMember


class Level(int, enum.Enum):
    NONE = 0
    READ = 1
    WRITE = 2
    MANAGE = 3


_MEMBER_LEVEL = {AccessLevel.READ: Level.READ, AccessLevel.WRITE: Level.WRITE}


def visible(actor: Principal) -> ColumnElement[bool]:
    """A WHERE clause matching exactly the cases the actor may read."""
    if actor.has(Right.CASES_ACCESS_ALL):
        return Case.deleted_at.is_(None)
    return Case.deleted_at.is_(None) & or_(
        Case.access == CaseAccess.PUBLIC,
        Case.owner_user_id == actor.user_id,
        *( [Case.owner_group_id.in_(actor.group_ids)] if actor.group_ids else [] ),
        exists().where(CaseMember.case_id == Case.id, _is_me(actor)),
    )


def mine(session: Session, actor: Principal) -> ColumnElement[bool]:
    """Cases the actor owns or is a named member of (always a subset of `visible`).

    The member case ids are fetched first: `owner = me OR id IN (subquery)` keeps PostgreSQL from
    using either index and it reads every case (20 ms at 100,000 cases, 2 ms this way).
    """
    member_of = list(session.scalars(select(CaseMember.case_id).where(CaseMember.user_id == actor.user_id)))
    mine_ = or_(Case.owner_user_id == actor.user_id, Case.id.in_(member_of)) if member_of else Case.owner_user_id == actor.user_id
    return Case.deleted_at.is_(None) & mine_


def unassigned_in_my_groups(actor: Principal) -> ColumnElement[bool]:
    if not actor.group_ids:
        return Case.id.is_(None)
    return Case.owner_user_id.is_(None) & Case.owner_group_id.in_(actor.group_ids) & Case.deleted_at.is_(None)


def _is_me(actor: Principal) -> ColumnElement[bool]:
    conditions = [CaseMember.user_id == actor.user_id]
    if actor.group_ids:
        conditions.append(CaseMember.group_id.in_(actor.group_ids))
    return or_(*conditions)


def level(session: Session, actor: Principal, case: Case) -> Level:
    if case.deleted_at is not None:
        return Level.NONE
    if actor.has(Right.CASES_ACCESS_ALL) or case.owner_user_id == actor.user_id:
        return Level.MANAGE
    best = Level.NONE
    if case.owner_group_id is not None and case.owner_group_id in actor.group_ids:
        best = Level.WRITE
    members = session.scalars(select(CaseMember.access).where(CaseMember.case_id == case.id, _is_me(actor)))
    for access in members:
        best = max(best, _MEMBER_LEVEL[access])
    if best == Level.NONE and case.access == CaseAccess.PUBLIC:
        best = Level.READ
    return best


def visible_case_id(actor: Principal, case_id_column) -> ColumnElement[bool]:
    """A WHERE clause for another table's case-id column: true where the actor may read that case."""
    # An IN over the readable cases, not a correlated EXISTS: under search's planner settings the
    # EXISTS became a nested loop of one index probe per candidate (29 ms of a 72 ms search).
    return case_id_column.in_(select(Case.id).where(visible(actor)))
