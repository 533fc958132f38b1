"""Journal plans (journalplaner) and their trees of keys (journalnøgler)."""
from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth.principal import Principal
from server.auth.rights import Right
from server.auth.services import require
from server.cases.models import JournalKey, JournalPlan
from server.errors import Conflict, Invalid, NotFound


def list_plans(session: Session) -> list[JournalPlan]:
    return list(session.scalars(select(JournalPlan).order_by(JournalPlan.name)))


def get_plan(session: Session, plan_id: uuid.UUID) -> JournalPlan:
    plan = session.get(JournalPlan, plan_id)
    if plan is None:
        raise NotFound("No such journal plan.")
    return plan


def find_plan(session: Session, name: str) -> JournalPlan | None:
    return session.scalar(select(JournalPlan).where(func.lower(JournalPlan.name) == name.lower()))


def create_plan(session: Session, actor: Principal | None, name: str, description: str = "") -> JournalPlan:
    if actor is not None:
        require(actor, Right.JOURNAL_PLAN_MANAGE)
    if find_plan(session, name):
        raise Conflict(f"A journal plan named {name!r} exists.")
    plan = JournalPlan(name=name, description=description)
    session.add(plan)
    session.flush()
    audit.record_change(session, actor, "journal_plan.created", "journal_plan", plan.id, after={"name": name})
    return plan


def update_plan(session: Session, actor: Principal, plan_id: uuid.UUID, changes: dict) -> JournalPlan:
    require(actor, Right.JOURNAL_PLAN_MANAGE)
    plan = get_plan(session, plan_id)
    if "name" in changes and changes["name"].lower() != plan.name.lower() and find_plan(session, changes["name"]):
        raise Conflict(f"A journal plan named {changes['name']!r} exists.")
    before = {k: getattr(plan, k) for k in changes}
    for key, value in changes.items():
        setattr(plan, key, value)
    audit.record_change(session, actor, "journal_plan.updated", "journal_plan", plan.id, before=before, after=changes)
    return plan


def plan_keys(session: Session, plan_id: uuid.UUID, include_inactive: bool = False) -> list[dict]:
    """The plan's keys as a nested tree, each node with `is_leaf` and `children`."""
    get_plan(session, plan_id)
    stmt = select(JournalKey).where(JournalKey.plan_id == plan_id).order_by(JournalKey.number)
    if not include_inactive:
        stmt = stmt.where(JournalKey.active.is_(True))
    keys = list(session.scalars(stmt))
    nodes = {k.id: {"key": k, "children": []} for k in keys}
    roots = []
    for key in keys:
        parent = nodes.get(key.parent_id)
        (parent["children"] if parent else roots).append(nodes[key.id])
    return [_as_tree(n) for n in roots]


def _as_tree(node: dict) -> dict:
    key = node["key"]
    return {
        "id": key.id,
        "number": key.number,
        "title": key.title,
        "active": key.active,
        "is_leaf": not node["children"],
        "children": [_as_tree(c) for c in node["children"]],
    }


def get_key(session: Session, key_id: uuid.UUID) -> JournalKey:
    key = session.get(JournalKey, key_id)
    if key is None:
        raise NotFound("No such journal key.")
    return key


def is_leaf(session: Session, key_id: uuid.UUID) -> bool:
    return not session.scalar(select(exists().where(JournalKey.parent_id == key_id)))


def require_leaf(session: Session, key_id: uuid.UUID) -> JournalKey:
    """The key, if cases may be filed on it: it exists, is active and has no sub-keys."""
    key = get_key(session, key_id)
    if not key.active:
        raise Invalid.field("journal_key_id", f"Journal key {key.number} is no longer in use.")
    if not is_leaf(session, key_id):
        raise Invalid.field("journal_key_id", f"Cases can only be filed on the outermost keys; {key.number} has sub-keys.")
    return key


def create_key(
    session: Session, actor: Principal | None, plan_id: uuid.UUID, *, number: str, title: str,
    parent_id: uuid.UUID | None = None, description: str = "",
) -> JournalKey:
    if actor is not None:
        require(actor, Right.JOURNAL_PLAN_MANAGE)
    get_plan(session, plan_id)
    if parent_id is not None and get_key(session, parent_id).plan_id != plan_id:
        raise Invalid.field("parent_id", "The parent key belongs to another journal plan.")
    if session.scalar(select(JournalKey).where(JournalKey.plan_id == plan_id, JournalKey.number == number)):
        raise Conflict(f"Key {number} exists in this plan.")
    key = JournalKey(plan_id=plan_id, parent_id=parent_id, number=number, title=title, description=description)
    session.add(key)
    session.flush()
    audit.record_change(session, actor, "journal_key.created", "journal_key", key.id, after={"number": number, "title": title})
    return key


def update_key(session: Session, actor: Principal, key_id: uuid.UUID, changes: dict) -> JournalKey:
    require(actor, Right.JOURNAL_PLAN_MANAGE)
    key = get_key(session, key_id)
    before = {k: getattr(key, k) for k in changes}
    for name, value in changes.items():
        setattr(key, name, value)
    audit.record_change(session, actor, "journal_key.updated", "journal_key", key.id, before=before, after=changes)
    return key


def key_label(key: JournalKey | None) -> str:
    return f"{key.number} {key.title}" if key else ""
