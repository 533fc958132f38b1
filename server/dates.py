"""Calendar arithmetic the domains share."""
from __future__ import annotations

from datetime import date


def add_years(day: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a year without it."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
