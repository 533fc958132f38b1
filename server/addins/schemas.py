from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate



class PaneConfigSchema(Schema):
    office_js = fields.Str(metadata={"description": "Where the pane loads Office.js from"})
    msal_js = fields.Str(metadata={"description": "Where the pane loads MSAL.js from"})
    entra_client_id = fields.Str(allow_none=True, metadata={"description": "Empty: no Microsoft sign-in, use the dialog"})
    entra_scope = fields.Str(allow_none=True, metadata={"description": "The API scope the pane asks Entra for"})
    entra_authority = fields.Str()


class SignInSchema(Schema):
    username = fields.Str(required=True)
    password = fields.Str(required=True, load_only=True)


class EntraSignInSchema(Schema):
    token = fields.Str(required=True, load_only=True, metadata={"description": "The Entra access token for the Sagspost API"})


class PaneTokenSchema(Schema):
    token = fields.Str(metadata={"description": "A personal API token for the pane: send as 'Authorization: Bearer …'"})
    expires_at = fields.DateTime()
    user_id = fields.UUID()
    name = fields.Str()


class SuggestionQuerySchema(Schema):
    sender = fields.Email(load_default=None)
    conversation_id = fields.Str(load_default=None, validate=validate.Length(max=500))
    message_id = fields.Str(load_default=None, validate=validate.Length(max=500))
    limit = fields.Int(load_default=10, validate=validate.Range(min=1, max=50))


class SuggestionSchema(Schema):
    # already in the case list's shape (suggest_cases is shared with the Google add-on, which has no schemas)
    case = fields.Dict(metadata={"description": "The case, as in GET /api/cases"})
    reasons = fields.List(fields.Str(), metadata={"description": "message_archived, same_conversation, sender_is_party, recent"})


class ArchivedQuerySchema(Schema):
    message_id = fields.Str(required=True, validate=validate.Length(min=1, max=500))


class LocationSchema(Schema):
    case_id = fields.UUID()
    case_number = fields.Str()
    case_title = fields.Str()
    document_id = fields.UUID()
    archived_at = fields.DateTime()


class MessageArchiveFormSchema(Schema):
    case_id = fields.UUID(required=True)
    conversation_id = fields.Str(load_default=None, validate=validate.Length(max=500))
    document_type_id = fields.UUID(load_default=None)
    folder_id = fields.UUID(load_default=None)
    final = fields.Bool(load_default=False)
    keep_attachments = fields.List(fields.Str(), load_default=None,
                                   metadata={"description": "Attachment filenames to keep; left out keeps all"})
    item_id = fields.Str(load_default=None, metadata={"description": "Graph (REST) id of the message when no file is sent"})
    sso_token = fields.Str(load_default=None, load_only=True,
                           metadata={"description": "The pane's Entra token, for reading the message through Graph"})


class MessageFileSchema(Schema):
    file = Upload(metadata={"description": "The whole message as .eml (item.getAsFileAsync)"})
