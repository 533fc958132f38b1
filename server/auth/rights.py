"""The catalogue of named rights (the seed's sikkerhedsindstillinger) and the roles' defaults.

Which role holds which right is data, edited by administrators; this module only names the rights
the code checks and the four roles' starting point.
"""
from __future__ import annotations

import enum


class Right(str, enum.Enum):
    SYSTEM_OPERATE = "system.operate"
    USERS_MANAGE = "users.manage"
    RIGHTS_MANAGE = "rights.manage"
    AUDIT_READ = "audit.read"
    JOURNAL_PLAN_MANAGE = "journal_plan.manage"
    CASE_TEMPLATES_MANAGE = "case_templates.manage"
    DOCUMENT_TEMPLATES_MANAGE = "document_templates.manage"
    LISTS_MANAGE = "lists.manage"
    CASES_CREATE = "cases.create"
    CASES_ASSIGN = "cases.assign"
    CASES_DELETE = "cases.delete"
    CASES_ACCESS_ALL = "cases.access_all"
    CONTACTS_CREATE = "contacts.create"
    CONTACTS_EDIT = "contacts.edit"
    CONTACTS_VIEW_CPR = "contacts.view_cpr"
    DOCUMENTS_REOPEN = "documents.reopen"
    TRASH_MANAGE = "trash.manage"
    RETENTION_MANAGE = "retention.manage"
    POST_SEND = "post.send"
    POST_APPROVE = "post.approve"
    POST_MANAGE = "post.manage"


DESCRIPTIONS: dict[Right, str] = {
    Right.SYSTEM_OPERATE: "Operate the installation: health details, directory sync, maintenance jobs",
    Right.USERS_MANAGE: "Create and edit users and groups, import them from a directory",
    Right.RIGHTS_MANAGE: "Change which rights each role has",
    Right.AUDIT_READ: "Read the access log and any audit trail",
    Right.JOURNAL_PLAN_MANAGE: "Build and maintain journal plans and their keys",
    Right.CASE_TEMPLATES_MANAGE: "Create and edit case templates",
    Right.DOCUMENT_TEMPLATES_MANAGE: "Upload and edit document templates (Word) and their versions",
    Right.LISTS_MANAGE: "Maintain party roles, note categories and custom fields",
    Right.CASES_CREATE: "Create cases",
    Right.CASES_ASSIGN: "Assign cases to users and take unassigned cases",
    Right.CASES_DELETE: "Delete cases",
    Right.CASES_ACCESS_ALL: "Read and change every case regardless of its members",
    Right.CONTACTS_CREATE: "Create contacts",
    Right.CONTACTS_EDIT: "Edit contacts",
    Right.CONTACTS_VIEW_CPR: "See CPR numbers in full instead of masked",
    Right.DOCUMENTS_REOPEN: "Reopen a final document so it can change (recorded in its history)",
    Right.TRASH_MANAGE: "See everyone's deleted items, restore them and purge the trash",
    Right.RETENTION_MANAGE: "List what is past its retention period and dispose of it",
    Right.POST_SEND: "Send Digital Post (within the sending rules)",
    Right.POST_APPROVE: "Approve dispatches that need approval, and see every dispatch",
    Right.POST_MANAGE: "Manage sender identities, sending rules and the dispatch log",
}


class RoleCode(str, enum.Enum):
    IT_ADMIN = "it_admin"
    SYSTEM_ADMIN = "system_admin"
    ORG_ADMIN = "org_admin"
    CASEWORKER = "caseworker"


ROLE_NAMES: dict[RoleCode, str] = {
    RoleCode.IT_ADMIN: "IT-systemadministrator",
    RoleCode.SYSTEM_ADMIN: "Systemadministrator",
    RoleCode.ORG_ADMIN: "Organisationsadministrator",
    RoleCode.CASEWORKER: "Sagsbehandler",
}

_CASEWORK = {
    Right.POST_SEND,
    Right.CASES_CREATE,
    Right.CASES_ASSIGN,
    Right.CONTACTS_CREATE,
    Right.CONTACTS_EDIT,
    Right.CONTACTS_VIEW_CPR,
}

DEFAULT_ROLE_RIGHTS: dict[RoleCode, set[Right]] = {
    RoleCode.IT_ADMIN: {Right.SYSTEM_OPERATE, Right.USERS_MANAGE, Right.RIGHTS_MANAGE, Right.AUDIT_READ},
    RoleCode.SYSTEM_ADMIN: {Right.USERS_MANAGE, Right.RIGHTS_MANAGE, Right.AUDIT_READ, Right.SYSTEM_OPERATE},
    RoleCode.ORG_ADMIN: {
        Right.USERS_MANAGE,
        Right.RIGHTS_MANAGE,
        Right.JOURNAL_PLAN_MANAGE,
        Right.CASE_TEMPLATES_MANAGE,
        Right.DOCUMENT_TEMPLATES_MANAGE,
        Right.LISTS_MANAGE,
        Right.CASES_DELETE,
        Right.DOCUMENTS_REOPEN,
        Right.TRASH_MANAGE,
        Right.RETENTION_MANAGE,
        Right.POST_APPROVE,
        Right.POST_MANAGE,
        *_CASEWORK,
    },
    RoleCode.CASEWORKER: set(_CASEWORK),
}
