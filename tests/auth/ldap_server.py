"""A real OpenLDAP server (Debian's slapd) for the directory-sync tests.

`slapd_server` (session scope) starts slapd on a free local port with a throw-away slapd.conf and
mdb database in a temporary folder and stops it at the end. `ldap_directory` (function scope)
resets the tree to the baseline below before each test, so tests can change it freely:

    dc=example,dc=dk
      cn=sagspost,ou=services      the account Sagspost binds as (password READER_PASSWORD)
      ou=people                    mette, soren, anne (inetOrgPerson)
      ou=groups                    Byggeri {mette, soren}, Borgerservice {anne} (groupOfNames)

The size limit is 2 for everyone but the rootdn while paged results are unlimited, so a sync that
did not page would silently get only part of the three users.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SLAPD = "/usr/sbin/slapd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
BASE = "dc=example,dc=dk"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret"
READER_DN = f"cn=sagspost,ou=services,{BASE}"
READER_PASSWORD = "læse-Adgang-2024"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"
INSTALL_HINT = "run `make test`, which installs Debian's slapd, or `apt-get install slapd`"

BASELINE_USERS = {
    "mette": {"givenName": "Mette", "sn": "Ærø-Jensen", "mail": "mette@example.dk"},
    "soren": {"givenName": "Søren", "sn": "Østergård", "mail": "soren@example.dk"},
    "anne": {"givenName": "Anne", "sn": "Åberg", "mail": "anne@example.dk"},
}
BASELINE_GROUPS = {"Byggeri": ["mette", "soren"], "Borgerservice": ["anne"]}


def user_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


@dataclass
class LdapServer:
    url: str
    process: subprocess.Popen
    workdir: Path

    def admin(self):
        """A connection bound as the rootdn (no size limit), for arranging entries."""
        import ldap3

        server = ldap3.Server(self.url, get_info=ldap3.NONE, connect_timeout=5)
        return ldap3.Connection(server, ROOT_DN, ROOT_PASSWORD, auto_bind=True, raise_exceptions=True)

    def settings(self, **overrides) -> dict:
        """The Settings fields for a sync against this server."""
        values = dict(
            ldap_url=self.url,
            ldap_bind_dn=READER_DN,
            ldap_bind_password=READER_PASSWORD,
            ldap_user_base=PEOPLE,
            ldap_group_base=GROUPS,
        )
        values.update(overrides)
        return values

    def env(self) -> dict[str, str]:
        return {f"SAGSPOST_{k.upper()}": v for k, v in self.settings().items()}

    # -- changing the tree

    def add_user(self, uid: str, given: str, sn: str, mail: str | None = None) -> None:
        attrs = {"uid": uid, "cn": f"{given} {sn}", "givenName": given, "sn": sn}
        if mail:
            attrs["mail"] = mail
        with self.admin() as conn:
            conn.add(user_dn(uid), ["inetOrgPerson"], attrs)

    def delete(self, dn: str) -> None:
        with self.admin() as conn:
            conn.delete(dn)

    def modify(self, dn: str, **replace) -> None:
        import ldap3

        with self.admin() as conn:
            conn.modify(dn, {k: [(ldap3.MODIFY_REPLACE, v if isinstance(v, list) else [v])] for k, v in replace.items()})

    def rename(self, dn: str, new_rdn: str) -> None:
        with self.admin() as conn:
            conn.modify_dn(dn, new_rdn)

    def set_members(self, cn: str, uids: list[str]) -> None:
        self.modify(group_dn(cn), member=[user_dn(u) for u in uids])

    def entry_uuid(self, dn: str) -> str:
        import ldap3

        with self.admin() as conn:
            conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["entryUUID"])
            return str(conn.entries[0].entryUUID.value).lower()

    def reset(self) -> None:
        """Back to the baseline tree (new entries, so new entryUUIDs)."""
        import ldap3

        with self.admin() as conn:
            for base in (PEOPLE, GROUPS):
                if conn.search(base, "(objectClass=*)", ldap3.LEVEL, attributes=[]) and conn.entries:
                    for entry in list(conn.entries):
                        conn.delete(entry.entry_dn)
        for uid, attrs in BASELINE_USERS.items():
            self.add_user(uid, attrs["givenName"], attrs["sn"], attrs["mail"])
        with self.admin() as conn:
            for cn, uids in BASELINE_GROUPS.items():
                conn.add(group_dn(cn), ["groupOfNames"], {"cn": cn, "member": [user_dn(u) for u in uids]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: ask Linux to stop slapd if the test run itself is killed (PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except Exception:  # noqa: BLE001 - not Linux: teardown still stops it
        pass


def _config(workdir: Path) -> str:
    includes = "\n".join(f"include {SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis"))
    return f"""{includes}
modulepath {MODULE_DIR}
moduleload back_mdb
pidfile {workdir / 'slapd.pid'}
argsfile {workdir / 'slapd.args'}
loglevel none

database mdb
maxsize 67108864
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {workdir / 'data'}
limits * size.soft=2 size.hard=2 size.prtotal=unlimited
access to attrs=userPassword by anonymous auth by * none
access to * by * read
"""


def _start(workdir: Path) -> LdapServer:
    if not Path(SLAPD).exists():
        pytest.skip(f"slapd not installed ({SLAPD} missing): {INSTALL_HINT}")
    missing = [n for n in ("core", "cosine", "inetorgperson", "nis") if not (SCHEMA_DIR / f"{n}.schema").exists()]
    if missing:
        pytest.skip(f"OpenLDAP schemas missing in {SCHEMA_DIR} ({', '.join(missing)}): {INSTALL_HINT}")
    try:
        import ldap3
    except ImportError:
        pytest.skip("the ldap3 package is not installed: pip install -e .[test]")

    (workdir / "data").mkdir(parents=True, exist_ok=True)
    conf = workdir / "slapd.conf"
    conf.write_text(_config(workdir))
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    log = (workdir / "slapd.log").open("wb")
    process = subprocess.Popen(
        [SLAPD, "-h", f"{url}/", "-f", str(conf), "-d", "0"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent,
    )
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            output = (workdir / "slapd.log").read_text(errors="replace")[-2000:]
            pytest.skip(f"slapd could not start (exit {process.returncode}): {output.strip() or 'no output'}")
        try:
            # a new Server each time: ldap3 remembers a refused address as unavailable for a while
            server = ldap3.Server(url, get_info=ldap3.NONE, connect_timeout=1)
            ldap3.Connection(server, ROOT_DN, ROOT_PASSWORD, auto_bind=True).unbind()
            break
        except ldap3.core.exceptions.LDAPException:
            if time.monotonic() > deadline:
                _stop(process)
                pytest.skip("slapd started but did not accept a bind within 15 seconds")
            time.sleep(0.05)

    srv = LdapServer(url=url, process=process, workdir=workdir)
    with srv.admin() as conn:
        conn.add(BASE, ["dcObject", "organization"], {"dc": "example", "o": "Example Kommune"})
        for ou in ("people", "groups", "services"):
            conn.add(f"ou={ou},{BASE}", ["organizationalUnit"], {"ou": ou})
        conn.add(
            READER_DN, ["organizationalRole", "simpleSecurityObject"], {"cn": "sagspost", "userPassword": READER_PASSWORD}
        )
    return srv


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def slapd_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slapd")
    srv = _start(workdir)
    try:
        yield srv
    finally:
        _stop(srv.process)
        shutil.rmtree(workdir / "data", ignore_errors=True)


@pytest.fixture
def ldap_directory(slapd_server):
    """The running server with the baseline tree, fresh for this test."""
    slapd_server.reset()
    return slapd_server
