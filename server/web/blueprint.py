"""The web blueprint and what its page modules share: the caller, paging, ids from forms."""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request, url_for
from flask_babel import get_locale

from server.auth import current
from server.auth import services as auth
from server.auth.principal import Principal
from server.auth.rights import Right
from server.errors import Invalid

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")

# Rights that open a page under Administration; the menu shows it to holders of any of them.
ADMIN_RIGHTS = (Right.USERS_MANAGE, Right.RIGHTS_MANAGE, Right.JOURNAL_PLAN_MANAGE, Right.CASE_TEMPLATES_MANAGE,
                Right.LISTS_MANAGE, Right.TRASH_MANAGE, Right.POST_MANAGE, Right.DOCUMENT_TEMPLATES_MANAGE,
                Right.AUDIT_READ)
POST_RIGHTS = (Right.POST_SEND, Right.POST_APPROVE, Right.POST_MANAGE)


def actor() -> Principal:
    """The signed-in user; without one the page's error handler sends the browser to sign in."""
    return current.actor()


def blobs():
    return current_app.extensions["sagspost.blobs"]


def max_upload_bytes() -> int:
    return current_app.config["SAGSPOST"].max_upload_mb * 1024 * 1024


def an_id(value: str | None, field: str, *, required: bool = False) -> uuid.UUID | None:
    """A UUID from a form or query field; empty means none (or, when required, is refused)."""
    if not value:
        if required:
            raise Invalid.field(field, "Choose one.")
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid.field(field, "Not a valid id.") from None


def uploaded(field: str = "file", *, many: bool = False):
    """The file (or, with many, the files) chosen in a form's file field; none chosen is refused."""
    files = [f for f in request.files.getlist(field) if f.filename]
    if not files:
        raise Invalid.field(field, "Choose or drop at least one file." if many else "Choose a file.")
    return files if many else files[0]


def a_date(value: str | None, field: str) -> date | None:
    """A date from a form or query field (YYYY-MM-DD, as <input type=date> sends it); empty means none."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid.field(field, "A date is written YYYY-MM-DD.") from None


def user_or_group(value: str | None) -> dict:
    """{"user_id": …} or {"group_id": …} from a choice written "user:<id>" or "group:<id>"."""
    kind, _sep, raw = (value or "").partition(":")
    if kind not in ("user", "group"):
        raise Invalid.field("subject", "Choose a user or a group.")
    return {f"{kind}_id": an_id(raw, "subject", required=True)}


def users_and_groups(session) -> dict:
    """The active users and all groups, to choose from."""
    users, _users = auth.list_users(session, auth.UserFilter(active=True), offset=0, limit=1000)
    groups, _groups = auth.list_groups(session, None, offset=0, limit=1000)
    return {"users": users, "groups": groups}


def ids(values: list[str], field: str) -> list[uuid.UUID]:
    return [an_id(v, field) for v in values if v]


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def local_url(target: str | None) -> str | None:
    """`target` if it is a path on this site (a ?next= or a Referer), else None: no open redirects."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if f"{parts.scheme}://{parts.netloc}/" != request.host_url:
            return None
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    return target if target.startswith("/") and not target.startswith("//") else None


def back(default: str = "web.dashboard") -> str:
    return local_url(request.form.get("next")) or local_url(request.referrer) or url_for(default)


@dataclass(frozen=True)
class Pager:
    page: int
    size: int
    total: int

    @classmethod
    def from_request(cls, size: int = 25) -> "Pager":
        return cls(max(1, request.args.get("page", 1, type=int)), size, 0)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def counted(self, total: int) -> "Pager":
        return Pager(self.page, self.size, total)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def has(principal: Principal | None, *rights: Right) -> bool:
    return principal is not None and any(principal.has(r) for r in rights)


@bp.app_template_global()
def page_url(page: int) -> str:
    """The current page's URL with another page number, keeping every filter."""
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return url_for(request.endpoint, **request.view_args, **args)


@bp.app_template_global()
def csrf_token() -> str | None:
    """The session's CSRF token, for every form that posts (a global, so imported macros see it too)."""
    return current.csrf_token()


@bp.context_processor
def _page_globals():
    principal = current.optional_actor()
    return {
        "me": principal,
        "can": lambda right: has(principal, Right(right)),
        "can_admin": has(principal, *ADMIN_RIGHTS),
        "can_post": has(principal, *POST_RIGHTS),
        "lang": str(get_locale()),
    }
