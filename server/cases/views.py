"""The shapes a case is shown in, with the names of what it refers to resolved."""
from __future__ import annotations

from sqlalchemy.orm import Session

from server.auth import services as auth
from server.auth.principal import Principal
from server.cases import journal, services, templates
from server.cases.models import Case


def case_detail(session: Session, actor: Principal, case: Case) -> dict:
    key = journal.get_key(session, case.journal_key_id) if case.journal_key_id else None
    group = auth.get_group(session, case.owner_group_id) if case.owner_group_id else None
    return {
        "id": case.id,
        "number": case.number,
        "title": case.title,
        "description": case.description,
        "status": case.status,
        "access": case.access,
        "template_id": case.template_id,
        "template": templates.get_template(session, case.template_id).name,
        "journal_key_id": case.journal_key_id,
        "journal_key": journal.key_label(key) or None,
        "owner_user_id": case.owner_user_id,
        "owner_user": auth.display_name(session, case.owner_user_id) if case.owner_user_id else None,
        "owner_group_id": case.owner_group_id,
        "owner_group": group.name if group else None,
        "created_by_id": case.created_by_id,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "closed_at": case.closed_at,
        "tags": sorted(t.tag for t in case.tags),
        "custom_fields": services.field_values(session, case),
        "folders": case.folders,
        "my_access": services.my_level(session, actor, case).name.lower(),
    }
