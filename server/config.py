"""Settings, read once from SAGSPOST_* environment variables into one object."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path


def _default_data_dir() -> Path:
    return Path.cwd() / "var"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    secret_key: str = ""
    log_level: str = "INFO"
    log_format: str = "json"  # json | text
    session_cookie_secure: bool = False
    session_lifetime_hours: int = 12
    api_token_max_days: int = 365
    # argon2 cost: lowered only by the test suite, never in production
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    admin_password: str = ""
    ldap_url: str = ""
    ldap_bind_dn: str = ""
    ldap_bind_password: str = ""
    ldap_user_base: str = ""
    ldap_group_base: str = ""
    ldap_user_filter: str = "(objectClass=inetOrgPerson)"
    ldap_group_filter: str = "(|(objectClass=groupOfNames)(objectClass=group))"
    # Celery broker: empty means the embedded default, a SQLite file in the data folder
    broker_url: str = ""
    # run background jobs inline right after commit instead of on a worker (tests, one-off scripts)
    jobs_inline: bool = False
    max_upload_mb: int = 1024
    # Digital Post. "simulator": the local NgDP simulator (`sagspost simulator`), spoken to with the
    # real NgDP client; "ngdp": Digitaliseringsstyrelsen's NgDP REST API with the system certificate.
    post_provider: str = "simulator"  # simulator | ngdp
    # Base URL of the NgDP REST API, up to and including /apis/v1. Empty: the simulator at
    # http://127.0.0.1:<simulator_port>/apis/v1, or production https://api.digitalpost.dk/apis/v1
    # (test environment: https://api.test.digitalpost.dk/apis/v1).
    post_api_url: str = ""
    # seconds to wait for NgDP before a request counts as failed (and is retried later)
    post_timeout_s: int = 30
    simulator_port: int = 8025
    # the simulator's post (deliveries, receipts, replies, switches); empty: <data_dir>/post-simulator.sqlite
    simulator_state_file: str = ""
    # OCES system certificate (FOCES/VOCES) for mutual TLS with NgDP, as PEM files (certificate, key)
    ngdp_cert_file: str = ""
    ngdp_key_file: str = ""
    # CA bundle to verify NgDP's server certificate; empty: the system's CAs
    ngdp_ca_file: str = ""
    # the sender system's id in NgDP administration, and its API key: sent as the identifying
    # `Authorization: Basic base64(system_id:api_key)` header (the certificate is the authentication)
    ngdp_system_id: str = ""
    ngdp_api_key: str = ""
    # the authority's CVR when sending on its behalf as a delegated (SaaS) system; empty: none
    ngdp_delegated_cvr: str = ""
    # Person register (CPR: name, address, custody) and business register (CVR, P-numbers), see
    # server/post/registers.py. "local": the JSON file below; "sf1520": Serviceplatformen SF1520
    # (PersonBaseDataExtended 4); "cvr": Erhvervsstyrelsen's CVR distribution (Elasticsearch).
    person_register: str = "local"  # local | sf1520
    business_register: str = "local"  # local | cvr
    # JSON file for the local registers; empty: the shipped fictional file server/post/data/registers.json
    registers_file: str = ""
    # seconds to wait for a real register before the look-up fails with RegisterUnavailable
    register_timeout_s: int = 10
    # SF1520: endpoint (test: https://exttest.serviceplatformen.dk/service/CPR/PersonBaseDataExtended/4),
    # the OCES system certificate for mutual TLS as PEM files (key empty: it is in the certificate
    # file), a CA bundle for the server (empty: the system's CAs), and the InvocationContext UUIDs
    # from the service agreement: agreement, calling system, user (the authority), service
    # (empty: PersonBaseDataExtended 4's own, e6be2436-bf35-4df2-83fe-925142825dc2).
    sf1520_endpoint: str = "https://prod.serviceplatformen.dk/service/CPR/PersonBaseDataExtended/4"
    sf1520_cert_file: str = ""
    sf1520_key_file: str = ""
    sf1520_ca_file: str = ""
    sf1520_service_agreement_uuid: str = ""
    sf1520_user_system_uuid: str = ""
    sf1520_user_uuid: str = ""
    sf1520_service_uuid: str = ""
    # CVR distribution ("System-til-system adgang til CVR-data"): base URL up to /cvr-permanent, and
    # the basic-auth user and password Erhvervsstyrelsen issues (cvrselvbetjening@erst.dk)
    cvr_endpoint: str = "http://distribution.virk.dk/cvr-permanent"
    cvr_username: str = ""
    cvr_password: str = ""
    # Conversion to PDF (server/generation/convert.py): one long-lived headless LibreOffice per
    # process, started on first use, restarted when it dies, overruns a timeout, or has converted
    # convert_recycle_after documents. convert_soffice: the LibreOffice program (empty: `soffice` on
    # PATH); convert_uno_python: a Python that imports LibreOffice's `uno` bridge (Debian's python3
    # with python3-uno), which runs the worker talking to LibreOffice; timeouts in seconds.
    convert_soffice: str = ""
    convert_uno_python: str = "/usr/bin/python3"
    convert_timeout_s: int = 120
    convert_start_timeout_s: int = 60
    convert_recycle_after: int = 500
    convert_memory_mb: int = 4096  # LibreOffice's address-space limit; 0: none
    # A mail merge converts its batches of letters with this many LibreOffices at once (one per core).
    merge_parallel: int = 2
    # Google Workspace add-on (server/google) and Google sign-in (server/auth/google_tokens.py).
    # google_addon_base_url: the public https URL Google calls (the ID token's audience is each
    # endpoint's URL under it); empty: the URL the request arrived at. google_addon_service_account:
    # the add-on's service account e-mail (`gcloud workspace-add-ons get-authorization`); empty: the
    # add-on refuses every call. google_addon_client_id: its OAuth client id from the same command,
    # the audience of the user's identity token. google_link_by_email: a Google account not yet
    # linked is linked once to the user with the same (verified) e-mail address.
    google_addon_base_url: str = ""
    google_addon_service_account: str = ""
    google_addon_client_id: str = ""
    google_link_by_email: bool = False
    # Google's signing certificates ({kid: PEM}) and the root of Google's REST APIs (Gmail, Drive,
    # Sheets); tests point both at local servers
    google_certs_url: str = "https://www.googleapis.com/oauth2/v1/certs"
    google_api_root: str = ""
    google_api_timeout_s: int = 30
    # Google sign-in for the browser (OpenID Connect code flow); off while client id or secret is empty
    google_client_id: str = ""
    google_client_secret: str = ""
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    # a Google Workspace domain whose accounts may sign in (the token's hd claim); empty: any
    google_hosted_domain: str = ""
    # Office add-in (server/addins, server/auth/entra.py). Sign-in with Microsoft Entra ID: the
    # Sagspost API's app registration (client id, and a secret for Graph calls on behalf of the
    # user), its Application ID URI when tokens carry that as audience (api://host/<client id>),
    # the tenants whose users may sign in (comma-separated tenant ids), the authority host and Graph.
    entra_client_id: str = ""
    entra_client_secret: str = ""
    entra_app_id_uri: str = ""
    entra_tenants: str = ""
    entra_authority: str = "https://login.microsoftonline.com"
    # the delegated scope the pane asks for; tokens without it are refused
    entra_scope: str = "access_as_user"
    # link a first-time Entra user to the Sagspost user with the same e-mail address (else an
    # administrator links them); off by default because it trusts the tenant's e-mail claims
    entra_link_by_email: bool = False
    graph_url: str = "https://graph.microsoft.com"
    # Office.js for the task pane: "cdn" (Microsoft's, needed in production) or "local" (the
    # @microsoft/office-js npm package in addin/node_modules, for development and tests)
    addin_office_js: str = "cdn"
    # the add-in's id in its manifests; keep it once users have installed the add-in
    addin_id: str = "6f1d3f7a-2b5c-4c1e-9a5e-5a3c0b7d2e11"
    # days a personal API token handed to the task pane lives
    addin_token_days: int = 30
    testing: bool = False

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sagspost.db'}"

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite'}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"SAGSPOST_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _parse(raw, f.type)
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            object.__setattr__(settings, "secret_key", _persistent_secret(settings.data_dir))
        return settings


def _parse(raw: str, type_name) -> object:
    type_name = str(type_name)
    if type_name == "bool":
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if type_name == "int":
        return int(raw)
    if type_name == "Path":
        return Path(raw)
    return raw


def _persistent_secret(data_dir: Path) -> str:
    """A secret generated on first start and kept in the data folder, so sessions survive restarts."""
    path = Path(data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
