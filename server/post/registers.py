"""Person register (CPR) and business register (CVR): who a letter goes to, and where.

Two small interfaces, each with a local implementation backed by a JSON file (the shipped one holds
fictional people and companies) and a real one:

- `Sf1520PersonRegister`: Serviceplatformen SF1520 "CPR replika opslag", the SOAP service
  PersonBaseDataExtended (version 4, operation PersonLookup): mutual TLS with the system
  certificate and an InvocationContext of four UUIDs from the service agreement. The answer gives
  name, address, status (dead: 90), address protection and the custody relations
  (`relationer/foraeldremyndighed`, type 3 mother, 4 father, 5 and 6 other holders).
- `CvrBusinessRegister`: Erhvervsstyrelsen's "System-til-system adgang til CVR-data", an
  Elasticsearch service (`…/cvr-permanent/virksomhed/_search`, `…/produktionsenhed/_search`) with
  basic auth, answering JSON documents `Vrvirksomhed` and `VrproduktionsEnhed`.

A CPR number never goes into an error message or a log line from here: `RegisterUnavailable`
carries a fixed reason that says what failed, and HTTP bodies (which may echo the number) are
neither logged nor quoted.
"""
from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from xml.sax.saxutils import escape

import requests

from server.contacts import numbers
from server.errors import DomainError

log = logging.getLogger("sagspost.registers")

# Letters about a child under 15 go to those with custody; from 15 the child has a mailbox itself.
CHILD_AGE = 15
DEFAULT_TIMEOUT = 10.0  # seconds, for connecting and again for reading

SHIPPED_FILE = Path(__file__).with_name("data") / "registers.json"


class RegisterUnavailable(DomainError):
    """A real register could not be asked or gave no usable answer (502).

    `reason` is fixed text chosen here, never built from the request or the answer, so it holds no
    CPR number and is safe to show and to log.
    """

    status = 502

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- what the registers answer


@dataclass(frozen=True)
class Address:
    street: str  # street, number, floor and door as one line: "Vestergade 1, 2. tv."
    postal_code: str
    city: str
    co: str | None = None  # "c/o …"
    country: str = "DK"  # ISO 3166 alpha-2


@dataclass(frozen=True)
class Person:
    cpr: str  # DDMMYY-SSSS
    name: str
    address: Address | None
    birth_date: date
    custody_holders: list[str] = field(default_factory=list)  # CPR numbers (DDMMYY-SSSS)
    protected_address: bool = False  # navne- og adressebeskyttelse
    deceased: bool = False

    def is_child_on(self, day: date) -> bool:
        """Under 15 on that day: letters about the person go to the custody holders instead."""
        return numbers.age_on(self.birth_date, day) < CHILD_AGE


@dataclass(frozen=True)
class ProductionUnit:
    p_number: str  # ten digits
    name: str
    address: Address | None
    cvr: str | None  # the company the unit belongs to


@dataclass(frozen=True)
class Company:
    cvr: str  # eight digits
    name: str
    address: Address | None


@runtime_checkable
class PersonRegister(Protocol):
    def person(self, cpr: str) -> Person | None:
        """The person with this CPR number (either form), None if the register has no such person.

        Raises NumberError for a number that is not a CPR number, RegisterUnavailable when a real
        register cannot be asked.
        """


@runtime_checkable
class BusinessRegister(Protocol):
    def production_unit(self, p_number: str) -> ProductionUnit | None: ...

    def company(self, cvr: str) -> Company | None: ...

    def units_of(self, cvr: str) -> list[ProductionUnit]:
        """The company's active production units, by P-number (for a P-number picker)."""


# ---------------------------------------------------------------- local: a JSON file


