"""Administrable lists: party roles, note categories and custom field definitions."""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from server.admin.models import (
    CustomField,
    DocumentType,
    FieldEntity,
    FieldType,
    FileTypeRule,
    NoteCategory,
    PartyRole,
    Setting,
)
from server.audit import services as audit
from server.auth.principal import Principal
from server.auth.rights import Right
from server.auth.services import require
from server.errors import Conflict, Invalid, NotFound

NamedList = type[PartyRole] | type[NoteCategory] | type[DocumentType]
_ENTITY_NAMES = {PartyRole: "party_role", NoteCategory: "note_category", DocumentType: "document_type"}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


# ---------------------------------------------------------------- party roles and note categories


def list_named(session: Session, model: NamedList, include_inactive: bool = False) -> list:
    stmt = select(model).order_by(model.name)
    if not include_inactive:
        stmt = stmt.where(model.active.is_(True))
    return list(session.scalars(stmt))


def get_named(session: Session, model: NamedList, item_id: uuid.UUID):
    item = session.get(model, item_id)
    if item is None:
        raise NotFound(f"No such {_ENTITY_NAMES[model].replace('_', ' ')}.")
    return item


def create_named(session: Session, actor: Principal, model: NamedList, values: dict):
    require(actor, Right.LISTS_MANAGE)
    _ensure_unique_name(session, model, values["name"])
    item = model(**values)
    session.add(item)
    session.flush()
    audit.record_change(session, actor, f"{_ENTITY_NAMES[model]}.created", _ENTITY_NAMES[model], item.id, after=values)
    return item


def update_named(session: Session, actor: Principal, model: NamedList, item_id: uuid.UUID, changes: dict):
    require(actor, Right.LISTS_MANAGE)
    item = get_named(session, model, item_id)
    if "name" in changes and changes["name"].lower() != item.name.lower():
        _ensure_unique_name(session, model, changes["name"])
    before = {k: getattr(item, k) for k in changes}
    for key, value in changes.items():
        setattr(item, key, value)
    session.flush()
    audit.record_change(
        session, actor, f"{_ENTITY_NAMES[model]}.updated", _ENTITY_NAMES[model], item.id, before=before, after=changes
    )
    return item


def _ensure_unique_name(session: Session, model: NamedList, name: str) -> None:
    if session.scalar(select(model).where(func.lower(model.name) == name.strip().lower())):
        raise Conflict(f"{name!r} exists already.")


def ensure_default_lists(session: Session) -> None:
    """A new installation starts with common Danish party roles and note categories."""
    for model, names in (
        (PartyRole, DEFAULT_PARTY_ROLES),
        (NoteCategory, DEFAULT_NOTE_CATEGORIES),
        (DocumentType, DEFAULT_DOCUMENT_TYPES),
    ):
        existing = {n.lower() for n in session.scalars(select(model.name))}
        session.add_all(model(name=n) for n in names if n.lower() not in existing)
    session.flush()


DEFAULT_PARTY_ROLES = ["Primær part", "Part", "Elev", "Medarbejder", "Værge", "Forælder", "Partsrepræsentant", "Virksomhed"]
DEFAULT_NOTE_CATEGORIES = ["Generelt", "Telefonnotat", "Mødenotat", "Aktindsigt"]
DEFAULT_DOCUMENT_TYPES = ["Brev", "E-mail", "Notat", "Afgørelse", "Partshøring", "Faktura", "Kontrakt", "Rapport", "Bilag"]


# ---------------------------------------------------------------- custom fields


def list_fields(session: Session, entity: FieldEntity | None, include_inactive: bool = False) -> list[CustomField]:
    stmt = select(CustomField).order_by(CustomField.entity, CustomField.section, CustomField.position, CustomField.label)
    if entity:
        stmt = stmt.where(CustomField.entity == entity)
    if not include_inactive:
        stmt = stmt.where(CustomField.active.is_(True))
    return list(session.scalars(stmt))


def get_field(session: Session, field_id: uuid.UUID) -> CustomField:
    field = session.get(CustomField, field_id)
    if field is None:
        raise NotFound("No such custom field.")
    return field


