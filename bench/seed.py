"""A realistic case load for the benchmarks, written with bulk inserts.

PostgreSQL gets its rows through COPY (psycopg's `cursor.copy`), SQLite through executemany of dict
rows in chunks of 5,000. Everything is drawn from one seeded random generator, so a run with the
same `--seed` and size gives the same dataset.

What it makes, for N cases:
- the four roles (`ensure_roles`), 20 groups, 200 users (10 per group, a fifth in a second group);
  the benchmark user `bench` is a caseworker in two groups, without `cases.access_all`;
- a journal plan of 120 leaf keys under 30 sub-groups and 10 main groups, five case templates with
  standard folders, four party roles;
- N cases numbered YYYY-NNNNNN by year of creation, updated over the last three years (skewed to
  recent), open/closed/archived by age; 8 % unassigned in a group, 1.2 % owned by `bench`,
  30 % restricted with one or two members (users or groups), `bench` a named member of 0.3 % more;
- 0.95 N persons (valid DDMMYY-SSSS CPR numbers, unique) and 0.15 N organisations (CVR numbers that
  pass modulus 11, P-numbers); every case has one or two parties (about 1.5 N party rows);
- tags on a quarter of the cases, the template's standard folders on every case.
"""
from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Table, insert, select, text
from sqlalchemy.engine import Engine

from server.auth import services as auth
from server.auth.models import Role
from server.db import session_factory
from server.models import metadata

CHUNK = 5_000

GROUP_NAMES = [
    "Byggeri og Plan", "Miljø", "Natur og Vand", "Vej og Park", "Borgerservice", "Ydelser",
    "Jobcenter", "Familie og Børn", "Skole", "Dagtilbud", "Ældre og Sundhed", "Handicap",
    "Økonomi", "Løn og Personale", "IT", "Jura", "Sekretariat", "Kultur og Fritid", "Beredskab",
    "Ejendomme",
]
FIRST_NAMES = [
    "Anna", "Mette", "Hanne", "Susanne", "Lene", "Kirsten", "Camilla", "Louise", "Maria", "Sofie",
    "Peter", "Jens", "Lars", "Henrik", "Søren", "Thomas", "Niels", "Michael", "Morten", "Rasmus",
    "Ida", "Emma", "Freja", "Clara", "Mads", "Frederik", "Oliver", "William", "Lucas", "Karl",
]
LAST_NAMES = [
    "Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen",
    "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen", "Thomsen", "Christiansen",
    "Poulsen", "Johansen", "Møller", "Mortensen", "Holm", "Kjær", "Lund", "Bach", "Dam",
]
STREETS = [
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Algade", "Kirkevej", "Skolevej",
    "Møllevej", "Stationsvej", "Bakkevej", "Engvej", "Skovvej", "Strandvejen", "Parkvej", "Havnegade",
]
CITIES = [
    ("8000", "Aarhus C"), ("5000", "Odense C"), ("9000", "Aalborg"), ("7100", "Vejle"),
    ("6700", "Esbjerg"), ("4000", "Roskilde"), ("8700", "Horsens"), ("8900", "Randers"),
    ("7400", "Herning"), ("3400", "Hillerød"),
]
COMPANY_WORDS = ["Nord", "Syd", "Vest", "Øst", "Dansk", "Fjord", "Skov", "Bygge", "Energi", "Data", "Agro", "Trans"]
COMPANY_KINDS = ["ApS", "A/S", "I/S", "Holding ApS", "Entreprise A/S"]
TAGS = ["haster", "klage", "aktindsigt", "politisk", "presse", "ombudsmand", "frist", "tolk", "genoptaget"]
PARTY_ROLES = ["Part", "Ansøger", "Partsrepræsentant", "Værge"]

# (name, title prefix, folders, public?) — "Klage" makes the q=klage filter match about a fifth.
TEMPLATES = [
    ("Byggesag", "Byggetilladelse", ["Ansøgning", "Høring", "Afgørelse"], True),
    ("Klagesag", "Klage over afgørelse", ["Klage", "Korrespondance"], False),
    ("Aktindsigt", "Anmodning om aktindsigt", ["Anmodning", "Afgørelse"], True),
    ("Borgersag", "Ansøgning om ydelse", ["Ansøgning", "Dokumentation", "Afgørelse"], False),
    ("Tilsynssag", "Tilsyn med virksomhed", ["Tilsyn", "Korrespondance"], True),
]

BENCH_USERNAME = "bench"