def _load(path: Path | str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"Register file {path} cannot be read: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise ValueError(f"Register file {path} must hold a JSON object")
    return data


def _address_from_file(value: dict | None) -> Address | None:
    if not value:
        return None
    return Address(
        street=value["street"],
        postal_code=str(value["postal_code"]),
        city=value["city"],
        co=value.get("co") or None,
        country=(value.get("country") or "DK").upper(),
    )


class LocalPersonRegister:
    """Persons from the `persons` list of a JSON file, read once when created."""

    def __init__(self, path: Path | str = SHIPPED_FILE):
        self.path = Path(path)
        self._persons: dict[str, Person] = {}
        for index, entry in enumerate(_load(self.path).get("persons", [])):
            try:
                cpr = numbers.normalise_cpr(entry["cpr"])
                person = Person(
                    cpr=cpr,
                    name=entry["name"],
                    address=_address_from_file(entry.get("address")),
                    birth_date=numbers.cpr_birth_date(cpr),
                    custody_holders=[numbers.normalise_cpr(c) for c in entry.get("custody_holders", [])],
                    protected_address=bool(entry.get("protected_address", False)),
                    deceased=bool(entry.get("deceased", False)),
                )
            except (KeyError, TypeError, numbers.NumberError) as exc:
                # The entry's position, never its number: the file could hold real ones.
                raise ValueError(f"Register file {self.path}: person #{index + 1} is not valid ({exc})") from None
            self._persons[cpr] = person

    def person(self, cpr: str) -> Person | None:
        return self._persons.get(numbers.normalise_cpr(cpr))


class LocalBusinessRegister:
    """Companies and their production units from the `companies` list of a JSON file."""

    def __init__(self, path: Path | str = SHIPPED_FILE):
        self.path = Path(path)
        self._companies: dict[str, Company] = {}
        self._units: dict[str, ProductionUnit] = {}
        self._units_of: dict[str, list[ProductionUnit]] = {}
        for index, entry in enumerate(_load(self.path).get("companies", [])):
            try:
                cvr = numbers.normalise_cvr(entry["cvr"])
                self._companies[cvr] = Company(cvr, entry["name"], _address_from_file(entry.get("address")))
                units = [
                    ProductionUnit(
                        p_number=numbers.normalise_p_number(unit["p_number"]),
                        name=unit["name"],
                        address=_address_from_file(unit.get("address")),
                        cvr=cvr,
                    )
                    for unit in entry.get("production_units", [])
                ]
            except (KeyError, TypeError, numbers.NumberError) as exc:
                raise ValueError(f"Register file {self.path}: company #{index + 1} is not valid ({exc})") from None
            self._units_of[cvr] = sorted(units, key=lambda u: u.p_number)
            self._units.update((u.p_number, u) for u in units)

    def production_unit(self, p_number: str) -> ProductionUnit | None:
        return self._units.get(numbers.normalise_p_number(p_number))

    def company(self, cvr: str) -> Company | None:
        return self._companies.get(numbers.normalise_cvr(cvr))

    def units_of(self, cvr: str) -> list[ProductionUnit]:
        return list(self._units_of.get(numbers.normalise_cvr(cvr), []))


# ---------------------------------------------------------------- shared HTTP handling


def _post(session: requests.Session, register: str, url: str, **kwargs) -> requests.Response:
    """POST, turning every transport failure into RegisterUnavailable with a fixed reason."""
    try:
        return session.post(url, **kwargs)
    except requests.Timeout:
        reason = f"The {register} did not answer in time."
    except requests.exceptions.SSLError:
        reason = f"The {register} could not be reached: the TLS handshake failed (check the certificate)."
    except requests.ConnectionError:
        reason = f"The {register} could not be reached."
    except (requests.RequestException, OSError) as exc:
        # OSError: e.g. the client certificate file is missing.
        reason = f"The {register} could not be asked ({exc.__class__.__name__})."
    log.warning("register lookup failed", extra={"register": register, "reason": reason})
    raise RegisterUnavailable(reason)


def _unavailable(register: str, reason: str, status: int | None = None) -> RegisterUnavailable:
    extra: dict[str, Any] = {"register": register, "reason": reason}
    if status is not None:
        extra["http_status"] = status
    log.warning("register lookup failed", extra=extra)
    return RegisterUnavailable(reason)


# ---------------------------------------------------------------- CPR: Serviceplatformen SF1520

SF1520_NAME = "CPR register (Serviceplatformen SF1520)"
SF1520_NS = "http://serviceplatformen.dk/xml/wsdl/soap11/CPR/PersonBaseDataExtended/4/"
SF1520_SOAP_ACTION = SF1520_NS + "PersonLookup"
SF1520_DEFAULT_ENDPOINT = "https://prod.serviceplatformen.dk/service/CPR/PersonBaseDataExtended/4"
# From the service contract (sp/service.properties): the UUID of PersonBaseDataExtended 4.
SF1520_SERVICE_UUID = "e6be2436-bf35-4df2-83fe-925142825dc2"
_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_INVCTX_NS = "http://serviceplatformen.dk/xml/schemas/InvocationContext/1/"
_PNR_NS = "http://serviceplatformen.dk/xml/schemas/cpr/PNR/1/"
# foraeldremyndighedtype: 3 the mother, 4 the father (their numbers are in relationer/mor and /far),
# 5 and 6 other holders (their numbers in relationPersonnummer).
_CUSTODY_MOTHER, _CUSTODY_FATHER, _CUSTODY_OTHER = "3", "4", ("5", "6")
_STATUS_DEAD = "90"
# How the platform says "no such person" in its fault (os2mo checks the first, itk-dev the second).
_NOT_FOUND_MARKS = ("pnrnotfound", "pnr not found")


class Sf1520PersonRegister:
    """CPR look-ups through Serviceplatformen SF1520, PersonBaseDataExtended 4 / PersonLookup.

    `cert` is what `requests` takes: a PEM file with certificate and key, or a (cert, key) pair.
    The four UUIDs come from the service agreement with KOMBIT: the agreement, the calling
    system, the user (the authority) and the service.
    """

    def __init__(
        self,
        endpoint: str,
        cert: str | tuple[str, str] | None,
        *,
        service_agreement_uuid: str,
        user_system_uuid: str,
        user_uuid: str,
        service_uuid: str = SF1520_SERVICE_UUID,
        verify: bool | str = True,
        timeout: float = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ):
        self.endpoint = endpoint
        self.cert = cert
        self.verify = verify
        self.timeout = timeout
        self.context = {
            "ServiceAgreementUUID": service_agreement_uuid,
            "UserSystemUUID": user_system_uuid,
            "UserUUID": user_uuid,
            "ServiceUUID": service_uuid,
        }
        self.session = session or requests.Session()

    def request_body(self, cpr: str) -> bytes:
        """The SOAP 1.1 envelope for PersonLookup; PNR is the ten digits without the dash."""
        pnr = numbers.normalise_cpr(cpr).replace("-", "")
        # Element order of InvocationContextType: ServiceAgreementUUID, UserSystemUUID, UserUUID,
        # (OnBehalfOfUser), ServiceUUID, (CallersServiceCallIdentifier), (AccountingInfo).
        context = "".join(f"<invctx:{k}>{escape(v)}</invctx:{k}>" for k, v in self.context.items())
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" xmlns:ns="{SF1520_NS}"'
            f' xmlns:invctx="{_INVCTX_NS}" xmlns:pnr="{_PNR_NS}">'
            "<soapenv:Header/>"
            "<soapenv:Body>"
            "<ns:PersonLookupRequest>"
            f"<invctx:InvocationContext>{context}</invctx:InvocationContext>"
            f"<pnr:PNR>{pnr}</pnr:PNR>"
            "</ns:PersonLookupRequest>"
            "</soapenv:Body>"
            "</soapenv:Envelope>"
        ).encode("utf-8")

    def person(self, cpr: str) -> Person | None:
        normalised = numbers.normalise_cpr(cpr)
        response = _post(
            self.session,
            SF1520_NAME,
            self.endpoint,
            data=self.request_body(normalised),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{SF1520_SOAP_ACTION}"',
                "Accept": "text/xml",
            },
            cert=self.cert,
            verify=self.verify,
            timeout=self.timeout,
        )
        text = response.content.decode(response.encoding or "utf-8", errors="replace")
        if response.status_code != 200:
            # SOAP 1.1 faults come with 500; "no such person" is one of them.
            if response.status_code == 500 and any(mark in text.lower() for mark in _NOT_FOUND_MARKS):
                return None
            raise _unavailable(SF1520_NAME, self._status_reason(response.status_code), response.status_code)
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise _unavailable(SF1520_NAME, f"The {SF1520_NAME} answered with XML that cannot be read.") from None
        if _first(root, "Fault") is not None:
            if any(mark in text.lower() for mark in _NOT_FOUND_MARKS):
                return None
            raise _unavailable(SF1520_NAME, f"The {SF1520_NAME} answered with a fault.")
        answer = _first(root, "PersonLookupResponse")
        if answer is None:
            raise _unavailable(SF1520_NAME, f"The {SF1520_NAME} answered without a PersonLookupResponse.")
        return parse_person_lookup(answer, normalised)

    @staticmethod
    def _status_reason(status: int) -> str:
        if status in (401, 403):
            return (
                f"The {SF1520_NAME} refused the request (HTTP {status}): "
                "check the certificate and the service agreement."
            )
        return f"The {SF1520_NAME} answered with an error (HTTP {status})."