def create_field(session: Session, actor: Principal, values: dict) -> CustomField:
    require(actor, Right.LISTS_MANAGE)
    if not _KEY.match(values["key"]):
        raise Invalid.field("key", "A key is lower-case letters, digits and _ and starts with a letter.")
    _check_choices(values["type"], values.get("choices"))
    exists = select(CustomField).where(CustomField.entity == values["entity"], CustomField.key == values["key"])
    if session.scalar(exists):
        raise Conflict(f"A {values['entity'].value} field with key {values['key']!r} exists.")
    field = CustomField(**values)
    session.add(field)
    session.flush()
    audit.record_change(session, actor, "custom_field.created", "custom_field", field.id, after=values)
    return field


def update_field(session: Session, actor: Principal, field_id: uuid.UUID, changes: dict) -> CustomField:
    require(actor, Right.LISTS_MANAGE)
    field = get_field(session, field_id)
    _check_choices(field.type, changes.get("choices", field.choices))
    before = {k: getattr(field, k) for k in changes}
    for key, value in changes.items():
        setattr(field, key, value)
    session.flush()
    audit.record_change(session, actor, "custom_field.updated", "custom_field", field.id, before=before, after=changes)
    return field


def _check_choices(field_type: FieldType, choices: list | None) -> None:
    if field_type == FieldType.CHOICE and not choices:
        raise Invalid.field("choices", "A choice field needs a list of choices.")


def fields_by_key(session: Session, entity: FieldEntity) -> dict[str, CustomField]:
    return {f.key: f for f in list_fields(session, entity)}


def merged_field_values(
    session: Session, entity: FieldEntity, rows: list, values: dict, *, creating: bool, new_row: Callable
) -> list:
    """A case's or document's value rows (`rows`, each with a field_id) after setting `values`
    (field key → raw value; None or "" clears it); `new_row(field_id=…, value_…=…)` makes a row.

    Raises Invalid naming the field: an unknown key, a value that does not fit its field's type, a
    required field cleared, or, when creating, left out.
    """
    defs = fields_by_key(session, entity)
    unknown = sorted(set(values) - set(defs))
    if unknown:
        raise Invalid.field("fields", f"Unknown {entity.value} fields: {', '.join(unknown)}.")
    current = {row.field_id: row for row in rows}
    for key, raw in values.items():
        definition = defs[key]
        if raw is None or raw == "":
            if definition.required:
                raise Invalid.field(f"fields.{key}", f"{definition.label} is required.")
            current.pop(definition.id, None)
            continue
        current[definition.id] = new_row(field_id=definition.id, **typed_value(definition, raw))
    if creating:
        missing = [d.label for d in defs.values() if d.required and d.id not in current]
        if missing:
            raise Invalid.field("fields", f"Required fields missing: {', '.join(missing)}.")
    return list(current.values())


def plain_field_values(session: Session, entity: FieldEntity, rows: list) -> dict:
    """Field key → value in its JSON form, retired fields' values included."""
    if not rows:
        return {}
    defs = {f.id: f for f in list_fields(session, entity, include_inactive=True)}
    return {defs[row.field_id].key: plain_value(defs[row.field_id], row) for row in rows if row.field_id in defs}


def audited_field_values(rows: list) -> dict:
    """Field id → value as text, for the before and after of an audited change."""
    return {str(row.field_id): _stored(row) for row in rows}


def _stored(row):
    for value in (row.value_text, row.value_number, row.value_date, row.value_bool):
        if value is not None:
            return str(value) if not isinstance(value, (bool, str)) else value
    return None


_VALUE_COLUMNS = {FieldType.NUMBER: "value_number", FieldType.DATE: "value_date", FieldType.BOOLEAN: "value_bool"}
_YES = ("true", "1", "yes", "ja")


