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
