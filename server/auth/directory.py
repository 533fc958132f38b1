"""Users and groups from the organisation directory: a CSV export, or LDAP / Active Directory.

Both paths end in the same bookkeeping (`_Changes`): every user and group touched is snapshotted
before the first change, and at the end the differences are counted into an `ImportReport` and
written to the audit trail, one record per changed user or group.

Ownership of a user follows its `source`:
- "csv" users are owned by the CSV import: name, e-mail, roles, active and groups follow the file.
- "ldap" users are owned by the directory sync: they are matched by the directory's stable id
  (entryUUID / objectGUID), so renames keep the same user, and users gone from the directory
  are deactivated, never deleted.
- "local" users (and, for the CSV import, "ldap" users) are only matched by username to give them
  group memberships; nothing else about them changes.
New users get the caseworker role unless the CSV names roles; they have no password and sign in
through SSO, or an administrator sets one.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from marshmallow import ValidationError, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import services as audit
from server.auth.models import Group, Role, User
from server.auth.principal import Principal
from server.auth.rights import Right, RoleCode
from server.auth.services import Passwords, require
from server.errors import DomainError, Forbidden, Invalid

SOURCE_LOCAL, SOURCE_CSV, SOURCE_LDAP = "local", "csv", "ldap"
DEFAULT_ROLES = (RoleCode.CASEWORKER.value,)
# Active Directory answers at most 1000 entries per page (MaxPageSize); stay well below.
PAGE_SIZE = 500
_MAX_USERNAME, _MAX_EMAIL, _MAX_NAME, _MAX_GROUP = 200, 320, 300, 200


# ---------------------------------------------------------------- report and errors


@dataclass
class ImportReport:
    """What an import or sync did; field names match `ImportReportSchema`."""

    created_users: int = 0
    updated_users: int = 0
    deactivated_users: int = 0
    created_groups: int = 0
    updated_groups: int = 0
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lines = [
            f"Users: {self.created_users} created, {self.updated_users} updated, "
            f"{self.deactivated_users} deactivated.",
            f"Groups: {self.created_groups} created, {self.updated_groups} updated.",
        ]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines.extend(f"  - {p}" for p in self.problems)
        else:
            lines.append("No problems.")
        return "\n".join(lines)


class DirectoryInvalid(Invalid):
    """The file or the directory settings cannot be used (422)."""


class DirectoryUnavailable(DomainError):
    """The directory could not be reached, refused the bind, or failed a search (502)."""

    status = 502


# ---------------------------------------------------------------- shared bookkeeping


def _user_state(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "active": user.active,
        "roles": sorted(r.code for r in user.roles),
        "source": user.source,
        "external_id": user.external_id,
    }


def _group_state(group: Group) -> dict:
    return {
        "name": group.name,
        "description": group.description,
        "active": group.active,
        "source": group.source,
        "external_id": group.external_id,
    }


class _Changes:
    """Snapshots before the first change; counts and audits the differences in `finish`."""

    def __init__(self, session: Session, actor: Principal | None, summary: str):
        self.session = session
        self.actor = actor
        self.summary = summary
        self.report = ImportReport()
        self._users: dict[User, tuple[dict, set[Group]]] = {}
        self._groups: dict[Group, dict] = {}
        # dicts as ordered sets: membership tests stay O(1) for directories with many thousand users
        self._new_users: dict[User, None] = {}
        self._new_groups: dict[Group, None] = {}

    def touch_user(self, user: User) -> None:
        if user not in self._users and user not in self._new_users:
            self._users[user] = (_user_state(user), set(user.groups))

    def touch_group(self, group: Group) -> None:
        if group not in self._groups and group not in self._new_groups:
            self._groups[group] = _group_state(group)

    def new_user(self, user: User) -> None:
        self.session.add(user)
        self._new_users[user] = None

    def new_group(self, group: Group) -> None:
        self.session.add(group)
        self._new_groups[group] = None

    def problem(self, message: str) -> None:
        self.report.problems.append(message)

    def finish(self) -> ImportReport:
        session, report = self.session, self.report
        session.flush()
        added: dict[Group, list[str]] = defaultdict(list)
        removed: dict[Group, list[str]] = defaultdict(list)
        for group in self._new_groups:
            report.created_groups += 1
            audit.record_change(
                session, self.actor, "group.created", "group", group.id, summary=self.summary, after=_group_state(group)
            )
        for user in self._new_users:
            report.created_users += 1
            after = {**_user_state(user), "groups": sorted(g.name for g in user.groups)}
            audit.record_change(session, self.actor, "user.created", "user", user.id, summary=self.summary, after=after)
        for user, (before, groups_before) in self._users.items():
            b, a = audit.changed_fields(before, _user_state(user))
            groups_after = set(user.groups)
            if groups_after != groups_before:
                b["groups"] = sorted(g.name for g in groups_before)
                a["groups"] = sorted(g.name for g in groups_after)
                for g in groups_after - groups_before:
                    added[g].append(user.username)
                for g in groups_before - groups_after:
                    removed[g].append(user.username)
            if not a:
                continue
            if before["active"] and not user.active:
                report.deactivated_users += 1
            else:
                report.updated_users += 1
            audit.record_change(session, self.actor, "user.updated", "user", user.id, summary=self.summary, before=b, after=a)
        for user in self._new_users:
            for g in user.groups:
                added[g].append(user.username)
        changed_groups = [g for g in self._groups] + [g for g in {**added, **removed} if g not in self._groups]
        for group in changed_groups:
            if group in self._new_groups:
                continue
            b, a = audit.changed_fields(self._groups.get(group, _group_state(group)), _group_state(group))
            if added.get(group):
                a["members_added"] = sorted(added[group])
            if removed.get(group):
                a["members_removed"] = sorted(removed[group])
            if not a:
                continue
            report.updated_groups += 1
            audit.record_change(session, self.actor, "group.updated", "group", group.id, summary=self.summary, before=b, after=a)
        session.flush()
        return report


class _Directory:
    """All users and groups, loaded once and kept up to date while the import runs."""

    def __init__(self, session: Session):
        self.session = session
        self.users = list(session.scalars(select(User)))
        self.groups = list(session.scalars(select(Group)))
        self.user_by_name = {u.username.lower(): u for u in self.users}
        self.user_by_email = {u.email.lower(): u for u in self.users if u.email}
        self.user_by_external = {u.external_id: u for u in self.users if u.external_id}
        self.group_by_name = {g.name.lower(): g for g in self.groups}
        self.group_by_external = {g.external_id: g for g in self.groups if g.external_id}
        self.roles = {}
        for role in session.scalars(select(Role)):
            self.roles[_key(role.code)] = role
            self.roles[_key(role.name)] = role

    def default_roles(self) -> list[Role]:
        return [self.roles[_key(code)] for code in DEFAULT_ROLES if _key(code) in self.roles]

    def email_owner(self, email: str | None) -> User | None:
        return self.user_by_email.get(email.lower()) if email else None

    def set_email(self, user: User, email: str | None) -> None:
        if user.email and self.user_by_email.get(user.email.lower()) is user:
            del self.user_by_email[user.email.lower()]
        user.email = email
        if email:
            self.user_by_email[email.lower()] = user
        # written at once, so a later user may take the freed address without a unique clash
        self.session.flush()

    def rename_user(self, user: User, username: str) -> None:
        self.user_by_name.pop(user.username.lower(), None)
        user.username = username
        self.user_by_name[username.lower()] = user
        self.session.flush()

    def rename_group(self, group: Group, name: str) -> None:
        self.group_by_name.pop(group.name.lower(), None)
        group.name = name
        self.group_by_name[name.lower()] = group
        self.session.flush()

    def add_user(self, user: User) -> None:
        self.users.append(user)
        self.user_by_name[user.username.lower()] = user
        if user.email:
            self.user_by_email[user.email.lower()] = user
        if user.external_id:
            self.user_by_external[user.external_id] = user

    def add_group(self, group: Group) -> None:
        self.groups.append(group)
        self.group_by_name[group.name.lower()] = group
        if group.external_id:
            self.group_by_external[group.external_id] = group


def _key(text: str) -> str:
    """A header or role name reduced for matching: lower case without spaces, dashes, dots, underscores."""
    return re.sub(r"[\s_\-.]+", "", text.replace("\ufeff", "")).lower()


_email_check = validate.Email()


def _valid_email(email: str) -> bool:
    try:
        _email_check(email)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------- CSV


_COLUMNS: dict[str, set[str]] = {
    "username": {
        "username", "user", "userid", "login", "loginname", "samaccountname", "uid",
        "brugernavn", "bruger", "brugerid", "loginnavn",
    },
    "email": {"email", "mail", "emailaddress", "emailadresse", "mailadresse"},
    "full_name": {"name", "fullname", "displayname", "cn", "navn", "fuldtnavn", "fuldenavn", "visningsnavn"},
    "first_name": {"firstname", "givenname", "fornavn"},
    "last_name": {"lastname", "surname", "familyname", "sn", "efternavn"},
    "groups": {"groups", "group", "memberof", "grupper", "gruppe", "medlemaf"},
    "roles": {"roles", "role", "roller", "rolle"},
    "active": {"active", "enabled", "aktiv"},
}
_HEADER_TO_COLUMN = {alias: column for column, aliases in _COLUMNS.items() for alias in aliases}
_TRUE = {"1", "true", "yes", "y", "ja", "j", "x", "active", "enabled", "aktiv"}
_FALSE = {"0", "false", "no", "n", "nej", "inactive", "disabled", "inaktiv", "deaktiveret", "spærret", "ophørt"}
_DN_CN = re.compile(r"^\s*cn=((?:[^,\\]|\\.)+),", re.IGNORECASE)


def import_csv(
    session: Session,
    passwords: Passwords,
    data: bytes,
    *,
    deactivate_missing: bool = False,
    actor: Principal | None = None,
) -> ImportReport:
    """Create and update users and groups from a CSV export of the organisation directory.

    Delimiter `,`, `;` or tab; UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252.
    Headers in English or Danish (see `_COLUMNS`). Rows are numbered as in a spreadsheet, the header
    being row 1; a row with a problem is reported and skipped, the others are imported.
    `actor` None means the system (the `sagspost import-users` command).
    """
    if actor is not None:
        require(actor, Right.USERS_MANAGE)
    header, rows = _read_csv(data)
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _HEADER_TO_COLUMN.get(_key(name))
        if column and column not in columns:
            columns[column] = index
    if "username" not in columns:
        raise DirectoryInvalid(
            "The file has no username column (username, brugernavn, sAMAccountName, uid …); "
            f"its headers are: {_shorten(', '.join(h for h in header if h)) or 'none'}.",
            errors={"file": ["no username column"]},
        )

    changes = _Changes(session, actor, "CSV import")
    directory = _Directory(session)
    seen: dict[str, int] = {}  # lower-case username -> row it was first seen in
    for row_no, cells in rows:
        values = {column: (cells[i].strip() if i < len(cells) else "") for column, i in columns.items()}
        username = values["username"]
        if not username:
            changes.problem(f"row {row_no}: missing username")
            continue
        if username.lower() in seen:
            changes.problem(f"row {row_no}: username {username!r} already in row {seen[username.lower()]}; row skipped")
            continue
        seen[username.lower()] = row_no
        errors: list[str] = []
        row = _parse_row(values, columns, directory, errors)
        if errors:
            changes.problem(f"row {row_no}: {'; '.join(errors)}")
            continue
        _apply_row(changes, directory, username, row, row_no, actor)

    if deactivate_missing:
        if not seen:
            changes.problem("no user rows in the file, so nobody was deactivated")
        else:
            for user in directory.users:
                if user.source == SOURCE_CSV and user.active and user.username.lower() not in seen:
                    if actor is not None and user.id == actor.user_id:
                        changes.problem(f"user {user.username!r} is not in the file but is you; not deactivated")
                        continue
                    changes.touch_user(user)
                    user.active = False
    return changes.finish()


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel's "CSV" on a Danish Windows writes Windows-1252 with `;` between fields.
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if data.startswith(b"PK\x03\x04"):
        raise DirectoryInvalid(
            "This is an Excel workbook, not a CSV file: save it as CSV (semikolonsepareret) first.",
            errors={"file": ["not CSV"]},
        )
    text = _decode(data)
    if not text.strip():
        raise DirectoryInvalid("The file is empty.", errors={"file": ["empty"]})
    first_line = text.lstrip("\r\n").splitlines()[0]

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(1 for c in cells if _key(c) in _HEADER_TO_COLUMN), len(cells)

    delimiter = max((";", ",", "\t"), key=score)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise DirectoryInvalid(f"The file cannot be read as CSV: {exc}.", errors={"file": [str(exc)]}) from None
    first = next((i for i, cells in enumerate(records) if any(c.strip() for c in cells)), None)
    if first is None:
        raise DirectoryInvalid("The file is empty.", errors={"file": ["empty"]})
    header = [c.strip() for c in records[first]]
    # numbered as a spreadsheet shows them: the first record is row 1
    rows = [(n, cells) for n, cells in enumerate(records[first + 1:], start=first + 2) if any(c.strip() for c in cells)]
    return header, rows


def _split(cell: str) -> list[str]:
    """Several names in one cell: separated by `|`, else `;`, else `,`."""
    for separator in ("|", ";", ","):
        if separator in cell:
            parts = cell.split(separator)
            break
    else:
        parts = [cell]
    return [p.strip() for p in parts if p.strip()]


def _group_names(cell: str) -> list[str]:
    names = []
    if _DN_CN.match(cell):
        # memberOf from Active Directory: full DNs separated by `;` or `|`
        parts = [p.strip() for p in re.split(r"[;|]", cell) if p.strip()]
    else:
        parts = _split(cell)
    for part in parts:
        m = _DN_CN.match(part)
        name = m.group(1).replace("\\", "") if m else part
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    return names


def _parse_row(values: dict, columns: dict, directory: _Directory, errors: list[str]) -> dict:
    row: dict = {}
    username = values["username"]
    if len(username) > _MAX_USERNAME:
        errors.append(f"username longer than {_MAX_USERNAME} characters")
    if "email" in columns:
        email = values["email"] or None
        if email and (len(email) > _MAX_EMAIL or not _valid_email(email)):
            errors.append(f"invalid e-mail address {email!r}")
        row["email"] = email
    full_name = values.get("full_name") or " ".join(
        part for part in (values.get("first_name", ""), values.get("last_name", "")) if part
    )
    if len(full_name) > _MAX_NAME:
        errors.append(f"name longer than {_MAX_NAME} characters")
    row["full_name"] = full_name
    if values.get("roles"):
        roles = []
        for name in _split(values["roles"]):
            role = directory.roles.get(_key(name))
            if role is None:
                errors.append(f"unknown role {name!r}")
            elif role not in roles:
                roles.append(role)
        row["roles"] = roles
    if values.get("active"):
        flag = values["active"].strip().lower()
        if flag in _TRUE:
            row["active"] = True
        elif flag in _FALSE:
            row["active"] = False
        else:
            errors.append(f"cannot read active value {values['active']!r} (use ja/nej, yes/no or 1/0)")
    if "groups" in columns:
        names = _group_names(values["groups"])
        for name in names:
            if len(name) > _MAX_GROUP:
                errors.append(f"group name longer than {_MAX_GROUP} characters: {name[:40]!r}…")
        row["groups"] = names
    return row


def _csv_group(changes: _Changes, directory: _Directory, name: str) -> Group:
    group = directory.group_by_name.get(name.lower())
    if group is None:
        group = Group(name=name, description="", source=SOURCE_CSV, active=True)
        changes.new_group(group)
        directory.add_group(group)
    return group


def _apply_row(
    changes: _Changes, directory: _Directory, username: str, row: dict, row_no: int, actor: Principal | None
) -> None:
    user = directory.user_by_name.get(username.lower())
    if user is not None and actor is not None and user.id == actor.user_id and row.get("active") is False:
        changes.problem(f"row {row_no}: you cannot deactivate yourself; row skipped")
        return
    if user is not None and user.source != SOURCE_CSV:
        # Local and directory-synchronised users only gain memberships from a CSV file.
        groups = [_csv_group(changes, directory, name) for name in row.get("groups", [])]
        changes.touch_user(user)
        user.groups = user.groups + [g for g in groups if g not in user.groups]
        return
    email = row.get("email")
    owner = directory.email_owner(email)
    if owner is not None and owner is not user:
        changes.problem(f"row {row_no}: the e-mail address {email!r} belongs to user {owner.username!r}; row skipped")
        return
    groups = [_csv_group(changes, directory, name) for name in row.get("groups", [])]

    if user is None:
        user = User(
            username=username,
            email=email,
            full_name=row["full_name"],
            password_hash=None,
            source=SOURCE_CSV,
            active=row.get("active", True),
        )
        user.roles = row.get("roles") or directory.default_roles()
        user.groups = groups
        changes.new_user(user)
        directory.add_user(user)
        return

    changes.touch_user(user)
    if "email" in row and (user.email or None) != email:
        directory.set_email(user, email)
    if row["full_name"] and user.full_name != row["full_name"]:
        user.full_name = row["full_name"]
    if row.get("roles") and set(user.roles) != set(row["roles"]):
        user.roles = row["roles"]
    active = row.get("active", True)
    if user.active != active:
        user.active = active
    if "groups" in row and set(user.groups) != set(groups):
        user.groups = groups


# ---------------------------------------------------------------- LDAP / Active Directory


_USER_ATTRIBUTES = [
    "uid", "sAMAccountName", "mail", "cn", "displayName", "givenName", "sn",
    "entryUUID", "objectGUID", "nsUniqueId", "userAccountControl",
]
_GROUP_ATTRIBUTES = ["cn", "description", "member", "uniqueMember", "memberUid", "entryUUID", "objectGUID", "nsUniqueId"]
_AD_ACCOUNTDISABLE = 0x2


@dataclass
class _DirectoryUser:
    dn: str
    external_id: str | None
    username: str | None
    email: str | None
    full_name: str
    disabled: bool


@dataclass
class _DirectoryGroup:
    dn: str
    external_id: str | None
    name: str | None
    description: str
    member_dns: list[str]
    member_uids: list[str]


def sync_ldap(session: Session, passwords: Passwords, settings, *, actor: Principal | None = None) -> ImportReport:
    """Bring users and groups in line with LDAP / Active Directory (the SAGSPOST_LDAP_* settings).

    The directory is read completely before anything changes, so an unreachable directory, a
    refused bind or a failing search raises `DirectoryUnavailable` and leaves the database alone.
    """
    if actor is not None and not (actor.has(Right.SYSTEM_OPERATE) or actor.has(Right.USERS_MANAGE)):
        raise Forbidden(f"This needs the right {Right.SYSTEM_OPERATE.value} or {Right.USERS_MANAGE.value}.")
    _check_ldap_settings(settings)
    entries_users, entries_groups = _read_ldap(settings)
    return _apply_ldap(session, actor, entries_users, entries_groups)


def _check_ldap_settings(settings) -> None:
    missing = [name for name in ("ldap_url", "ldap_user_base", "ldap_group_base") if not getattr(settings, name, "")]
    if getattr(settings, "ldap_bind_dn", "") and not getattr(settings, "ldap_bind_password", ""):
        # an empty password makes many servers accept an unauthenticated bind: never send one
        missing.append("ldap_bind_password")
    if missing:
        names = ", ".join(f"SAGSPOST_{m.upper()}" for m in missing)
        raise DirectoryInvalid(
            f"Directory sync is not configured: {names} must be set.",
            errors={m: ["missing"] for m in missing},
        )


def _read_ldap(settings) -> tuple[list[_DirectoryUser], list[_DirectoryGroup]]:
    import ldap3
    from ldap3.core import exceptions as lx

    url = settings.ldap_url.strip().rstrip("/")
    password = settings.ldap_bind_password or ""

    def fail(message: str) -> DirectoryUnavailable:
        if password:
            message = message.replace(password, "***")
        return DirectoryUnavailable(message)

    step = f"connecting to {url}"
    conn = None
    try:
        server = ldap3.Server(url, get_info=ldap3.NONE, connect_timeout=10)
        conn = ldap3.Connection(
            server,
            user=settings.ldap_bind_dn or None,
            password=password or None,
            read_only=True,
            raise_exceptions=True,
            auto_referrals=False,
            receive_timeout=60,
        )
        conn.open()
        step = f"binding to {url} as {settings.ldap_bind_dn or 'anonymous'}"
        conn.bind()
        step = f"searching users under {settings.ldap_user_base}"
        users = [
            _directory_user(e)
            for e in _paged(conn, settings.ldap_user_base, settings.ldap_user_filter, _USER_ATTRIBUTES)
        ]
        step = f"searching groups under {settings.ldap_group_base}"
        groups = [
            _directory_group(conn, e)
            for e in _paged(conn, settings.ldap_group_base, settings.ldap_group_filter, _GROUP_ATTRIBUTES)
        ]
    except lx.LDAPInvalidCredentialsResult:
        raise fail(
            f"The directory at {url} refused the bind as {settings.ldap_bind_dn or 'anonymous'}: wrong DN or password "
            "(check SAGSPOST_LDAP_BIND_DN and SAGSPOST_LDAP_BIND_PASSWORD)."
        ) from None
    except lx.LDAPNoSuchObjectResult:
        raise fail(f"The directory at {url} has no such entry while {step}: check the search base.") from None
    except lx.LDAPInvalidFilterError as exc:
        raise fail(f"Invalid LDAP filter while {step}: {exc}.") from None
    except (lx.LDAPSocketOpenError, lx.LDAPCommunicationError, lx.LDAPSessionTerminatedByServerError) as exc:
        raise fail(f"Cannot reach the directory at {url} ({step}): {exc}.") from None
    except lx.LDAPException as exc:
        raise fail(f"The directory at {url} failed while {step}: {type(exc).__name__}: {exc}.") from None
    finally:
        if conn is not None:
            try:
                conn.unbind()
            except Exception:  # noqa: BLE001 - closing a broken connection must not hide the real error
                pass
    return users, groups


def _paged(conn, base: str, search_filter: str, attributes: list[str]):
    """Every entry under `base`, fetched in pages (RFC 2696) so large directories are read whole."""
    import ldap3

    for entry in conn.extend.standard.paged_search(
        search_base=base,
        search_filter=search_filter,
        search_scope=ldap3.SUBTREE,
        attributes=attributes,
        paged_size=PAGE_SIZE,
        generator=True,
    ):
        if entry.get("type") == "searchResEntry":  # Active Directory also sends referrals
            yield entry


def _raw(entry) -> dict[str, list[bytes]]:
    return {k.lower(): list(v) for k, v in (entry.get("raw_attributes") or {}).items()}


def _text(values: list[bytes] | None) -> str | None:
    for value in values or []:
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if value.strip():
            return value.strip()
    return None


def _stable_id(raw: dict[str, list[bytes]]) -> str | None:
    guid = (raw.get("objectguid") or [None])[0]
    if isinstance(guid, bytes) and len(guid) == 16:
        return str(uuid.UUID(bytes_le=guid))  # Active Directory stores the GUID little-endian
    value = _text(raw.get("entryuuid")) or _text(raw.get("nsuniqueid")) or _text(raw.get("objectguid"))
    return value.lower() if value else None


def _directory_user(entry) -> _DirectoryUser:
    raw = _raw(entry)
    given, sn = _text(raw.get("givenname")), _text(raw.get("sn"))
    full_name = _text(raw.get("displayname")) or _text(raw.get("cn")) or " ".join(p for p in (given, sn) if p)
    try:
        flags = int(_text(raw.get("useraccountcontrol")) or 0)
    except ValueError:
        flags = 0
    return _DirectoryUser(
        dn=entry["dn"],
        external_id=_stable_id(raw),
        username=_text(raw.get("samaccountname")) or _text(raw.get("uid")),
        email=_text(raw.get("mail")),
        full_name=full_name,
        disabled=bool(flags & _AD_ACCOUNTDISABLE),
    )


def _directory_group(conn, entry) -> _DirectoryGroup:
    raw = _raw(entry)
    return _DirectoryGroup(
        dn=entry["dn"],
        external_id=_stable_id(raw),
        name=_text(raw.get("cn")),
        description=_text(raw.get("description")) or "",
        member_dns=_member_dns(conn, entry["dn"], raw),
        member_uids=[v.decode("utf-8", errors="replace") for v in raw.get("memberuid", [])],
    )


def _member_dns(conn, dn: str, raw: dict[str, list[bytes]]) -> list[str]:
    """member / uniqueMember values, following Active Directory's ranged retrieval past 1500 members."""
    import ldap3

    values: list[bytes] = []
    for key, vals in raw.items():
        if key in ("member", "uniquemember"):
            values.extend(vals)
        elif key.startswith("member;range="):
            values.extend(vals)
            end = key.rsplit("-", 1)[1]
            while end != "*":
                start = int(end) + 1
                conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=[f"member;range={start}-*"])
                found = _raw(conn.response[0]) if conn.response else {}
                key2 = next((k for k in found if k.startswith("member;range=")), None)
                if key2 is None:
                    break
                values.extend(found[key2])
                end = key2.rsplit("-", 1)[1]
    # uniqueMember may carry "#'0101'B" (an optional unique id) after the DN
    return [re.sub(r"#'[01]*'B$", "", v.decode("utf-8", errors="replace")) for v in values]