def value_condition(definition: CustomField, model, *, value=None, low=None, high=None):
    """A WHERE clause on a value table (`model`: a FieldValueColumns class): its rows of this field
    equal to `value`, or, for a number or date field, from `low` to `high` (either may be None).
    Values may be typed JSON or text from a URL ("true" or "ja" for yes)."""
    column = getattr(model, _VALUE_COLUMNS.get(definition.type, "value_text"))
    if value is not None:
        if definition.type == FieldType.BOOLEAN and isinstance(value, str):
            value = value.lower() in _YES
        match = column == _column_value(definition, value)
    elif definition.type in (FieldType.NUMBER, FieldType.DATE):
        bounds = [column >= _column_value(definition, low)] if low is not None else []
        bounds += [column <= _column_value(definition, high)] if high is not None else []
        match = and_(true(), *bounds)
    else:
        raise Invalid.field(f"fields.{definition.key}", f"{definition.label}: only number and date fields take a range.")
    return and_(model.field_id == definition.id, match)


def owners_with_value(id_column, owner_column, entity: FieldEntity, definition: CustomField, *, value=None, low=None,
                      high=None):
    """A predicate on `id_column`: true for the cases or documents (`owner_column`: their value
    table's owner id) whose value of this field matches (see value_condition)."""
    if definition.entity != entity:
        raise Invalid.field("field_id", f"{definition.label} is not a {entity.value} field.")
    match = value_condition(definition, owner_column.class_, value=value, low=low, high=high)
    return id_column.in_(select(owner_column).where(match))


def _column_value(definition: CustomField, raw):
    return next(iter(typed_value(definition, raw).values()))


def field_words(values: dict) -> list[str]:
    """The field values a free-text search should find (a yes/no is no word)."""
    return [str(v) for v in values.values() if v is not None and not isinstance(v, bool)]


def typed_value(field: CustomField, raw) -> dict:
    """The column values (value_text / value_number / value_date / value_bool) for a raw input.

    Raises Invalid naming the field when the value does not fit its type.
    """
    name = f"fields.{field.key}"
    try:
        if field.type == FieldType.TEXT:
            return {"value_text": str(raw)[:1000]}
        if field.type == FieldType.CHOICE:
            if raw not in (field.choices or []):
                raise Invalid.field(name, f"{field.label}: choose one of {', '.join(map(str, field.choices))}.")
            return {"value_text": str(raw)}
        if field.type == FieldType.NUMBER:
            if isinstance(raw, bool):
                raise ValueError
            return {"value_number": Decimal(str(raw))}
        if field.type == FieldType.DATE:
            return {"value_date": raw if isinstance(raw, date) else date.fromisoformat(str(raw))}
        if field.type == FieldType.BOOLEAN:
            if not isinstance(raw, bool):
                raise ValueError
            return {"value_bool": raw}
    except (ValueError, InvalidOperation):
        raise Invalid.field(name, f"{field.label}: the value is not a valid {field.type.value}.") from None
    raise AssertionError(field.type)


def plain_value(field: CustomField, row) -> object:
    """The stored value back in its JSON form."""
    if field.type in (FieldType.TEXT, FieldType.CHOICE):
        return row.value_text
    if field.type == FieldType.NUMBER:
        number = row.value_number
        return int(number) if number == number.to_integral_value() else float(number)
    if field.type == FieldType.DATE:
        return row.value_date.isoformat()
    return row.value_bool


# ---------------------------------------------------------------- document types


def document_type(session: Session, type_id: uuid.UUID | None) -> DocumentType | None:
    """The active document type with that id (None for None); refuses unknown and retired types."""
    if type_id is None:
        return None
    item = get_named(session, DocumentType, type_id)
    if not item.active:
        raise Invalid.field("document_type_id", f"The document type {item.name!r} is no longer in use.")
    return item


def document_type_by_name(session: Session, name: str) -> DocumentType | None:
    return session.scalar(select(DocumentType).where(func.lower(DocumentType.name) == name.lower()))


# ---------------------------------------------------------------- allowed file types


def list_file_rules(session: Session) -> list[FileTypeRule]:
    return list(session.scalars(select(FileTypeRule).order_by(FileTypeRule.mime)))