def parse_person_lookup(answer: ET.Element, asked_cpr: str, today: date | None = None) -> Person | None:
    """A Person from a PersonLookupResponse element (any namespace prefix), None without persondata."""
    today = today or date.today()
    data = _child(answer, "persondata")
    if data is None:
        return None
    cpr = _cpr_or_none(_text(data, "gaeldendePersonnummer")) or _cpr_or_none(_text(data, "personnummer")) or asked_cpr

    name_el = _child(data, "navn")
    name = " ".join(filter(None, (_text(name_el, t) for t in ("fornavn", "mellemnavn", "efternavn"))))
    if not name:
        # personadresseringsnavn may be "Efternavn,Fornavne"
        addressing = _text(name_el, "personadresseringsnavn") or ""
        last, comma, first = addressing.partition(",")
        name = f"{first.strip()} {last.strip()}".strip() if comma else addressing

    return Person(
        cpr=cpr,
        name=name,
        address=_cpr_address(_child(_child(answer, "adresse"), "aktuelAdresse")),
        birth_date=_date(_text(_child(data, "foedselsdato"), "dato")) or numbers.cpr_birth_date(cpr),
        custody_holders=_custody_holders(_child(answer, "relationer"), today),
        protected_address=_is_protected(_child(data, "adressebeskyttelse"), today),
        deceased=_text(_child(data, "status"), "status") == _STATUS_DEAD,
    )


