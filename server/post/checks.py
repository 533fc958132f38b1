"""Looking a recipient up before sending: who it is, whether Digital Post reaches them, guardians."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.contacts import numbers
from server.db import utcnow
from server.errors import Invalid, NotFound, Unavailable
from server.post.dispatches import Registers
from server.post.providers import DigitalPostProvider, RecipientState, TransientError


def check_recipient(
    session: Session, actor: Principal, registers: Registers, provider: DigitalPostProvider, kind: str, number: str
) -> dict:
    auth.require(actor, Right.POST_SEND)
    try:
        return _check(actor, registers, provider, kind, number)
    except TransientError:
        raise Unavailable("Digital Post cannot be reached right now; try again in a moment.") from None


def _check(actor: Principal, registers: Registers, provider: DigitalPostProvider, kind: str, number: str) -> dict:
    try:
        if kind == "cpr":
            return _person(actor, registers, provider, numbers.normalise_cpr(number))
        if kind == "cvr":
            return _company(registers, provider, numbers.normalise_cvr(number))
        return _unit(registers, provider, numbers.normalise_p_number(number))
    except numbers.NumberError as exc:
        raise Invalid.field("number", str(exc)) from None


def _person(actor: Principal, registers: Registers, provider, cpr: str) -> dict:
    person = registers.persons.person(cpr)
    state = provider.recipient_state("CPR", cpr.replace("-", ""))
    child = person is not None and person.is_child_on(utcnow().date())
    guardians = []
    for holder in person.custody_holders if child else []:
        found = registers.persons.person(holder)
        guardians.append({"name": found.name if found else "", "cpr": _shown(actor, holder)})
    return {
        "name": person.name if person else None,
        "address": _one_line(person.address) if person and not person.protected_address else None,
        "state": state.value,
        "channel": _channel(state),
        "is_child": child,
        "guardians": guardians,
    }


def _company(registers: Registers, provider, cvr: str) -> dict:
    company = registers.businesses.company(cvr)
    state = provider.recipient_state("CVR", cvr)
    return {"name": company.name if company else None, "address": _one_line(company.address) if company else None,
            "state": state.value, "channel": _channel(state), "is_child": False, "guardians": [], "cvr": cvr}


def _unit(registers: Registers, provider, p_number: str) -> dict:
    unit = registers.businesses.production_unit(p_number)
    if unit is None:
        raise NotFound("The P-number is not found in the business register.")
    state = provider.recipient_state("CVR", unit.cvr)
    return {"name": unit.name, "address": _one_line(unit.address), "state": state.value, "channel": _channel(state),
            "is_child": False, "guardians": [], "cvr": unit.cvr}


def _channel(state: RecipientState) -> str:
    return "digital" if state == RecipientState.REGISTERED else "print"


def _shown(actor: Principal, cpr: str) -> str:
    cpr = numbers.normalise_cpr(cpr)
    return cpr if actor.has(Right.CONTACTS_VIEW_CPR) else numbers.mask_cpr(cpr)


def _one_line(address) -> str | None:
    if address is None:
        return None
    return ", ".join(p for p in (address.co and f"c/o {address.co}", address.street,
                                 f"{address.postal_code or ''} {address.city or ''}".strip()) if p)
