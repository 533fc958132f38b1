"""The fields a template may use, and the values they get from a case, a recipient, the sender and today.

Names are Danish, as the templates are. A template reads them as Jinja (`{{ sag.nummer }}`,
`{% for p in parter %}{{ p.navn }}{% endfor %}`) or as a Word MERGEFIELD (`MERGEFIELD sag.nummer`,
`MERGEFIELD Sagsnummer`), which becomes `felt("…")` and is looked up here by name or alias.
"""
from __future__ import annotations

from datetime import date

from server.generation.wordfill import FieldUse

ADDRESS = ("navn", "adresse", "co", "postnr", "by", "land", "adresselinjer", "email", "telefon")
CATALOGUE: dict[str, tuple[str, ...] | None] = {
    # name: attributes (None: a plain value)
    "dato": None,
    "dato_kort": None,
    "sag": ("nummer", "titel", "beskrivelse", "status", "journalnoegle", "journalnoegle_titel", "oprettet",
            "sagsbehandler", "felter"),
    "parter": ADDRESS + ("rolle", "primaer"),
    "part": ADDRESS + ("rolle",),  # the case's primary party
    "modtager": ADDRESS,
    "afsender": ("navn", "email", "telefon", "titel"),
    "organisation": ("navn", "adresse", "postnr", "by", "cvr", "telefon", "email", "web"),
    "felter": None,  # the case's custom fields by key: any key
    "række": None,  # a mail merge row by column header: any key
}
LISTS = {"parter"}
# Word users name merge fields without dots; these are the names Word's own merge wizard suggests.
ALIASES = {
    "dato": "dato", "date": "dato", "sagsnummer": "sag.nummer", "sagsnr": "sag.nummer", "sagstitel": "sag.titel",
    "navn": "modtager.navn", "name": "modtager.navn", "adresse": "modtager.adresse", "address": "modtager.adresse",
    "postnr": "modtager.postnr", "by": "modtager.by", "city": "modtager.by",
    "sagsbehandler": "afsender.navn", "afsender": "afsender.navn",
}


def unknown_fields(uses: list[FieldUse], *, merge_columns_allowed: bool, custom_field_keys: set[str]) -> list[str]:
    """The names of used fields the catalogue does not have (a merge template's extra names are columns)."""
    unknown = []
    for use in uses:
        if not _known(use, custom_field_keys) and not (merge_columns_allowed and _could_be_column(use)):
            unknown.append(use.name)
    return sorted(set(unknown))


def _known(use: FieldUse, custom_field_keys: set[str]) -> bool:
    path = use.path
    if path[0] == "felt":
        return _known_name(path[1], custom_field_keys)
    if path[0] not in CATALOGUE:
        return path[0] == "loop"  # Jinja's own loop.index, loop.first …
    attributes = CATALOGUE[path[0]]
    rest = [p for p in path[1:] if p != "[]"]
    if not rest or path[0] == "række":
        return True
    if path[0] == "felter":
        return rest[0] in custom_field_keys
    if attributes is None or rest[0] not in attributes:
        return False
    if rest[0] == "felter":
        return len(rest) == 1 or rest[1] in custom_field_keys
    return len(rest) == 1 or rest[0] == "adresselinjer"


def _known_name(name: str, custom_field_keys: set[str]) -> bool:
    dotted = ALIASES.get(name.lower(), name)
    head, _, rest = dotted.partition(".")
    return _known(FieldUse((head,) + tuple(p for p in rest.split(".") if p)), custom_field_keys) if head else False


def _could_be_column(use: FieldUse) -> bool:
    return use.path[0] == "felt" or len(use.path) == 1


def danish_date(day: date) -> str:
    months = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
              "november", "december")
    return f"{day.day}. {months[day.month - 1]} {day.year}"


def address_values(contact) -> dict:
    """A contact (or a register person/company shaped alike) as the address fields a letter prints."""
    postal = " ".join(p for p in (contact.get("postnr"), contact.get("by")) if p)
    lines = [line for line in (contact.get("navn"), contact.get("co") and f"c/o {contact['co']}",
                               contact.get("adresse"), postal) if line]
    return {**{key: contact.get(key) or "" for key in ADDRESS if key != "adresselinjer"}, "adresselinjer": lines}


def contact_fields(contact) -> dict:
    return address_values({
        "navn": contact.name, "co": contact.co, "adresse": contact.street, "postnr": contact.postal_code,
        "by": contact.city, "land": contact.country, "email": contact.email, "telefon": contact.phone,
    })


def lookup(context: dict, name: str):
    """A MERGEFIELD's value: a column (exact, then any case), a dotted path, or an alias."""
    row = context.get("række") or {}
    if name in row:
        return row[name]
    lowered = {key.lower(): value for key, value in row.items()}
    if name.lower() in lowered:
        return lowered[name.lower()]
    value: object = context
    for part in ALIASES.get(name.lower(), name).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, dict) and part.lower() in value:
            value = value[part.lower()]
        else:
            return ""
    return value


def with_lookup(context: dict) -> dict:
    """The context with `felt(name)`, which MERGEFIELDs become."""
    return {**context, "felt": lambda name: lookup(context, name)}
