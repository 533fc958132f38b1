"""Background work of document generation: rendering a validated mail merge."""
from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy.orm import Session

from server.auth import services as auth
from server.generation import merge, services
from server.generation.models import Merge
from server.jobs.services import handler


@handler("generation.render_merge")
def render_merge(session: Session, payload: dict) -> None:
    found = session.get(Merge, uuid.UUID(payload["merge_id"]))
    if found is None:
        return
    creator = auth.principal_for(auth.get_user(session, found.created_by_id))
    merge.render(session, current_app.extensions["sagspost.blobs"], found.id,
                 context_base=services.base_context(session, creator),
                 parallel=current_app.config["SAGSPOST"].merge_parallel)