def _cpr_address(element: ET.Element | None) -> Address | None:
    """An Address from CPR's aktuelAdresse: vejnavn husnummer, etage. sidedoer; None without one."""
    street = _text(element, "vejnavn") or _text(element, "vejadresseringsnavn")
    postal_code = _text(element, "postnummer")
    if street:
        number = (_text(element, "husnummer") or "").lstrip("0 ")  # CPR pads: "012B"
        line = f"{street} {number}".strip()
        line += _floor_and_door(_trim_number(_text(element, "etage")), _trim_number(_text(element, "sidedoer")))
    else:
        line = _text(element, "standardadresse") or ""
    if not line or not postal_code:
        return None
    return Address(
        street=line,
        postal_code=postal_code,
        city=_text(element, "postdistrikt") or "",
        co=_text(element, "conavn"),
        country="DK",
    )


def _custody_holders(relations: ET.Element | None, today: date) -> list[str]:
    if relations is None:
        return []
    mother = _cpr_or_none(_text(_child(relations, "mor"), "personnummer"))
    father = _cpr_or_none(_text(_child(relations, "far"), "personnummer"))
    holders: list[str] = []
    for custody in _children(relations, "foraeldremyndighed"):
        ended = _date(_text(custody, "foraeldremyndighedSletdato"))
        if ended is not None and ended <= today:
            continue
        kind = (_text(custody, "foraeldremyndighedtype") or "").strip()
        if kind not in (_CUSTODY_MOTHER, _CUSTODY_FATHER, *_CUSTODY_OTHER):
            continue
        holder = _cpr_or_none(_text(custody, "relationPersonnummer"))
        if holder is None:
            holder = {_CUSTODY_MOTHER: mother, _CUSTODY_FATHER: father}.get(kind)
        if holder is None:
            log.warning("custody relation without a usable CPR number", extra={"custody_type": kind})
            continue
        if holder not in holders:
            holders.append(holder)
    return holders


def _is_protected(element: ET.Element | None, today: date) -> bool:
    if element is None:
        return False
    flag = _text(element, "beskyttet")
    if flag is not None:
        return flag.strip().lower() in ("true", "1")
    start, end = _date(_text(element, "startdato")), _date(_text(element, "slutdato"))
    return start is not None and start <= today and (end is None or end > today)


# ---------------------------------------------------------------- CVR: the CVR distribution

