"""Search: one box everywhere, results with highlighted words and facets, advanced filters, saved searches."""
from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for

from server.admin import services as lists
from server.admin.models import FieldEntity
from server.db import get_session
from server.search import services as search
from server.web.blueprint import Pager, a_date, actor, an_id, bp

PAGE = 20
# a facet's value becomes this query argument when it is clicked
FACET_ARGS = {"type": "types", "document_type": "document_type_id", "case": "case_id", "journal_key": "journal_key_id",
              "year": "year"}


def query_from_args(args, pager: Pager) -> search.SearchQuery:
    year = args.get("year", type=int)
    return search.SearchQuery(
        q=args.get("q", ""), types=args.getlist("types"),
        case_id=an_id(args.get("case_id"), "case_id"),
        document_type_id=an_id(args.get("document_type_id"), "document_type_id"),
        journal_key_id=an_id(args.get("journal_key_id"), "journal_key_id"),
        date_from=date(year, 1, 1) if year else a_date(args.get("date_from"), "date_from"),
        date_to=date(year, 12, 31) if year else a_date(args.get("date_to"), "date_to"),
        fields=args.getlist("fields"), sort=args.get("sort") or None, custom_fields=_field_filters(args),
        offset=pager.offset, limit=pager.size,
    )


# the advanced form's custom field filter: its field (cf), and a value or a range
_FIELD_ARGS = {"value": "cf_value", "from": "cf_from", "to": "cf_to"}


def _field_filters(args) -> list[dict]:
    wanted = {name: args.get(arg, "").strip() for name, arg in _FIELD_ARGS.items()}
    wanted = {name: value for name, value in wanted.items() if value}
    if not args.get("cf") or not wanted:
        return []
    return [{"field_id": an_id(args["cf"], "cf"), **wanted}]


def _field_args(filters: list[dict]) -> dict:
    """A saved search's first custom field filter as the advanced form's arguments."""
    if not filters:
        return {}
    first = filters[0]
    return {"cf": first["field_id"], **{arg: first[name] for name, arg in _FIELD_ARGS.items() if name in first}}


@bp.get("/search")
def search_page():
    session, me = get_session(), actor()
    pager = Pager.from_request(size=PAGE)
    query = query_from_args(request.args, pager)
    result = search.search(session, me, query)
    return render_template("search.html", query=query, result=result, pager=pager.counted(result.total),
                           saved=search.list_saved(session, me), facet_url=facet_url, remove_url=remove_url,
                           advanced=request.args.get("advanced") == "1", search_fields=_search_fields(session))


def _search_fields(session) -> list:
    return lists.list_fields(session, FieldEntity.CASE) + lists.list_fields(session, FieldEntity.DOCUMENT)


def facet_url(facet: str, value) -> str:
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    args[FACET_ARGS[facet]] = [str(value)]
    return url_for("web.search_page") + "?" + urlencode(args, doseq=True)


def remove_url(name: str) -> str:
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    args.pop(name, None)
    return url_for("web.search_page") + "?" + urlencode(args, doseq=True)


@bp.post("/search/saved")
def search_save():
    session, me = get_session(), actor()
    saved = search.save_search(session, me, request.form.get("name", ""), query_from_args(request.form, Pager(1, PAGE, 0)))
    return redirect(url_for("web.search_saved", saved_id=saved.id))


@bp.get("/search/saved/<uuid:saved_id>")
def search_saved(saved_id: uuid.UUID):
    stored = search.get_saved(get_session(), actor(), saved_id).query
    args = {k: v for k, v in stored.items() if v not in (None, "", []) and k != "custom_fields"}
    args.update(_field_args(stored.get("custom_fields", [])))
    return redirect(url_for("web.search_page") + "?" + urlencode(args, doseq=True))


@bp.post("/search/saved/<uuid:saved_id>/delete")
def search_saved_delete(saved_id: uuid.UUID):
    search.delete_saved(get_session(), actor(), saved_id)
    return redirect(url_for("web.search_page"))
