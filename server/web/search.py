"""Search: one box everywhere, results with highlighted words and facets, advanced filters, saved searches."""
from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlencode

from flask import redirect, render_template, request, url_for

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
        fields=args.getlist("fields"), sort=args.get("sort") or None, offset=pager.offset, limit=pager.size,
    )


@bp.get("/search")
def search_page():
    session, me = get_session(), actor()
    pager = Pager.from_request(size=PAGE)
    query = query_from_args(request.args, pager)
    result = search.search(session, me, query)
    return render_template("search.html", query=query, result=result, pager=pager.counted(result.total),
                           saved=search.list_saved(session, me), facet_url=facet_url, remove_url=remove_url,
                           advanced=request.args.get("advanced") == "1")


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
    args = {k: v for k, v in stored.items() if v not in (None, "", [])}
    return redirect(url_for("web.search_page") + "?" + urlencode(args, doseq=True))


@bp.post("/search/saved/<uuid:saved_id>/delete")
def search_saved_delete(saved_id: uuid.UUID):
    search.delete_saved(get_session(), actor(), saved_id)
    return redirect(url_for("web.search_page"))