CVR_NAME = "business register (CVR)"
CVR_DEFAULT_ENDPOINT = "http://distribution.virk.dk/cvr-permanent"
UNITS_LIMIT = 1000
_COMPANY_SOURCE = [
    "Vrvirksomhed.cvrNummer",
    "Vrvirksomhed.navne",
    "Vrvirksomhed.beliggenhedsadresse",
    "Vrvirksomhed.virksomhedMetadata.nyesteNavn",
    "Vrvirksomhed.virksomhedMetadata.nyesteBeliggenhedsadresse",
]
_UNIT_SOURCE = [
    "VrproduktionsEnhed.pNummer",
    "VrproduktionsEnhed.navne",
    "VrproduktionsEnhed.beliggenhedsadresse",
    "VrproduktionsEnhed.virksomhedsrelation",
    "VrproduktionsEnhed.livsforloeb",
    "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteNavn",
    "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteBeliggenhedsadresse",
    "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteCvrNummerRelation",
    "VrproduktionsEnhed.produktionsEnhedMetadata.sammensatStatus",
]


class CvrBusinessRegister:
    """Look-ups in Erhvervsstyrelsen's CVR distribution (Elasticsearch, basic auth, JSON)."""

    def __init__(
        self,
        endpoint: str = CVR_DEFAULT_ENDPOINT,
        username: str = "",
        password: str = "",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        units_limit: int = UNITS_LIMIT,
        session: requests.Session | None = None,
    ):
        self.endpoint = endpoint.rstrip("/")
        self.auth = (username, password)
        self.timeout = timeout
        self.units_limit = units_limit
        self.session = session or requests.Session()

    # -- the queries

    @staticmethod
    def unit_query(p_number: str) -> dict:
        return {
            "_source": _UNIT_SOURCE,
            "query": {"term": {"VrproduktionsEnhed.pNummer": int(numbers.normalise_p_number(p_number))}},
            "size": 1,
        }

    @staticmethod
    def company_query(cvr: str) -> dict:
        return {
            "_source": _COMPANY_SOURCE,
            "query": {"term": {"Vrvirksomhed.cvrNummer": int(numbers.normalise_cvr(cvr))}},
            "size": 1,
        }

    def units_query(self, cvr: str) -> dict:
        # The metadata's owner is the current one, and metadata is a plain object, not a nested
        # list, so a term query on it matches without a nested query.
        field = "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteCvrNummerRelation"
        return {
            "_source": _UNIT_SOURCE,
            "query": {"term": {field: int(numbers.normalise_cvr(cvr))}},
            "size": self.units_limit,
        }

    # -- the interface

    def production_unit(self, p_number: str) -> ProductionUnit | None:
        hits = self._search("produktionsenhed", self.unit_query(p_number))
        documents = [d for d in (h.get("VrproduktionsEnhed") for h in hits) if isinstance(d, dict)]
        return parse_production_unit(documents[0]) if documents else None

    def company(self, cvr: str) -> Company | None:
        hits = self._search("virksomhed", self.company_query(cvr))
        documents = [d for d in (h.get("Vrvirksomhed") for h in hits) if isinstance(d, dict)]
        return parse_company(documents[0]) if documents else None

    def units_of(self, cvr: str) -> list[ProductionUnit]:
        owner = numbers.normalise_cvr(cvr)
        hits = self._search("produktionsenhed", self.units_query(owner))
        units = []
        for hit in hits:
            document = hit.get("VrproduktionsEnhed")
            if not isinstance(document, dict) or not _unit_active(document):
                continue
            unit = parse_production_unit(document)
            if unit is not None and unit.cvr == owner:
                units.append(unit)
        if len(hits) >= self.units_limit:
            log.warning("production units cut off at the limit", extra={"cvr": owner, "limit": self.units_limit})
        return sorted(units, key=lambda u: u.p_number)

    def _search(self, index: str, query: dict) -> list[dict]:
        response = _post(
            self.session,
            CVR_NAME,
            f"{self.endpoint}/{index}/_search",
            data=json.dumps(query),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            auth=self.auth,
            timeout=self.timeout,
        )
        if response.status_code in (401, 403):
            raise _unavailable(
                CVR_NAME, f"The {CVR_NAME} refused the credentials (HTTP {response.status_code}).", response.status_code
            )
        if response.status_code != 200:
            raise _unavailable(
                CVR_NAME, f"The {CVR_NAME} answered with an error (HTTP {response.status_code}).", response.status_code
            )
        try:
            hits = response.json()["hits"]["hits"]
            return [hit["_source"] for hit in hits if isinstance(hit.get("_source"), dict)]
        except (ValueError, KeyError, TypeError):
            reason = f"The {CVR_NAME} answered with something that is not a search result."
            raise _unavailable(CVR_NAME, reason) from None