def _norm_dn(dn: str) -> str:
    from ldap3.utils.dn import parse_dn

    try:
        return ",".join(f"{attr.lower()}={value.lower()}" for attr, value, _sep in parse_dn(dn, escape=False, strip=True))
    except Exception:  # noqa: BLE001 - an unparsable DN still compares as text
        return dn.strip().lower()


def _apply_ldap(
    session: Session, actor: Principal | None, entries: list[_DirectoryUser], group_entries: list[_DirectoryGroup]
) -> ImportReport:
    changes = _Changes(session, actor, "LDAP sync")
    directory = _Directory(session)
    default_roles = directory.default_roles()

    by_dn: dict[str, User] = {}
    by_uid: dict[str, User] = {}
    synced: set[User] = set()  # users whose directory memberships are applied
    found_ids: set[str] = set()
    usernames: set[str] = set()
    ids_in_directory = {e.external_id for e in entries if e.external_id}
    # Entries already known by their stable id go first, so their renames free usernames that a
    # new entry may take in the same run.
    ordered = sorted(entries, key=lambda e: (e.external_id not in directory.user_by_external, e.dn.lower()))
    for e in ordered:
        if not e.username:
            changes.problem(f"entry {e.dn}: no uid or sAMAccountName; skipped")
            continue
        if not e.external_id:
            changes.problem(f"entry {e.dn}: no entryUUID or objectGUID; skipped")
            continue
        if e.external_id in found_ids or e.username.lower() in usernames:
            changes.problem(f"entry {e.dn}: username {e.username!r} or id appears twice in the directory; skipped")
            continue
        if len(e.username) > _MAX_USERNAME:
            changes.problem(f"entry {e.dn}: username longer than {_MAX_USERNAME} characters; skipped")
            continue
        found_ids.add(e.external_id)
        usernames.add(e.username.lower())
        user = _ldap_user(changes, directory, e, default_roles, ids_in_directory)
        if user is not None:
            by_dn[_norm_dn(e.dn)] = user
            by_uid[user.username.lower()] = user
            synced.add(user)

    gone = [
        u for u in directory.users
        if u.source == SOURCE_LDAP and u.external_id not in found_ids and u not in synced
    ]
    if not found_ids and any(u.active for u in gone):
        changes.problem("the directory returned no users, so nobody was deactivated (check the user base and filter)")
        gone = []
    for user in gone:
        changes.touch_user(user)
        user.active = False
        synced.add(user)  # loses its directory group memberships below

    members: dict[User, set[Group]] = defaultdict(set)
    seen_groups: set[Group] = set()
    for e in sorted(group_entries, key=lambda e: e.dn.lower()):
        group = _ldap_group(changes, directory, e)
        if group is None:
            continue
        seen_groups.add(group)
        for dn in e.member_dns:
            user = by_dn.get(_norm_dn(dn))
            if user is not None:
                members[user].add(group)
        for uid in e.member_uids:
            user = by_uid.get(uid.lower())
            if user is not None:
                members[user].add(group)

    stale = [g for g in directory.groups if g.source == SOURCE_LDAP and g.active and g not in seen_groups]
    if not seen_groups and stale:
        changes.problem("the directory returned no groups, so no group was deactivated (check the group base and filter)")
    else:
        for group in stale:
            changes.touch_group(group)
            group.active = False

    for user in synced:
        want = members.get(user, set())
        have = {g for g in user.groups if g.source == SOURCE_LDAP}
        if want != have:
            changes.touch_user(user)
            user.groups = [g for g in user.groups if g.source != SOURCE_LDAP] + sorted(want, key=lambda g: g.name)
    return changes.finish()


