import uuid

from flask.views import MethodView

from server.admin import schemas as s
from server.admin import services
from server.admin.models import DocumentType, NoteCategory, PartyRole
from server.api import blueprint
from server.auth import current
from server.db import get_session

blp = blueprint("admin", "", "Administrable lists and settings: party roles, note categories, custom fields, document types, file types")


@blp.route("/party-roles")
class PartyRoles(MethodView):
    @blp.arguments(s.ListQuerySchema, location="query")
    @blp.response(200, s.PartyRoleSchema(many=True))
    def get(self, query):
        """Party roles (partsroller)"""
        current.actor()
        return services.list_named(get_session(), PartyRole, query["include_inactive"])

    @blp.arguments(s.PartyRoleSchema)
    @blp.response(201, s.PartyRoleSchema)
    def post(self, body):
        """Create a party role (lists.manage)"""
        return services.create_named(get_session(), current.actor(), PartyRole, body)


@blp.route("/party-roles/<uuid:item_id>")
class PartyRoleById(MethodView):
    @blp.arguments(s.PartyRoleUpdateSchema)
    @blp.response(200, s.PartyRoleSchema)
    def patch(self, body, item_id: uuid.UUID):
        """Rename, describe or deactivate a party role (lists.manage)"""
        return services.update_named(get_session(), current.actor(), PartyRole, item_id, body)


@blp.route("/note-categories")
class NoteCategories(MethodView):
    @blp.arguments(s.ListQuerySchema, location="query")
    @blp.response(200, s.NamedItemSchema(many=True))
    def get(self, query):
        """Note categories"""
        current.actor()
        return services.list_named(get_session(), NoteCategory, query["include_inactive"])

    @blp.arguments(s.NamedItemSchema)
    @blp.response(201, s.NamedItemSchema)
    def post(self, body):
        """Create a note category (lists.manage)"""
        return services.create_named(get_session(), current.actor(), NoteCategory, body)


@blp.route("/note-categories/<uuid:item_id>")
class NoteCategoryById(MethodView):
    @blp.arguments(s.NamedItemUpdateSchema)
    @blp.response(200, s.NamedItemSchema)
    def patch(self, body, item_id: uuid.UUID):
        """Rename or deactivate a note category (lists.manage)"""
        return services.update_named(get_session(), current.actor(), NoteCategory, item_id, body)


@blp.route("/custom-fields")
class CustomFields(MethodView):
    @blp.arguments(s.CustomFieldQuerySchema, location="query")
    @blp.response(200, s.CustomFieldSchema(many=True))
    def get(self, query):
        """Custom field definitions (konfigurerbare felter)"""
        current.actor()
        return services.list_fields(get_session(), query.get("entity"), query["include_inactive"])

    @blp.arguments(s.CustomFieldSchema)
    @blp.response(201, s.CustomFieldSchema)
    def post(self, body):
        """Define a custom field (lists.manage)"""
        return services.create_field(get_session(), current.actor(), body)


@blp.route("/custom-fields/<uuid:field_id>")
class CustomFieldById(MethodView):
    @blp.arguments(s.CustomFieldUpdateSchema)
    @blp.response(200, s.CustomFieldSchema)
    def patch(self, body, field_id: uuid.UUID):
        """Change a custom field's label, choices or state (lists.manage); its key and type are fixed"""
        return services.update_field(get_session(), current.actor(), field_id, body)


@blp.route("/document-types")
class DocumentTypes(MethodView):
    @blp.arguments(s.ListQuerySchema, location="query")
    @blp.response(200, s.DocumentTypeSchema(many=True))
    def get(self, query):
        """Document types (dokumenttyper)"""
        current.actor()
        return services.list_named(get_session(), DocumentType, query["include_inactive"])

    @blp.arguments(s.DocumentTypeSchema)
    @blp.response(201, s.DocumentTypeSchema)
    def post(self, body):
        """Create a document type (lists.manage)"""
        return services.create_named(get_session(), current.actor(), DocumentType, body)


@blp.route("/document-types/<uuid:item_id>")
class DocumentTypeById(MethodView):
    @blp.arguments(s.DocumentTypeUpdateSchema)
    @blp.response(200, s.DocumentTypeSchema)
    def patch(self, body, item_id: uuid.UUID):
        """Rename, retire or change the retention of a document type (lists.manage)"""
        return services.update_named(get_session(), current.actor(), DocumentType, item_id, body)


@blp.route("/file-types")
class FileTypes(MethodView):
    @blp.response(200, s.FileTypeRuleSchema(many=True))
    def get(self):
        """Allowed and refused file types (by content type found in the file)"""
        current.actor()
        return services.list_file_rules(get_session())

    @blp.arguments(s.FileTypeRuleSchema)
    @blp.response(200, s.FileTypeRuleSchema)
    def put(self, body):
        """Allow or refuse a file type (lists.manage)"""
        return services.set_file_rule(get_session(), current.actor(), body["mime"], allowed=body["allowed"], label=body["label"])


@blp.route("/file-types/<uuid:rule_id>")
class FileTypeById(MethodView):
    @blp.response(204)
    def delete(self, rule_id: uuid.UUID):
        """Remove a file type rule (lists.manage)"""
        services.delete_file_rule(get_session(), current.actor(), rule_id)


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, s.SettingSchema(many=True))
    def get(self):
        """Administrable settings with their values and defaults"""
        current.actor()
        return services.all_settings(get_session())


@blp.route("/settings/<key>")
class SettingByKey(MethodView):
    @blp.arguments(s.SettingSchema)
    @blp.response(200, s.SettingSchema(many=True))
    def put(self, body, key: str):
        """Change a setting (lists.manage)"""
        services.set_setting(get_session(), current.actor(), key, body["value"])
        return services.all_settings(get_session())