def set_file_rule(session: Session, actor: Principal, mime: str, *, allowed: bool, label: str = "") -> FileTypeRule:
    require(actor, Right.LISTS_MANAGE)
    rule = session.scalar(select(FileTypeRule).where(FileTypeRule.mime == mime))
    before = {"allowed": rule.allowed} if rule else None
    if rule is None:
        rule = FileTypeRule(mime=mime)
        session.add(rule)
    rule.allowed, rule.label = allowed, label or rule.label
    session.flush()
    audit.record_change(session, actor, "file_type.set", "file_type", rule.id, before=before,
                        after={"mime": mime, "allowed": allowed})
    return rule


def delete_file_rule(session: Session, actor: Principal, rule_id: uuid.UUID) -> None:
    require(actor, Right.LISTS_MANAGE)
    rule = session.get(FileTypeRule, rule_id)
    if rule is None:
        raise NotFound("No such file type rule.")
    session.delete(rule)
    audit.record_change(session, actor, "file_type.deleted", "file_type", rule_id, before={"mime": rule.mime})


def check_file_type(session: Session, mime: str, label: str) -> None:
    """Refuse a file whose content type is refused, or not listed when only listed types may be uploaded."""
    rule = session.scalar(select(FileTypeRule).where(FileTypeRule.mime == mime))
    if rule is not None and not rule.allowed:
        raise Invalid.field("file", f"Files of type {label} ({mime}) may not be uploaded here.")
    if rule is None and get_setting(session, "uploads.only_listed_types"):
        raise Invalid.field("file", f"Only listed file types may be uploaded, and {label} ({mime}) is not listed.")


# ---------------------------------------------------------------- settings


SETTINGS: dict[str, tuple[type, object, str]] = {
    "uploads.only_listed_types": (bool, False, "Only file types on the list may be uploaded"),
    "trash.retention_days": (int, 30, "Days a deleted item stays in the trash before it is purged"),
    "trash.auto_purge": (bool, True, "Purge the trash automatically after the retention days"),
    "post.archive_journal_key_id": (str, None, "Journal key of the cases sent letters are filed on (the recipient's case)"),
    "post.archive_case_template_id": (str, None, "Case template for a new case when a recipient has none"),
    "post.log_retention_days": (int, 3650, "Days dispatches and their letters are kept in the dispatch log"),
    "organisation.name": (str, None, "The organisation's name, as letters print it"),
    "organisation.address": (str, None, "The organisation's street address, as letters print it"),
    "organisation.postal_code": (str, None, "The organisation's postal code"),
    "organisation.city": (str, None, "The organisation's city"),
    "organisation.cvr": (str, None, "The organisation's CVR number"),
    "organisation.phone": (str, None, "The organisation's telephone number"),
    "organisation.email": (str, None, "The organisation's e-mail address"),
    "organisation.web": (str, None, "The organisation's web site"),
}


def get_setting(session: Session, key: str):
    kind, default, _ = SETTINGS[key]
    row = session.get(Setting, key)
    return default if row is None else row.value


def all_settings(session: Session) -> list[dict]:
    return [
        {"key": key, "value": get_setting(session, key), "default": default, "description": text}
        for key, (_kind, default, text) in SETTINGS.items()
    ]


def set_setting(session: Session, actor: Principal, key: str, value) -> None:
    require(actor, Right.LISTS_MANAGE)
    if key not in SETTINGS:
        raise NotFound(f"No setting named {key!r}.")
    kind, default = SETTINGS[key][0], SETTINGS[key][1]
    if value is None and default is None:
        pass  # a setting without default can be cleared
    elif type(value) is not kind or (kind is int and value < 0):
        raise Invalid.field("value", f"{key} takes a {'non-negative whole number' if kind is int else kind.__name__}.")
    before = get_setting(session, key)
    row = session.get(Setting, key) or Setting(key=key)
    row.value = value
    session.add(row)
    session.flush()
    audit.record_change(session, actor, "setting.changed", "setting", None, summary=key, before={key: before}, after={key: value})
