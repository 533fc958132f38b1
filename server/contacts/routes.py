from __future__ import annotations

import uuid

from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.auth import current
from server.contacts import schemas as s
from server.contacts import services
from server.db import get_session

blp = blueprint("contacts", "", "Persons (CPR) and organisations (CVR, P-number)")


def _listed(pagination_parameters, actor, flt: services.ContactFilter) -> list[dict]:
    offset, limit = page_window(pagination_parameters)
    items, total = services.list_contacts(get_session(), actor, flt, offset=offset, limit=limit)
    return paged(pagination_parameters, ([services.contact_details(c, actor) for c in items], total))


@blp.route("/contacts")
class Contacts(MethodView):
    @blp.arguments(s.ContactQuerySchema, location="query")
    @blp.response(200, s.ContactSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List contacts (search by CPR number with POST /contacts/search)"""
        return _listed(pagination_parameters, current.actor(), services.ContactFilter(**query))

    @blp.arguments(s.ContactCreateSchema)
    @blp.response(201, s.ContactSchema)
    def post(self, body):
        """Create a person or an organisation (contacts.create)"""
        actor = current.actor()
        kind = body.pop("kind")
        return services.contact_details(services.create_contact(get_session(), actor, kind, body), actor)


@blp.route("/contacts/search")
class ContactSearch(MethodView):
    @blp.arguments(s.ContactSearchSchema)
    @blp.response(200, s.ContactSchema(many=True))
    @blp.paginate()
    def post(self, body, pagination_parameters):
        """Search contacts, also by full CPR number, which is why the criteria are in the body"""
        return _listed(pagination_parameters, current.actor(), services.ContactFilter(**body))


@blp.route("/contacts/<uuid:contact_id>")
class ContactById(MethodView):
    @blp.response(200, s.ContactSchema)
    def get(self, contact_id: uuid.UUID):
        """One contact"""
        actor = current.actor()
        return services.contact_details(services.get_contact(get_session(), actor, contact_id), actor)

    @blp.arguments(s.ContactUpdateSchema)
    @blp.response(200, s.ContactSchema)
    def patch(self, body, contact_id: uuid.UUID):
        """Change a contact (contacts.edit); null or an empty string clears a field"""
        actor = current.actor()
        return services.contact_details(services.update_contact(get_session(), actor, contact_id, body), actor)
