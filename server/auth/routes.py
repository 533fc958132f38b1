from __future__ import annotations

import uuid

from flask import current_app
from flask.views import MethodView

from server.api import blueprint, page_window, paged
from server.auth import current, directory, services
from server.auth import schemas as s
from server.auth.rights import DESCRIPTIONS, Right
from server.db import get_session

blp = blueprint("auth", "", "Sign-in, users, groups, roles, rights and API tokens")


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(s.LoginSchema)
    @blp.response(200, s.MeSchema)
    def post(self, body):
        """Sign in with username and password; sets the session cookie"""
        user = services.authenticate(get_session(), current.passwords(), body["username"], body["password"])
        csrf = current.start_browser_session(user)
        principal = services.principal_for(user)
        return {"user": user, "rights": sorted(principal.rights), "csrf_token": csrf}


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """Sign out of this browser session"""
        current.end_browser_session()


@blp.route("/auth/logout-everywhere")
class LogoutEverywhere(MethodView):
    @blp.response(204)
    def post(self):
        """Sign out of every browser session of the current user"""
        services.sign_out_everywhere(get_session(), current.actor())
        current.end_browser_session()


@blp.route("/auth/me")
class Me(MethodView):
    @blp.response(200, s.MeSchema)
    def get(self):
        """The signed-in user, their rights, and the CSRF token for cookie sessions"""
        actor = current.actor()
        user = services.get_user(get_session(), actor.user_id)
        return {"user": user, "rights": sorted(actor.rights), "csrf_token": current.csrf_token()}


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.response(200, s.TokenSchema(many=True))
    def get(self):
        """My personal API tokens (never the secrets)"""
        return services.list_api_tokens(get_session(), current.actor())

    @blp.arguments(s.TokenCreateSchema)
    @blp.response(201, s.NewTokenSchema)
    def post(self, body):
        """Create a personal API token; the secret is in this answer only"""
        plaintext, token = services.create_api_token(
            get_session(), current.actor(), body["name"], body["expires_in_days"],
            current_app.config["SAGSPOST"].api_token_max_days,
        )
        token.secret = plaintext  # carried to NewTokenSchema only; never stored
        return token


@blp.route("/auth/tokens/<uuid:token_id>")
class TokenById(MethodView):
    @blp.response(204)
    def delete(self, token_id: uuid.UUID):
        """Revoke an API token"""
        services.revoke_api_token(get_session(), current.actor(), token_id)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(s.UserQuerySchema, location="query")
    @blp.response(200, s.UserSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List users"""
        current.actor()
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, services.list_users(get_session(), services.UserFilter(**query), offset=offset, limit=limit))

    @blp.arguments(s.UserCreateSchema)
    @blp.response(201, s.UserSchema)
    def post(self, body):
        """Create a local user"""
        return services.create_user(get_session(), current.actor(), current.passwords(), **body)


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @blp.response(200, s.UserSchema)
    def get(self, user_id: uuid.UUID):
        """One user"""
        current.actor()
        return services.get_user(get_session(), user_id)

    @blp.arguments(s.UserUpdateSchema)
    @blp.response(200, s.UserSchema)
    def patch(self, body, user_id: uuid.UUID):
        """Change a user (users.manage; anyone may change their own password)"""
        return services.update_user(get_session(), current.actor(), current.passwords(), user_id, body)


@blp.route("/groups")
class Groups(MethodView):
    @blp.arguments(s.GroupQuerySchema, location="query")
    @blp.response(200, s.GroupSchema(many=True))
    @blp.paginate()
    def get(self, query, pagination_parameters):
        """List groups"""
        current.actor()
        offset, limit = page_window(pagination_parameters)
        return paged(pagination_parameters, services.list_groups(get_session(), query.get("q"), offset=offset, limit=limit))

    @blp.arguments(s.GroupSchema)
    @blp.response(201, s.GroupSchema)
    def post(self, body):
        """Create a group"""
        return services.create_group(get_session(), current.actor(), **body)


@blp.route("/groups/<uuid:group_id>")
class GroupById(MethodView):
    @blp.response(200, s.GroupSchema)
    def get(self, group_id: uuid.UUID):
        """One group"""
        current.actor()
        return services.get_group(get_session(), group_id)

    @blp.arguments(s.GroupUpdateSchema)
    @blp.response(200, s.GroupSchema)
    def patch(self, body, group_id: uuid.UUID):
        """Change a group, or replace its members"""
        return services.update_group(get_session(), current.actor(), group_id, body)


@blp.route("/groups/<uuid:group_id>/members")
class GroupMembers(MethodView):
    @blp.response(200, s.UserSchema(many=True))
    def get(self, group_id: uuid.UUID):
        """The group's members"""
        current.actor()
        return services.get_group(get_session(), group_id).members

    @blp.arguments(s.MemberSchema)
    @blp.response(204)
    def post(self, body, group_id: uuid.UUID):
        """Add a user to the group"""
        services.add_group_member(get_session(), current.actor(), group_id, body["user_id"])


@blp.route("/groups/<uuid:group_id>/members/<uuid:user_id>")
class GroupMember(MethodView):
    @blp.response(204)
    def delete(self, group_id: uuid.UUID, user_id: uuid.UUID):
        """Remove a user from the group"""
        services.remove_group_member(get_session(), current.actor(), group_id, user_id)


@blp.route("/rights")
class Rights(MethodView):
    @blp.response(200, s.RightSchema(many=True))
    def get(self):
        """The named rights a role can hold"""
        current.actor()
        return [{"name": r.value, "description": DESCRIPTIONS[r]} for r in Right]


@blp.route("/roles")
class Roles(MethodView):
    @blp.response(200, s.RoleSchema(many=True))
    def get(self):
        """The roles and their rights"""
        current.actor()
        return services.list_roles(get_session())


@blp.route("/roles/<code>")
class RoleByCode(MethodView):
    @blp.response(200, s.RoleSchema)
    def get(self, code: str):
        """One role and its rights"""
        current.actor()
        return services.get_role(get_session(), code)

    @blp.arguments(s.RoleRightsSchema)
    @blp.response(200, s.RoleSchema)
    def put(self, body, code: str):
        """Replace the rights a role holds (rights.manage)"""
        return services.set_role_rights(get_session(), current.actor(), code, body["rights"])


# ---------------------------------------------------------------- directory: CSV import and LDAP sync



@blp.route("/users/import")
class UsersImport(MethodView):
    @blp.arguments(s.UserImportFileSchema, location="files")
    @blp.arguments(s.UserImportQuerySchema, location="query")
    @blp.response(200, s.ImportReportSchema)
    def post(self, files, query):
        """Create and update users and groups from a CSV export of the directory (users.manage)"""
        return directory.import_csv(
            get_session(), current.passwords(), files["file"].read(),
            deactivate_missing=query["deactivate_missing"], actor=current.actor(),
        )


@blp.route("/directory/sync")
class DirectorySync(MethodView):
    @blp.response(200, s.ImportReportSchema)
    def post(self):
        """Synchronise users and groups from LDAP / Active Directory now (system.operate or users.manage)"""
        return directory.sync_ldap(
            get_session(), current.passwords(), current_app.config["SAGSPOST"], actor=current.actor()
        )
