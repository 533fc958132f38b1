"""Users, groups, roles and rights, passwords, API tokens; every change audited."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth.models import ApiToken, ExternalIdentity, Group, Role, RoleRight, User
from server.auth.principal import Principal
from server.auth.rights import DEFAULT_ROLE_RIGHTS, ROLE_NAMES, Right, RoleCode
from server.db import utcnow
from server.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

TOKEN_PREFIX = "sp_"
_BAD_CREDENTIALS = "Wrong username or password."


# ---------------------------------------------------------------- passwords


class Passwords:
    def __init__(self, time_cost: int, memory_cost_kib: int):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost_kib)
        # verified against when the user does not exist, so both paths take the same time
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


def check_password_rules(password: str) -> None:
    if len(password) < 12:
        raise Invalid.field("password", "The password must be at least 12 characters long.")


# ---------------------------------------------------------------- principal


def principal_for(user: User) -> Principal:
    rights = {rr.right for role in user.roles for rr in role.rights}
    return Principal(
        user_id=user.id,
        username=user.username,
        rights=frozenset(rights),
        group_ids=frozenset(g.id for g in user.groups if g.active),
    )


def require(actor: Principal, right: Right) -> None:
    if not actor.has(right):
        raise Forbidden(f"This needs the right {right.value}.")


# ---------------------------------------------------------------- sign-in


def authenticate(session: Session, passwords: Passwords, username: str, password: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    ok = passwords.verify(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        raise Unauthorized(_BAD_CREDENTIALS)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    user.last_login_at = utcnow()
    return user


def load_session_user(session: Session, user_id: uuid.UUID, epoch: int) -> User | None:
    user = session.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user


def sign_out_everywhere(session: Session, actor: Principal) -> None:
    user = session.get(User, actor.user_id)
    user.session_epoch += 1
    audit.record_change(session, actor, "user.signed_out_everywhere", "user", user.id)


# ---------------------------------------------------------------- API tokens


def create_api_token(
    session: Session, actor: Principal, name: str, days: int, max_days: int
) -> tuple[str, ApiToken]:
    if not 1 <= days <= max_days:
        raise Invalid.field("expires_in_days", f"A token lives between 1 and {max_days} days.")
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}{secret}"
    token = ApiToken(
        user_id=actor.user_id,
        name=name,
        prefix=plaintext[:10],
        token_hash=_token_hash(plaintext),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record_change(session, actor, "api_token.created", "api_token", token.id, after={"name": name})
    return plaintext, token


def list_api_tokens(session: Session, actor: Principal) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id).order_by(ApiToken.created_at.desc())
    return list(session.scalars(stmt))


def revoke_api_token(session: Session, actor: Principal, token_id: uuid.UUID) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and not actor.has(Right.USERS_MANAGE)):
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record_change(session, actor, "api_token.revoked", "api_token", token.id)


def user_for_token(session: Session, plaintext: str) -> User | None:
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(plaintext)))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if not user.active:
        return None
    # written at most once a minute so a busy script does not rewrite the row on every call
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return user


def _token_hash(plaintext: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(plaintext.encode()).hexdigest()


# ---------------------------------------------------------------- roles and rights


def ensure_roles(session: Session) -> None:
    """Create the four roles with their default rights if they are missing; never overwrite edits."""
    existing = {r.code for r in session.scalars(select(Role))}
    for code in RoleCode:
        if code.value in existing:
            continue
        role = Role(code=code.value, name=ROLE_NAMES[code])
        role.rights = [RoleRight(right=r.value) for r in sorted(DEFAULT_ROLE_RIGHTS[code], key=lambda r: r.value)]
        session.add(role)
    session.flush()


def list_roles(session: Session) -> list[Role]:
    return list(session.scalars(select(Role).order_by(Role.code)))


def get_role(session: Session, code: str) -> Role:
    role = session.scalar(select(Role).where(Role.code == code))
    if role is None:
        raise NotFound(f"No role with code {code!r}.")
    return role


def set_role_rights(session: Session, actor: Principal, code: str, rights: list[str]) -> Role:
    require(actor, Right.RIGHTS_MANAGE)
    role = get_role(session, code)
    known = {r.value for r in Right}
    unknown = sorted(set(rights) - known)
    if unknown:
        raise Invalid.field("rights", f"Unknown rights: {', '.join(unknown)}.")
    if role.code in _admin_role_codes(actor, session) and Right.RIGHTS_MANAGE.value not in rights:
        # Otherwise an administrator can remove the last way back to this page.
        if not _someone_else_can_manage_rights(session, role):
            raise Conflict("No other role could then manage rights; keep rights.manage on this role.")
    before = sorted(rr.right for rr in role.rights)
    role.rights = [RoleRight(right=r) for r in sorted(set(rights))]
    session.flush()
    audit.record_change(
        session, actor, "role.rights_changed", "role", role.id, before={"rights": before}, after={"rights": sorted(set(rights))}
    )
    return role


def _admin_role_codes(actor: Principal, session: Session) -> set[str]:
    user = session.get(User, actor.user_id)
    return {r.code for r in user.roles}


def _someone_else_can_manage_rights(session: Session, role: Role) -> bool:
    stmt = (
        select(func.count())
        .select_from(RoleRight)
        .where(RoleRight.right == Right.RIGHTS_MANAGE.value, RoleRight.role_id != role.id)
    )
    return session.scalar(stmt) > 0


# ---------------------------------------------------------------- users


@dataclass(frozen=True)
class UserFilter:
    q: str | None = None
    group_id: uuid.UUID | None = None
    active: bool | None = None
    role: str | None = None


def list_users(session: Session, flt: UserFilter, *, offset: int, limit: int) -> tuple[list[User], int]:
    stmt = select(User)
    if flt.q:
        like = f"%{flt.q.lower()}%"
        stmt = stmt.where(
            or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like), func.lower(User.email).like(like))
        )
    if flt.group_id:
        stmt = stmt.where(User.groups.any(Group.id == flt.group_id))
    if flt.role:
        stmt = stmt.where(User.roles.any(Role.code == flt.role))
    if flt.active is not None:
        stmt = stmt.where(User.active == flt.active)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.order_by(User.username).offset(offset).limit(limit)).all()
    return list(rows), total


def get_user(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def display_name(session: Session, user_id: uuid.UUID) -> str | None:
    """A user's name for showing beside what they own, without loading the whole user."""
    row = session.execute(select(User.full_name, User.username).where(User.id == user_id)).first()
    return (row.full_name or row.username) if row else None


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def create_user(
    session: Session,
    actor: Principal | None,
    passwords: Passwords,
    *,
    username: str,
    email: str | None = None,
    full_name: str = "",
    password: str | None = None,
    roles: list[str] = (),
    group_ids: list[uuid.UUID] = (),
    source: str = "local",
    external_id: str | None = None,
) -> User:
    if actor is not None:
        require(actor, Right.USERS_MANAGE)
    username = username.strip()
    if not username:
        raise Invalid.field("username", "A username is required.")
    if find_user(session, username):
        raise Conflict(f"The username {username!r} is taken.")
    if email and _email_taken(session, email):
        raise Conflict(f"The e-mail address {email!r} belongs to another user.")
    if password is not None:
        check_password_rules(password)
    user = User(
        username=username,
        email=email or None,
        full_name=full_name,
        password_hash=passwords.hash(password) if password else None,
        source=source,
        external_id=external_id,
    )
    user.roles = [get_role(session, code) for code in dict.fromkeys(roles)]
    user.groups = [get_group(session, gid) for gid in dict.fromkeys(group_ids)]
    session.add(user)
    session.flush()
    audit.record_change(session, actor, "user.created", "user", user.id, after=_user_values(user))
    return user


