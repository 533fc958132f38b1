"""Helpers every domain's routes share."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields


def blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    return Blueprint(name, __name__, url_prefix=f"/api{url_prefix}", description=description)


def page_window(pagination_parameters) -> tuple[int, int]:
    """(offset, limit) for a smorest pagination_parameters object."""
    return pagination_parameters.first_item, pagination_parameters.page_size


def paged(pagination_parameters, result: tuple[list, int]) -> list:
    items, total = result
    pagination_parameters.item_count = total
    return items


class ErrorSchema(Schema):
    code = fields.Int()
    status = fields.Str()
    message = fields.Str()
    errors = fields.Dict()