def _ldap_user(
    changes: _Changes, directory: _Directory, e: _DirectoryUser, default_roles: list[Role], ids_in_directory: set[str]
) -> User | None:
    user = directory.user_by_external.get(e.external_id)
    if user is None:
        same_name = directory.user_by_name.get(e.username.lower())
        if same_name is not None and same_name.source == SOURCE_LOCAL:
            changes.problem(
                f"entry {e.dn}: {e.username!r} is a local user; only their directory group memberships are synchronised"
            )
            return same_name
        if same_name is not None and same_name.source == SOURCE_LDAP and same_name.external_id in ids_in_directory:
            changes.problem(f"entry {e.dn}: the username {e.username!r} is still held by another directory entry; skipped")
            return None
        if same_name is not None:
            # a CSV-imported user, or one whose directory entry was recreated: the directory takes over
            changes.touch_user(same_name)
            directory.user_by_external.pop(same_name.external_id, None)
            same_name.source = SOURCE_LDAP
            same_name.external_id = e.external_id
            directory.user_by_external[e.external_id] = same_name
            user = same_name
    email = e.email if e.email and len(e.email) <= _MAX_EMAIL and _valid_email(e.email) else None
    if e.email and email is None:
        changes.problem(f"entry {e.dn}: invalid e-mail address {e.email!r} ignored")
    owner = directory.email_owner(email)
    if owner is not None and owner is not user:
        changes.problem(f"entry {e.dn}: the e-mail address {email!r} belongs to user {owner.username!r}; not set")
        email = user.email if user is not None else None
    full_name = e.full_name[:_MAX_NAME]

    if user is None:
        user = User(
            username=e.username,
            email=email,
            full_name=full_name,
            password_hash=None,
            source=SOURCE_LDAP,
            external_id=e.external_id,
            active=not e.disabled,
        )
        user.roles = list(default_roles)
        user.groups = []
        changes.new_user(user)
        directory.add_user(user)
        return user

    changes.touch_user(user)
    if user.username != e.username:
        taken = directory.user_by_name.get(e.username.lower())
        if taken is not None and taken is not user:
            changes.problem(f"entry {e.dn}: cannot rename {user.username!r} to {e.username!r}, which is taken")
        else:
            directory.rename_user(user, e.username)
    if (user.email or None) != email:
        directory.set_email(user, email)
    if full_name and user.full_name != full_name:
        user.full_name = full_name
    if user.active == e.disabled:
        user.active = not e.disabled
    return user