def update_user(
    session: Session, actor: Principal, passwords: Passwords, user_id: uuid.UUID, changes: dict
) -> User:
    is_self = actor.user_id == user_id
    admin_fields = {"username", "email", "active", "roles", "group_ids", "full_name"}
    if not actor.has(Right.USERS_MANAGE) and (not is_self or set(changes) & admin_fields):
        raise Forbidden("Changing users needs the right users.manage.")
    user = get_user(session, user_id)
    before = _user_values(user)
    if "username" in changes:
        username = changes["username"].strip()
        if not username:
            raise Invalid.field("username", "A username is required.")
        if username.lower() != user.username.lower() and find_user(session, username):
            raise Conflict(f"The username {username!r} is taken.")
        user.username = username
    if "email" in changes:
        email = changes["email"] or None
        if email and (user.email or "").lower() != email.lower() and _email_taken(session, email, user.id):
            raise Conflict(f"The e-mail address {email!r} belongs to another user.")
        user.email = email
    if "full_name" in changes:
        user.full_name = changes["full_name"]
    if "active" in changes:
        if is_self and not changes["active"]:
            raise Conflict("You cannot deactivate yourself.")
        user.active = changes["active"]
    if "roles" in changes:
        user.roles = [get_role(session, code) for code in dict.fromkeys(changes["roles"])]
    if "group_ids" in changes:
        user.groups = [get_group(session, gid) for gid in dict.fromkeys(changes["group_ids"])]
    if "password" in changes:
        check_password_rules(changes["password"])
        user.password_hash = passwords.hash(changes["password"])
        user.session_epoch += 1
    session.flush()
    b, a = audit.changed_fields(before, _user_values(user))
    if "password" in changes:
        a["password"] = "changed"
    audit.record_change(session, actor, "user.updated", "user", user.id, before=b, after=a)
    return user