def parse_company(document: dict) -> Company | None:
    """A Company from a `Vrvirksomhed` document; None if it has no CVR number."""
    cvr = _cvr_or_none(document.get("cvrNummer"))
    if cvr is None:
        return None
    meta = document.get("virksomhedMetadata") or {}
    return Company(
        cvr=cvr,
        name=_latest_name(meta, document.get("navne")),
        address=_cvr_address((meta.get("nyesteBeliggenhedsadresse") or _current(document.get("beliggenhedsadresse")))),
    )


def parse_production_unit(document: dict) -> ProductionUnit | None:
    """A ProductionUnit from a `VrproduktionsEnhed` document; None if it has no P-number."""
    try:
        p_number = numbers.normalise_p_number(str(document.get("pNummer") or "").zfill(10))
    except numbers.NumberError:
        return None
    meta = document.get("produktionsEnhedMetadata") or {}
    owner = _cvr_or_none(meta.get("nyesteCvrNummerRelation"))
    if owner is None:
        relation = _current(document.get("virksomhedsrelation"))
        owner = _cvr_or_none((relation or {}).get("cvrNummer"))
    if owner is None:
        owner = _cvr_or_none(document.get("cvrNummer"))
    return ProductionUnit(
        p_number=p_number,
        name=_latest_name(meta, document.get("navne")),
        address=_cvr_address(meta.get("nyesteBeliggenhedsadresse") or _current(document.get("beliggenhedsadresse"))),
        cvr=owner,
    )


def _unit_active(document: dict) -> bool:
    status = ((document.get("produktionsEnhedMetadata") or {}).get("sammensatStatus") or "").strip().lower()
    if status:
        return status == "aktiv"
    lives = [p for p in document.get("livsforloeb") or [] if isinstance(p, dict)]
    return not lives or any(not (p.get("periode") or {}).get("gyldigTil") for p in lives)


def _latest_name(meta: dict, names: Any) -> str:
    newest = (meta.get("nyesteNavn") or {}).get("navn")
    if newest:
        return str(newest)
    current = _current(names)
    return str((current or {}).get("navn") or "")


def _current(periods: Any) -> dict | None:
    """From a list of values with `periode`: the open one (gyldigTil null), else the latest."""
    items = [p for p in periods or [] if isinstance(p, dict)]
    if not items:
        return None

    def key(item: dict) -> tuple:
        period = item.get("periode") or {}
        return (period.get("gyldigTil") is None, period.get("gyldigFra") or "", period.get("gyldigTil") or "")

    return max(items, key=key)


def _cvr_address(value: dict | None) -> Address | None:
    """An Address from a CVR `beliggenhedsadresse`: vejnavn husnummerFra[bogstavFra][-husnummerTil…]."""
    if not value:
        return None
    country = (value.get("landekode") or "DK").upper()
    street = (value.get("vejnavn") or "").strip()
    if street:
        number = _join(value.get("husnummerFra"), value.get("bogstavFra"))
        to = _join(value.get("husnummerTil"), value.get("bogstavTil"))
        if number and to:
            number = f"{number}-{to}"
        line = f"{street} {number}".strip() + _floor_and_door(
            _trim_number(str(value.get("etage") or "")), _trim_number(str(value.get("sidedoer") or ""))
        )
    elif value.get("postboks"):
        line = f"Postboks {value['postboks']}"
    else:
        line = " ".join(str(value.get("fritekst") or "").split())
    postal = value.get("postnummer")
    postal_code = "" if postal in (None, "") else str(postal)
    if country == "DK" and postal_code.isdigit():
        postal_code = postal_code.zfill(4)
    if not line and not postal_code:
        return None
    return Address(
        street=line,
        postal_code=postal_code,
        city=str(value.get("postdistrikt") or value.get("bynavn") or "").strip(),
        co=(str(value.get("conavn") or "").strip() or None),
        country=country,
    )