def _ldap_group(changes: _Changes, directory: _Directory, e: _DirectoryGroup) -> Group | None:
    if not e.name:
        changes.problem(f"group {e.dn}: no cn; skipped")
        return None
    if not e.external_id:
        changes.problem(f"group {e.dn}: no entryUUID or objectGUID; skipped")
        return None
    if len(e.name) > _MAX_GROUP:
        changes.problem(f"group {e.dn}: name longer than {_MAX_GROUP} characters; skipped")
        return None
    description = e.description[:1000]
    group = directory.group_by_external.get(e.external_id)
    if group is None:
        same_name = directory.group_by_name.get(e.name.lower())
        if same_name is not None and same_name.source == SOURCE_LOCAL:
            changes.problem(f"group {e.dn}: a local group is named {same_name.name!r}; skipped")
            return None
        if same_name is not None:
            changes.touch_group(same_name)
            directory.group_by_external.pop(same_name.external_id, None)
            same_name.source = SOURCE_LDAP
            same_name.external_id = e.external_id
            directory.group_by_external[e.external_id] = same_name
            group = same_name
    if group is None:
        group = Group(name=e.name, description=description, source=SOURCE_LDAP, external_id=e.external_id, active=True)
        changes.new_group(group)
        directory.add_group(group)
        return group
    changes.touch_group(group)
    if group.name != e.name:
        taken = directory.group_by_name.get(e.name.lower())
        if taken is not None and taken is not group:
            changes.problem(f"group {e.dn}: cannot rename {group.name!r} to {e.name!r}, which is taken")
        else:
            directory.rename_group(group, e.name)
    if group.description != description:
        group.description = description
    if not group.active:
        group.active = True
    return group