@dataclass
class Dataset:
    """What was made, and the facts the measurements need."""

    counts: dict[str, int] = field(default_factory=dict)
    bench_user_id: uuid.UUID | None = None
    bench_group_ids: list[uuid.UUID] = field(default_factory=list)
    my_case_ids: list[uuid.UUID] = field(default_factory=list)  # owned or named member
    group_case_ids: list[uuid.UUID] = field(default_factory=list)  # owned by one of my groups, not by me
    public_case_ids: list[uuid.UUID] = field(default_factory=list)  # public, owned by others
    my_open: int = 0
    unassigned_mine: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


class Loader:
    """Bulk inserts: COPY on PostgreSQL, chunked executemany elsewhere."""

    def __init__(self, conn):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def insert(self, table: Table, columns: list[str], rows) -> int:
        rows = list(rows)
        if not rows:
            return 0
        if self.postgres:
            raw = self.conn.connection.driver_connection
            cols = ", ".join(f'"{c}"' for c in columns)
            with raw.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            stmt = insert(table)
            for start in range(0, len(rows), CHUNK):
                self.conn.execute(stmt, [dict(zip(columns, row)) for row in rows[start:start + CHUNK]])
        return len(rows)


def seed(engine: Engine, n_cases: int, rng_seed: int = 1, log=print) -> Dataset:
    rng = random.Random(rng_seed)
    ds = Dataset()
    t = metadata.tables

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    now = datetime.now(timezone.utc).replace(microsecond=0)

    # -- roles through the service, so the rights are the shipped defaults
    started = time.perf_counter()
    with session_factory(engine)() as session:
        auth.ensure_roles(session)
        session.commit()
        caseworker_role = session.scalar(select(Role.id).where(Role.code == "caseworker"))

    with engine.begin() as conn:
        load = Loader(conn)

        # -- groups and users
        group_ids = [uid() for _ in GROUP_NAMES]
        load.insert(
            t["groups"], ["id", "name", "description", "source", "active", "created_at", "updated_at"],
            [(g, name, "", "local", True, now, now) for g, name in zip(group_ids, GROUP_NAMES)],
        )
        user_rows, membership, primary_group = [], [], {}
        user_ids = []
        for i in range(200):
            u = uid()
            user_ids.append(u)
            if i == 0:
                username, full_name = BENCH_USERNAME, "Bente Bench"
            else:
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                username, full_name = f"{first.lower()}.{last.lower()}{i}", f"{first} {last}"
            user_rows.append((u, username, f"{username}@kommune.example", full_name, None, True, "local", 0, now, now))
            first_group = group_ids[i % len(group_ids)]
            primary_group[u] = first_group
            groups = {first_group}
            if i == 0 or rng.random() < 0.2:
                groups.add(group_ids[(i + 1) % len(group_ids)])
            membership.extend((u, g) for g in groups)
        load.insert(
            t["users"],
            ["id", "username", "email", "full_name", "password_hash", "active", "source", "session_epoch",
             "created_at", "updated_at"],
            user_rows,
        )
        load.insert(t["user_groups"], ["user_id", "group_id"], membership)
        load.insert(t["user_roles"], ["user_id", "role_id"], [(u, caseworker_role) for u in user_ids])
        bench = user_ids[0]
        ds.bench_user_id = bench
        ds.bench_group_ids = [g for u, g in membership if u == bench]
        bench_groups = set(ds.bench_group_ids)
        others = user_ids[1:]

        # -- journal plan, party roles, templates
        plan_id = uid()
        load.insert(t["journal_plans"], ["id", "name", "description", "active", "created_at", "updated_at"],
                    [(plan_id, "KLE (benchmark)", "", True, now, now)])
        key_rows, leaves = [], []
        for a in range(10):
            main = uid()
            key_rows.append((main, plan_id, None, f"{a:02d}", f"Hovedgruppe {a:02d}", "", True, now, now))
            for b in range(3):
                sub = uid()
                key_rows.append((sub, plan_id, main, f"{a:02d}.{b:02d}", f"Gruppe {a:02d}.{b:02d}", "", True, now, now))
                for c in range(4):
                    leaf = uid()
                    leaves.append(leaf)
                    key_rows.append((leaf, plan_id, sub, f"{a:02d}.{b:02d}.{c:02d}", f"Emne {a:02d}.{b:02d}.{c:02d}",
                                     "", True, now, now))
        load.insert(t["journal_keys"],
                    ["id", "plan_id", "parent_id", "number", "title", "description", "active", "created_at", "updated_at"],
                    key_rows)
        role_ids = [uid() for _ in PARTY_ROLES]
        load.insert(t["party_roles"], ["id", "name", "description", "active", "created_at", "updated_at"],
                    [(r, name, "", True, now, now) for r, name in zip(role_ids, PARTY_ROLES)])
        template_ids = [uid() for _ in TEMPLATES]
        # JSON columns: through SQLAlchemy, five rows
        conn.execute(insert(t["case_templates"]), [
            dict(id=tid, name=name, description="", title_pattern="{template}", journal_key_id=leaves[i * 7],
                 access="public" if public else "group", owner_group_id=group_ids[i], standard_folders=folders,
                 standard_documents=[], retention_years=5, retention_from="closed", with_work_plan=False,
                 active=True, created_at=now, updated_at=now)
            for i, (tid, (name, _prefix, folders, public)) in enumerate(zip(template_ids, TEMPLATES))
        ])
        ds.seconds["users, groups, plan, templates"] = time.perf_counter() - started

        # -- contacts
        started = time.perf_counter()
        n_persons, n_orgs = max(10, int(n_cases * 0.95)), max(5, int(n_cases * 0.15))
        contact_rows, person_ids, org_ids = [], [], []
        cprs: set[str] = set()
        first_day = date(1930, 1, 1)
        day_span = (date(2015, 12, 31) - first_day).days
        while len(person_ids) < n_persons:
            born = first_day + timedelta(days=rng.randrange(day_span))
            # the 7th digit with the year gives the century (CPR-kontoret's table)
            seventh = rng.randrange(0, 4) if born.year < 2000 else rng.choice((4, 9, 5, 6, 7, 8))
            cpr = f"{born:%d%m%y}-{seventh}{rng.randrange(1000):03d}"
            if cpr in cprs:
                continue
            cprs.add(cpr)
            c = uid()
            person_ids.append(c)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            postal, city = rng.choice(CITIES)
            contact_rows.append((
                c, "person", f"{first} {last}", first, last, cpr, born, None, None,
                f"{rng.choice(STREETS)} {rng.randrange(1, 200)}", postal, city, "DK",
                f"{first.lower()}.{len(person_ids)}@mail.example" if rng.random() < 0.4 else None,
                f"+45 {rng.randrange(20000000, 99999999)}" if rng.random() < 0.5 else None, now, now,
            ))
        for i in range(n_orgs):
            c = uid()
            org_ids.append(c)
            postal, city = rng.choice(CITIES)
            contact_rows.append((
                c, "organisation", f"{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_WORDS).lower()} {i} {rng.choice(COMPANY_KINDS)}",
                None, None, None, None, _cvr(rng), f"{rng.randrange(1_000_000_000, 9_999_999_999)}",
                f"{rng.choice(STREETS)} {rng.randrange(1, 200)}", postal, city, "DK", f"post@firma{i}.example",
                None, now, now,
            ))
        ds.counts["contacts"] = load.insert(
            t["contacts"],
            ["id", "kind", "name", "first_name", "last_name", "cpr", "birth_date", "cvr", "p_number", "street",
             "postal_code", "city", "country", "email", "phone", "created_at", "updated_at"],
            contact_rows,
        )
        del contact_rows, cprs
        ds.seconds["contacts"] = time.perf_counter() - started

        # -- cases, in order of creation (the physical order a real table would have)
        started = time.perf_counter()
        span = timedelta(days=3 * 365)
        drafts = []
        for _ in range(n_cases):
            updated = now - span * (rng.random() ** 1.5)  # more recent activity than old
            created = updated - timedelta(days=rng.random() * rng.choice((5, 30, 120, 400)))
            drafts.append((created, updated))
        drafts.sort()
        case_rows, member_rows, tag_rows, folder_rows, party_rows = [], [], [], [], []
        counters: dict[int, int] = {}
        for created, updated in drafts:
            case_id = uid()
            year = created.year
            counters[year] = counters.get(year, 0) + 1
            number = f"{year}-{counters[year]:06d}"
            ti = rng.randrange(len(TEMPLATES))
            template_name, prefix, folders, _public = TEMPLATES[ti]
            age_days = (now - updated).days
            r = rng.random()
            if age_days < 365:
                status = "open" if r < 0.7 else "closed"
            elif age_days < 730:
                status = "open" if r < 0.3 else "closed"
            else:
                status = "open" if r < 0.1 else ("closed" if r < 0.7 else "archived")
            closed_at = updated if status != "open" else None
            access = "restricted" if rng.random() < 0.3 else "public"
            r = rng.random()
            if r < 0.08:
                owner, group = None, rng.choice(group_ids)
            elif r < 0.08 + 0.012:
                owner = bench
                group = primary_group[bench]
            else:
                owner = rng.choice(others)
                group = primary_group[owner]
            members = []
            if access == "restricted":
                for _ in range(rng.choice((1, 1, 2))):
                    if rng.random() < 0.6:
                        members.append((rng.choice(others), None))
                    else:
                        members.append((None, rng.choice(group_ids)))
            is_member = owner != bench and rng.random() < 0.003
            if is_member:
                members.append((bench, None))
            seen = set()
            for m_user, m_group in members:
                if (m_user, m_group) in seen:
                    continue
                seen.add((m_user, m_group))
                member_rows.append((uid(), case_id, m_user, m_group, "write" if rng.random() < 0.8 else "read"))
            subject = (f"{rng.choice(STREETS)} {rng.randrange(1, 200)}" if ti in (0, 4)
                       else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
            title = f"{prefix} – {subject}"
            case_rows.append((
                case_id, number, title, f"{template_name} oprettet {created:%d.%m.%Y}.", template_ids[ti],
                leaves[rng.randrange(len(leaves))], status, access, owner, group,
                owner or rng.choice(others), closed_at, created, updated,
            ))
            if rng.random() < 0.25:
                for tag in rng.sample(TAGS, rng.choice((1, 1, 2))):
                    tag_rows.append((case_id, tag))
            folder_rows.extend((uid(), case_id, name, pos) for pos, name in enumerate(folders))
            first = rng.choice(org_ids) if rng.random() < 0.15 else rng.choice(person_ids)
            parties = [first]
            if rng.random() < 0.5:
                second = rng.choice(person_ids)
                if second != first:
                    parties.append(second)
            for pos, contact_id in enumerate(parties):
                party_rows.append((uid(), case_id, contact_id, role_ids[0 if pos == 0 else rng.randrange(1, 4)],
                                   pos == 0, "", created, created))

            # what the measurements need
            if owner == bench or is_member:
                ds.my_case_ids.append(case_id)
                ds.my_open += status == "open"
            elif group in bench_groups:
                ds.group_case_ids.append(case_id)
                ds.unassigned_mine += owner is None
            elif access == "public":
                ds.public_case_ids.append(case_id)
        ds.counts["cases"] = load.insert(
            t["cases"],
            ["id", "number", "title", "description", "template_id", "journal_key_id", "status", "access",
             "owner_user_id", "owner_group_id", "created_by_id", "closed_at", "created_at", "updated_at"],
            case_rows,
        )
        del case_rows
        load.insert(t["case_number_counters"], ["year", "last"], sorted(counters.items()))
        ds.seconds["cases"] = time.perf_counter() - started

        started = time.perf_counter()
        ds.counts["parties"] = load.insert(
            t["case_parties"],
            ["id", "case_id", "contact_id", "role_id", "is_primary", "note", "created_at", "updated_at"], party_rows)
        ds.counts["case members"] = load.insert(
            t["case_members"], ["id", "case_id", "user_id", "group_id", "access"], member_rows)
        ds.counts["tags"] = load.insert(t["case_tags"], ["case_id", "tag"], tag_rows)
        ds.counts["folders"] = load.insert(t["case_folders"], ["id", "case_id", "name", "position"], folder_rows)
        ds.seconds["parties, members, tags, folders"] = time.perf_counter() - started
    ds.counts["users"] = len(user_ids)
    ds.counts["groups"] = len(group_ids)

    started = time.perf_counter()
    analyze(engine)
    ds.seconds["vacuum analyze" if engine.dialect.name == "postgresql" else "analyze"] = time.perf_counter() - started
    return ds


def analyze(engine: Engine) -> None:
    """Planner statistics, as a database that has been running for a while would have them.

    On PostgreSQL VACUUM as well: freshly copied rows have no hint bits and no visibility map, so the
    first reads would write and index-only scans would visit the heap; autovacuum does this in a
    real installation.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # the tables of this schema as migrated (the models may be ahead of the migrations)
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
            conn.execute(text("VACUUM (ANALYZE) " + ", ".join(f'"{name}"' for name in tables)))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _cvr(rng: random.Random) -> str:
    """Eight digits, not starting with 0, that pass the modulus-11 check."""
    weights = (2, 7, 6, 5, 4, 3, 2)
    while True:
        digits = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(6)]
        check = -sum(d * w for d, w in zip(digits, weights)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)
