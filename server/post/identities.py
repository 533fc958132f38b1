"""Sender identities and sending rules: who may send as whom, and what needs approval first."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.contacts import numbers
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.post.models import SenderIdentity, SendingRule


def list_identities(session: Session) -> list[SenderIdentity]:
    return list(session.scalars(select(SenderIdentity).order_by(SenderIdentity.name)))


def get_identity(session: Session, identity_id: uuid.UUID) -> SenderIdentity:
    identity = session.get(SenderIdentity, identity_id)
    if identity is None:
        raise NotFound("No such sender identity.")
    return identity


def create_identity(session: Session, actor: Principal | None, *, name: str, cvr: str) -> SenderIdentity:
    if actor is not None:
        auth.require(actor, Right.POST_MANAGE)
    try:
        cvr = numbers.normalise_cvr(cvr)
    except numbers.NumberError as exc:
        raise Invalid.field("cvr", str(exc)) from None
    if session.scalar(select(SenderIdentity).where(SenderIdentity.name == name)):
        raise Conflict(f"A sender identity named {name!r} exists.")
    identity = SenderIdentity(name=name, cvr=cvr)
    session.add(identity)
    session.flush()
    audit.record_change(session, actor, "sender_identity.created", "sender_identity", identity.id, after={"name": name, "cvr": cvr})
    return identity


def update_identity(session: Session, actor: Principal, identity_id: uuid.UUID, changes: dict) -> SenderIdentity:
    auth.require(actor, Right.POST_MANAGE)
    identity = get_identity(session, identity_id)
    before = {k: getattr(identity, k) for k in changes}
    for key, value in changes.items():
        setattr(identity, key, value)
    audit.record_change(session, actor, "sender_identity.updated", "sender_identity", identity.id, before=before, after=changes)
    return identity


def list_rules(session: Session, identity_id: uuid.UUID) -> list[SendingRule]:
    get_identity(session, identity_id)
    return list(session.scalars(select(SendingRule).where(SendingRule.sender_identity_id == identity_id)))


def add_rule(
    session: Session, actor: Principal, identity_id: uuid.UUID, *, user_id=None, group_id=None, requires_approval=False
) -> SendingRule:
    auth.require(actor, Right.POST_MANAGE)
    get_identity(session, identity_id)
    if bool(user_id) == bool(group_id):
        raise Invalid.field("user_id", "A rule names either a user or a group.")
    if user_id:
        auth.get_user(session, user_id)
    else:
        auth.get_group(session, group_id)
    rule = SendingRule(sender_identity_id=identity_id, user_id=user_id, group_id=group_id, requires_approval=requires_approval)
    session.add(rule)
    session.flush()
    audit.record_change(session, actor, "sending_rule.created", "sending_rule", rule.id,
                        after={"user_id": user_id, "group_id": group_id, "requires_approval": requires_approval})
    return rule


def remove_rule(session: Session, actor: Principal, rule_id: uuid.UUID) -> None:
    auth.require(actor, Right.POST_MANAGE)
    rule = session.get(SendingRule, rule_id)
    if rule is None:
        raise NotFound("No such sending rule.")
    session.delete(rule)
    audit.record_change(session, actor, "sending_rule.deleted", "sending_rule", rule_id)


def sending_terms(session: Session, actor: Principal, identity: SenderIdentity) -> bool:
    """May the actor send as this identity; returns whether the dispatch needs approval first.

    An identity without rules is open to everyone with post.send; with rules, one must name the
    actor or one of their groups.
    """
    auth.require(actor, Right.POST_SEND)
    if not identity.active:
        raise Invalid.field("sender_identity_id", f"The sender identity {identity.name!r} is not in use.")
    rules = list_rules(session, identity.id)
    if not rules:
        return False
    mine = [r for r in rules if r.user_id == actor.user_id or r.group_id in actor.group_ids]
    if not mine:
        raise Forbidden(f"You may not send as {identity.name}.")
    return all(r.requires_approval for r in mine)
