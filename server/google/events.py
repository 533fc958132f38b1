"""Reading Google's add-on event object (commonEventObject, authorizationEventObject, host parts)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.errors import Invalid

DEFAULT_ZONE = "Europe/Copenhagen"


@dataclass(frozen=True)
class Event:
    raw: dict

    @property
    def _common(self) -> dict:
        return self.raw.get("commonEventObject") or {}

    @property
    def _auth(self) -> dict:
        return self.raw.get("authorizationEventObject") or {}

    @property
    def user_id_token(self) -> str | None:
        return self._auth.get("userIdToken")

    @property
    def user_oauth_token(self) -> str | None:
        return self._auth.get("userOAuthToken")

    @property
    def host(self) -> str:
        return self._common.get("hostApp", "")

    def param(self, key: str, default: str | None = None) -> str | None:
        return (self._common.get("parameters") or {}).get(key, default)

    def values(self, name: str) -> list[str]:
        """A form input's values (a text field's text, a selection's chosen values)."""
        field = (self._common.get("formInputs") or {}).get(name) or {}
        return list((field.get("stringInputs") or {}).get("value") or [])

    def value(self, name: str) -> str:
        found = self.values(name)
        return found[0].strip() if found else ""

    def checked(self, name: str) -> bool:
        return bool(self.values(name))

    def id_of(self, name: str, missing: str | None = None) -> uuid.UUID | None:
        """A chosen id from the form; Invalid(`missing`) when nothing is chosen (None if `missing` is None)."""
        return _id(self.value(name), missing)

    def id_param(self, key: str, missing: str) -> uuid.UUID:
        """An id the card put in a button's parameters."""
        return _id(self.param(key, ""), missing)

    def ids(self, name: str) -> list[uuid.UUID]:
        return [_id(value, None) for value in self.values(name)]

    def shown_time(self, moment: datetime) -> str:
        """A time as the user reads it, in the time zone their Google client reports."""
        try:
            zone = ZoneInfo((self._common.get("timeZone") or {}).get("id") or DEFAULT_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(DEFAULT_ZONE)
        return moment.astimezone(zone).strftime("%d-%m-%Y %H:%M")

    def moment(self, name: str) -> datetime | None:
        """A date-time picker's value, as an aware UTC time."""
        field = (self._common.get("formInputs") or {}).get(name) or {}
        ms = (field.get("dateTimeInput") or {}).get("msSinceEpoch")
        return datetime.fromtimestamp(int(ms) / 1000, tz=timezone.utc) if ms else None

    # ---------------------------------------------------------------- host contexts

    @property
    def gmail(self) -> dict:
        return self.raw.get("gmail") or {}

    def editor_file(self) -> dict:
        """The open Docs/Sheets file ({id, title}); empty until the user grants the add-on this file."""
        part = self.raw.get("docs") or self.raw.get("sheets") or {}
        return part if part.get("id") else {}

    def drive_items(self) -> list[dict]:
        return list((self.raw.get("drive") or {}).get("selectedItems") or [])


def _id(value: str, missing: str | None) -> uuid.UUID | None:
    if not value:
        if missing is None:
            return None
        raise Invalid(missing)
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid("Vælg fra listen.") from None