def _email_taken(session: Session, email: str, except_id: uuid.UUID | None = None) -> bool:
    stmt = select(User.id).where(func.lower(User.email) == email.lower())
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return session.scalar(stmt.limit(1)) is not None


def link_identity(session: Session, actor: Principal | None, user: User, provider: str, subject: str, email: str | None) -> None:
    if session.scalar(select(ExternalIdentity).where(ExternalIdentity.provider == provider, ExternalIdentity.subject == subject)):
        raise Conflict("That identity is already linked to a user.")
    user.identities.append(ExternalIdentity(provider=provider, subject=subject, email=email))
    session.flush()
    audit.record_change(session, actor, "user.identity_linked", "user", user.id, after={"provider": provider})


def _user_values(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "active": user.active,
        "roles": sorted(r.code for r in user.roles),
        "groups": sorted(g.name for g in user.groups),
    }


# ---------------------------------------------------------------- groups


def list_groups(session: Session, q: str | None, *, offset: int, limit: int) -> tuple[list[Group], int]:
    stmt = select(Group)
    if q:
        stmt = stmt.where(func.lower(Group.name).like(f"%{q.lower()}%"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(session.scalars(stmt.order_by(Group.name).offset(offset).limit(limit))), total


def get_group(session: Session, group_id: uuid.UUID) -> Group:
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound("No such group.")
    return group


def find_group(session: Session, name: str) -> Group | None:
    return session.scalar(select(Group).where(func.lower(Group.name) == name.lower()))


def create_group(
    session: Session, actor: Principal | None, *, name: str, description: str = "", source: str = "local",
    external_id: str | None = None,
) -> Group:
    if actor is not None:
        require(actor, Right.USERS_MANAGE)
    name = name.strip()
    if not name:
        raise Invalid.field("name", "A group needs a name.")
    if find_group(session, name):
        raise Conflict(f"A group named {name!r} exists.")
    group = Group(name=name, description=description, source=source, external_id=external_id)
    session.add(group)
    session.flush()
    audit.record_change(session, actor, "group.created", "group", group.id, after={"name": name})
    return group


def update_group(session: Session, actor: Principal, group_id: uuid.UUID, changes: dict) -> Group:
    require(actor, Right.USERS_MANAGE)
    group = get_group(session, group_id)
    before = _group_values(group)
    if "name" in changes:
        changes = {**changes, "name": changes["name"].strip()}
        if not changes["name"]:
            raise Invalid.field("name", "A group needs a name.")
        if changes["name"].lower() != group.name.lower() and find_group(session, changes["name"]):
            raise Conflict(f"A group named {changes['name']!r} exists.")
    for key in ("name", "description", "active"):
        if key in changes:
            setattr(group, key, changes[key])
    if "member_ids" in changes:
        group.members = [get_user(session, uid) for uid in dict.fromkeys(changes["member_ids"])]
    session.flush()
    after = _group_values(group)
    b, a = audit.changed_fields(before, after)
    audit.record_change(session, actor, "group.updated", "group", group.id, before=b, after=a)
    return group


def _group_values(group: Group) -> dict:
    return {
        "name": group.name,
        "description": group.description,
        "active": group.active,
        "members": sorted(u.username for u in group.members),
    }


def add_group_member(session: Session, actor: Principal, group_id: uuid.UUID, user_id: uuid.UUID) -> None:
    require(actor, Right.USERS_MANAGE)
    group, user = get_group(session, group_id), get_user(session, user_id)
    if user not in group.members:
        group.members.append(user)
        audit.record_change(session, actor, "group.member_added", "group", group.id, after={"user": user.username})


def remove_group_member(session: Session, actor: Principal, group_id: uuid.UUID, user_id: uuid.UUID) -> None:
    require(actor, Right.USERS_MANAGE)
    group, user = get_group(session, group_id), get_user(session, user_id)
    if user in group.members:
        group.members.remove(user)
        audit.record_change(session, actor, "group.member_removed", "group", group.id, before={"user": user.username})