# ---------------------------------------------------------------- small helpers


def _floor_and_door(floor: str, door: str) -> str:
    """Danish style: ", 2. tv.", ", st. th.", ", 1. 12" (numbered doors get no dot)."""
    if not floor and not door:
        return ""
    parts = []
    if floor:
        parts.append(f"{floor}." if not floor.endswith(".") else floor)
    if door:
        parts.append(f"{door}." if door.isalpha() and not door.endswith(".") else door)
    return ", " + " ".join(parts)


def _trim_number(value: str | None) -> str:
    """ "02" -> "2", "0003" -> "3", "ST" -> "st"; empty stays empty."""
    value = (value or "").strip()
    return str(int(value)) if value.isdigit() else value.lower()


def _join(number: Any, letter: Any) -> str:
    return f"{number if number not in (None, '') else ''}{letter or ''}".strip()


def _cvr_or_none(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return numbers.normalise_cvr(str(value).zfill(8))
    except numbers.NumberError:
        return None


def _cpr_or_none(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return numbers.normalise_cpr(value.strip())
    except numbers.NumberError:
        return None


def _date(value: str | None) -> date | None:
    """xsd:date, possibly with a zone ("1990-01-01+01:00") or a time: the first ten characters."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    """The first direct child with this local name (namespaces ignored)."""
    children = _children(element, name)
    return children[0] if children else None


def _first(element: ET.Element | None, name: str) -> ET.Element | None:
    """The first element with this local name at any depth (namespaces ignored)."""
    if element is None:
        return None
    for found in element.iter():
        if found is not element and _local(found.tag) == name:
            return found
    return None


def _text(element: ET.Element | None, name: str) -> str | None:
    """Text of the direct child with this local name."""
    for child in _children(element, name):
        return (child.text or "").strip() or None
    return None


# ---------------------------------------------------------------- choosing by settings


def make_person_register(settings) -> PersonRegister:
    """The person register the settings choose: `person_register` = local | sf1520."""
    kind = (settings.person_register or "local").strip().lower()
    if kind == "local":
        return LocalPersonRegister(settings.registers_file or SHIPPED_FILE)
    if kind == "sf1520":
        _require(settings, "person_register=sf1520", (
            "sf1520_cert_file", "sf1520_service_agreement_uuid", "sf1520_user_system_uuid", "sf1520_user_uuid",
        ))
        cert_file, key_file = settings.sf1520_cert_file, settings.sf1520_key_file
        return Sf1520PersonRegister(
            settings.sf1520_endpoint or SF1520_DEFAULT_ENDPOINT,
            (cert_file, key_file) if key_file else cert_file,
            service_agreement_uuid=settings.sf1520_service_agreement_uuid,
            user_system_uuid=settings.sf1520_user_system_uuid,
            user_uuid=settings.sf1520_user_uuid,
            service_uuid=settings.sf1520_service_uuid or SF1520_SERVICE_UUID,
            verify=settings.sf1520_ca_file or True,
            timeout=settings.register_timeout_s,
        )
    raise ValueError(f"person_register must be 'local' or 'sf1520', not {kind!r}")


def make_business_register(settings) -> BusinessRegister:
    """The business register the settings choose: `business_register` = local | cvr."""
    kind = (settings.business_register or "local").strip().lower()
    if kind == "local":
        return LocalBusinessRegister(settings.registers_file or SHIPPED_FILE)
    if kind == "cvr":
        _require(settings, "business_register=cvr", ("cvr_username", "cvr_password"))
        return CvrBusinessRegister(
            settings.cvr_endpoint or CVR_DEFAULT_ENDPOINT,
            settings.cvr_username,
            settings.cvr_password,
            timeout=settings.register_timeout_s,
        )
    raise ValueError(f"business_register must be 'local' or 'cvr', not {kind!r}")


def _require(settings, choice: str, names: tuple[str, ...]) -> None:
    missing = [f"SAGSPOST_{name.upper()}" for name in names if not getattr(settings, name)]
    if missing:
        raise ValueError(f"{choice} needs {', '.join(missing)}")
