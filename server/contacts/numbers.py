"""Danish identification numbers: CPR (persons), CVR and P-number (organisations).

Pure functions, no database. Every error message says what is wrong without repeating the number,
because messages end up in HTTP answers and logs, and a CPR number must never reach either.
"""
from __future__ import annotations

import enum
import re
from datetime import date

# ASCII: \d would otherwise accept digits of other scripts, which int() converts silently.
_CPR_FORM = re.compile(r"(\d{6})-?(\d{4})", re.ASCII)
_CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


class NumberError(ValueError):
    """A number that is not valid; str(error) is safe to show and to log."""


class Sex(str, enum.Enum):
    MALE = "male"
    FEMALE = "female"


# ---------------------------------------------------------------- CPR


def normalise_cpr(text: str) -> str:
    """The CPR number as DDMMYY-SSSS; accepts DDMMYY-SSSS and DDMMYYSSSS, checks the date.

    The modulus-11 check is deliberately not made: since 2007 numbers are issued that fail it.
    """
    match = _CPR_FORM.fullmatch((text or "").strip())
    if match is None:
        raise NumberError("CPR number must be 10 digits as DDMMYY-SSSS")
    normalised = f"{match.group(1)}-{match.group(2)}"
    cpr_birth_date(normalised)  # raises when the date does not exist
    return normalised


def cpr_birth_date(cpr: str) -> date:
    """The birth date of a CPR number (either form); the century comes from the 7th digit."""
    digits = _cpr_digits(cpr)
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    year = _cpr_century(yy, int(digits[6])) + yy
    if not 1 <= month <= 12:
        raise NumberError(f"CPR number has no valid date: there is no month {month}")
    try:
        return date(year, month, day)
    except ValueError:
        raise NumberError(f"CPR number has no valid date: {day} {_MONTHS[month - 1]} {year}") from None


def _cpr_century(yy: int, seventh: int) -> int:
    # The official table (CPR-kontoret): the 7th digit together with the year gives the century.
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def cpr_sex(cpr: str) -> Sex:
    """Odd last digit: male; even: female."""
    return Sex.MALE if int(_cpr_digits(cpr)[9]) % 2 else Sex.FEMALE


def cpr_age_on(cpr: str, on: date) -> int:
    return age_on(cpr_birth_date(cpr), on)


def age_on(born: date, on: date) -> int:
    """Whole years of age on a day (a person born 29 February turns a year older on 1 March)."""
    had_birthday = (on.month, on.day) >= (born.month, born.day)
    return on.year - born.year - (0 if had_birthday else 1)


def mask_cpr(cpr: str | None) -> str | None:
    """DDMMYY-xxxx: the form shown to users without the right to see CPR numbers, and audited."""
    if not cpr:
        return None
    return f"{_cpr_digits(cpr)[:6]}-xxxx"


def _cpr_digits(cpr: str) -> str:
    match = _CPR_FORM.fullmatch((cpr or "").strip())
    if match is None:
        raise NumberError("CPR number must be 10 digits as DDMMYY-SSSS")
    return match.group(1) + match.group(2)


# ---------------------------------------------------------------- CVR and P-number


def normalise_cvr(text: str) -> str:
    """Eight digits, not starting with 0, passing the modulus-11 check; spaces are dropped."""
    digits = _without_spaces(text)
    if not re.fullmatch(r"\d{8}", digits, re.ASCII):
        raise NumberError("CVR number must be 8 digits")
    if digits[0] == "0":
        raise NumberError("CVR number cannot start with 0")
    if sum(int(d) * w for d, w in zip(digits, _CVR_WEIGHTS)) % 11:
        raise NumberError("CVR number fails the modulus-11 check")
    return digits


def normalise_p_number(text: str) -> str:
    """Exactly ten digits; spaces are dropped. P-numbers carry no check digit."""
    digits = _without_spaces(text)
    if not re.fullmatch(r"\d{10}", digits, re.ASCII):
        raise NumberError("P-number must be exactly 10 digits")
    return digits


def _without_spaces(text: str) -> str:
    # CVR and P-numbers are often written in groups ("25 31 37 63").
    return re.sub(r"\s+", "", text or "")
