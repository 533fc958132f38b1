"""CPR, CVR and P-number validation: pure functions, no database."""
from datetime import date

import pytest

from server.contacts import numbers
from server.contacts.numbers import NumberError, Sex


def fails_cpr_modulus_11(cpr: str) -> bool:
    digits = cpr.replace("-", "")
    return sum(int(d) * w for d, w in zip(digits, (4, 3, 2, 7, 6, 5, 4, 3, 2, 1))) % 11 != 0


def cvr_with_check_digit(first_seven: str) -> str:
    """Complete seven digits to a CVR number by the modulus-11 rule (None if no digit fits)."""
    for last in "0123456789":
        candidate = first_seven + last
        if sum(int(d) * w for d, w in zip(candidate, (2, 7, 6, 5, 4, 3, 2, 1))) % 11 == 0:
            return candidate
    return None


# ---------------------------------------------------------------- CPR


@pytest.mark.parametrize(
    "given, normalised, born",
    [
        ("010190-1234", "010190-1234", date(1990, 1, 1)),
        ("0101901234", "010190-1234", date(1990, 1, 1)),  # without the dash
        (" 010190-1234 ", "010190-1234", date(1990, 1, 1)),
        ("241236-3998", "241236-3998", date(1936, 12, 24)),  # 7th digit 0-3: always the 1900s
        ("010107-4006", "010107-4006", date(2007, 1, 1)),  # 7th digit 4, YY <= 36: 2000s
        ("010137-4006", "010137-4006", date(1937, 1, 1)),  # 7th digit 4, YY > 36: 1900s
        ("311236-9001", "311236-9001", date(2036, 12, 31)),  # 7th digit 9, YY <= 36: 2000s
        ("010199-9001", "010199-9001", date(1999, 1, 1)),  # 7th digit 9, YY > 36: 1900s
        ("010158-5001", "010158-5001", date(1858, 1, 1)),  # 7th digit 5-8, YY > 57: 1800s
        ("010158-8001", "010158-8001", date(1858, 1, 1)),
        ("010157-6001", "010157-6001", date(2057, 1, 1)),  # 7th digit 5-8, YY <= 57: 2000s
        ("290200-4001", "290200-4001", date(2000, 2, 29)),  # a leap day in 2000
        ("290296-1001", "290296-1001", date(1996, 2, 29)),
    ],
)
def test_valid_cpr_numbers_are_normalised_with_their_birth_date(given, normalised, born):
    assert numbers.normalise_cpr(given) == normalised
    assert numbers.cpr_birth_date(given) == born


def test_a_number_failing_modulus_11_is_accepted():
    # Numbers without the check have been issued since 2007; rejecting them locks people out.
    assert fails_cpr_modulus_11("010107-4006")
    assert numbers.normalise_cpr("010107-4006") == "010107-4006"


@pytest.mark.parametrize(
    "given, message",
    [
        ("310290-1234", "CPR number has no valid date: 31 February 1990"),
        ("300290-1234", "CPR number has no valid date: 30 February 1990"),
        ("290290-1234", "CPR number has no valid date: 29 February 1990"),
        ("290200-1234", "CPR number has no valid date: 29 February 1900"),  # 7th digit 1: 1900, no leap day
        ("310490-1234", "CPR number has no valid date: 31 April 1990"),
        ("000190-1234", "CPR number has no valid date: 0 January 1990"),
        ("011390-1234", "CPR number has no valid date: there is no month 13"),
        ("010090-1234", "CPR number has no valid date: there is no month 0"),
        ("01019-1234", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("010190-12345", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("010190123", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("01019A-1234", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("010190 1234", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("010190--1234", "CPR number must be 10 digits as DDMMYY-SSSS"),
        ("٠١٠١٩٠-١٢٣٤", "CPR number must be 10 digits as DDMMYY-SSSS"),  # Arabic-Indic digits
        ("", "CPR number must be 10 digits as DDMMYY-SSSS"),
    ],
)
def test_invalid_cpr_numbers_say_what_is_wrong_without_the_number(given, message):
    with pytest.raises(NumberError) as err:
        numbers.normalise_cpr(given)
    assert str(err.value) == message
    digits = given.replace("-", "").strip()
    if digits:
        assert digits not in str(err.value) and given.strip() not in str(err.value)


def test_sex_follows_the_last_digit():
    assert numbers.cpr_sex("010190-1231") is Sex.MALE
    assert numbers.cpr_sex("0101901239") is Sex.MALE
    assert numbers.cpr_sex("010190-1234") is Sex.FEMALE
    assert numbers.cpr_sex("010190-1230") is Sex.FEMALE


def test_age_counts_whole_years():
    born = date(2010, 6, 15)
    assert numbers.age_on(born, date(2025, 6, 14)) == 14
    assert numbers.age_on(born, date(2025, 6, 15)) == 15
    assert numbers.age_on(born, date(2010, 6, 15)) == 0


def test_age_of_a_leap_day_child_rises_on_1_march():
    born = date(2008, 2, 29)
    assert numbers.age_on(born, date(2023, 2, 28)) == 14
    assert numbers.age_on(born, date(2023, 3, 1)) == 15
    assert numbers.age_on(born, date(2024, 2, 29)) == 16


def test_age_from_a_cpr_number_uses_the_century():
    # 7th digit 4 and YY 10: born 2010, a child under 15 in 2024
    assert numbers.cpr_age_on("150610-4001", date(2024, 6, 1)) == 13
    # the same DDMMYY with 7th digit 0: born 1910
    assert numbers.cpr_age_on("150610-0001", date(2024, 6, 1)) == 113


def test_mask_keeps_only_the_date_part():
    assert numbers.mask_cpr("010190-1234") == "010190-xxxx"
    assert numbers.mask_cpr("0101901234") == "010190-xxxx"
    assert numbers.mask_cpr(None) is None


# ---------------------------------------------------------------- CVR and P-number


@pytest.mark.parametrize("cvr", ["25313763", "10403782", "25 31 37 63"])
def test_valid_cvr_numbers_pass(cvr):
    assert numbers.normalise_cvr(cvr) == cvr.replace(" ", "")


def test_a_computed_cvr_number_passes():
    cvr = cvr_with_check_digit("3012346")
    assert cvr is not None
    assert numbers.normalise_cvr(cvr) == cvr


@pytest.mark.parametrize(
    "cvr, message",
    [
        ("25313764", "CVR number fails the modulus-11 check"),
        ("25313736", "CVR number fails the modulus-11 check"),  # two digits swapped
        ("2531376", "CVR number must be 8 digits"),
        ("253137630", "CVR number must be 8 digits"),
        ("2531376A", "CVR number must be 8 digits"),
        ("", "CVR number must be 8 digits"),
    ],
)
def test_invalid_cvr_numbers_say_what_is_wrong(cvr, message):
    with pytest.raises(NumberError, match=f"^{message}$"):
        numbers.normalise_cvr(cvr)


def test_a_cvr_number_cannot_start_with_0_even_when_its_check_adds_up():
    cvr = cvr_with_check_digit("0123456")
    assert cvr is not None and cvr.startswith("0")
    with pytest.raises(NumberError, match="^CVR number cannot start with 0$"):
        numbers.normalise_cvr(cvr)


def test_p_numbers_are_exactly_ten_digits():
    assert numbers.normalise_p_number("1003388394") == "1003388394"
    assert numbers.normalise_p_number("10 0338 8394") == "1003388394"
    for bad in ("100338839", "10033883940", "100338839X", ""):
        with pytest.raises(NumberError, match="^P-number must be exactly 10 digits$"):
            numbers.normalise_p_number(bad)
