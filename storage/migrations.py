"""Schema migrations: a numbered list, each applied once in its own transaction and recorded.

Keep the SQL portable (PostgreSQL later): ``?`` parameters, ``ON CONFLICT``, no SQLite-only
types. Timestamps are ISO-8601 text in UTC; periods are ``YYYY-MM`` text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

M001_INITIAL = [
    """CREATE TABLE areas (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER REFERENCES areas(id),
        level TEXT NOT NULL,
        name TEXT NOT NULL,
        name_folded TEXT NOT NULL,
        code TEXT,
        urban INTEGER NOT NULL DEFAULT 0,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        retired_at TEXT
    )""",
    "CREATE UNIQUE INDEX areas_parent_name ON areas(parent_id, name_folded)",
    "CREATE UNIQUE INDEX areas_level_code ON areas(level, code)",
    "CREATE INDEX areas_path ON areas(path)",
    "CREATE INDEX areas_name ON areas(name_folded)",
    """CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        full_name TEXT NOT NULL,
        phone TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE identities (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        person_id INTEGER NOT NULL REFERENCES people(id),
        chat_id TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        PRIMARY KEY (channel, external_id)
    )""",
    "CREATE INDEX identities_person ON identities(person_id)",
    """CREATE TABLE roles (
        id INTEGER PRIMARY KEY,
        person_id INTEGER NOT NULL REFERENCES people(id),
        role TEXT NOT NULL CHECK (role IN ('village_head', 'officer', 'admin')),
        area_id INTEGER NOT NULL REFERENCES areas(id),
        granted_at TEXT NOT NULL,
        revoked_at TEXT
    )""",
    "CREATE UNIQUE INDEX roles_unique ON roles(person_id, role, area_id)",
    "CREATE INDEX roles_area ON roles(area_id)",
    """CREATE TABLE invites (
        code TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('village_head', 'officer', 'admin')),
        area_id INTEGER NOT NULL REFERENCES areas(id),
        full_name TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_by INTEGER REFERENCES people(id)
    )""",
    """CREATE TABLE dialogs (
        channel TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        dialog TEXT NOT NULL,
        step TEXT NOT NULL,
        draft TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, sender_id)
    )""",
    """CREATE TABLE inbound_seen (
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (channel, message_id)
    )""",
    "CREATE INDEX inbound_seen_received ON inbound_seen(received_at)",
    """CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        area_id INTEGER NOT NULL REFERENCES areas(id),
        form TEXT NOT NULL,
        period TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (area_id, form, period)
    )""",
    """CREATE TABLE report_versions (
        report_id INTEGER NOT NULL REFERENCES reports(id),
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        submitted_by INTEGER REFERENCES people(id),
        submitted_via TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        PRIMARY KEY (report_id, version)
    )""",
    # The current version of each monthly village report, typed, for fast statistics.
    """CREATE TABLE village_monthly (
        area_id INTEGER NOT NULL REFERENCES areas(id),
        period TEXT NOT NULL,
        version INTEGER NOT NULL,
        total INTEGER NOT NULL,
        poor INTEGER NOT NULL,
        near_poor INTEGER NOT NULL,
        exited INTEGER NOT NULL,
        newly_poor INTEGER NOT NULL,
        fallen_back INTEGER NOT NULL,
        em_poor INTEGER NOT NULL,
        loans INTEGER NOT NULL,
        support_vnd INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL,
        PRIMARY KEY (area_id, period)
    )""",
    "CREATE INDEX village_monthly_period ON village_monthly(period, area_id)",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor_person_id INTEGER REFERENCES people(id),
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        before TEXT,
        after TEXT
    )""",
    "CREATE INDEX audit_entity ON audit_log(entity, entity_id)",
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
]

# The two tables written on every inbound message, stored as their primary key (SQLite's
# WITHOUT ROWID; a PostgreSQL port simply drops the clause): one page written per message each
# instead of three and two, which keeps the write-ahead log and its checkpoints small.
# Forgetting old inbound ids (once a day) scans the table instead of using an index.
M002_LEAN_HOT_TABLES = [
    """CREATE TABLE inbound_seen_new (
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (channel, message_id)
    ) WITHOUT ROWID""",
    "INSERT INTO inbound_seen_new SELECT channel, message_id, received_at FROM inbound_seen",
    "DROP TABLE inbound_seen",
    "ALTER TABLE inbound_seen_new RENAME TO inbound_seen",
    """CREATE TABLE dialogs_new (
        channel TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        dialog TEXT NOT NULL,
        step TEXT NOT NULL,
        draft TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, sender_id)
    ) WITHOUT ROWID""",
    "INSERT INTO dialogs_new SELECT channel, sender_id, dialog, step, draft, updated_at"
    " FROM dialogs",
    "DROP TABLE dialogs",
    "ALTER TABLE dialogs_new RENAME TO dialogs",
]

# The household list of each village (DOMAIN §3, §7, §9): the minimum the reports need — a
# code, the head's name, the status and four yes/no breakdowns; no ID-card numbers, no members.
# Dates are 'YYYY-MM-DD' text, times ISO-8601 text in UTC, yes/no flags 0/1.
# ``household_events`` also keeps the village the household was in when the event happened, so
# a month's events of a village (or of every village under an area, through ``areas.path``) come
# from one index range without touching the households.
M003_HOUSEHOLDS = [
    """CREATE TABLE households (
        id INTEGER PRIMARY KEY,
        village_id INTEGER NOT NULL REFERENCES areas(id),
        code TEXT NOT NULL,
        head_name TEXT NOT NULL,
        head_name_folded TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('poor', 'near_poor', 'average', 'other')),
        status_since TEXT NOT NULL,
        recently_exited_until TEXT,
        ethnic_minority INTEGER NOT NULL DEFAULT 0 CHECK (ethnic_minority IN (0, 1)),
        no_work_capacity INTEGER NOT NULL DEFAULT 0 CHECK (no_work_capacity IN (0, 1)),
        has_merit INTEGER NOT NULL DEFAULT 0 CHECK (has_merit IN (0, 1)),
        has_loan INTEGER NOT NULL DEFAULT 0 CHECK (has_loan IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (village_id, code)
    )""",
    # Covers the monthly figures of a village (counts by status and flag): an index-only scan.
    "CREATE INDEX households_village_status"
    " ON households(village_id, status, ethnic_minority, has_loan)",
    """CREATE TABLE household_events (
        id INTEGER PRIMARY KEY,
        household_id INTEGER NOT NULL REFERENCES households(id),
        village_id INTEGER NOT NULL REFERENCES areas(id),
        kind TEXT NOT NULL CHECK (kind IN ('created', 'newly_poor', 'newly_near_poor', 'exited',
            'exited_near_poor', 'fallen_back', 'status_change')),
        status_before TEXT,
        status_after TEXT NOT NULL,
        effective_date TEXT NOT NULL,
        recognised_by INTEGER REFERENCES people(id),
        reason TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    )""",
    # The events of a village (or of the villages under an area) in a month, by kind.
    "CREATE INDEX household_events_village_date"
    " ON household_events(village_id, effective_date, kind)",
    "CREATE INDEX household_events_household ON household_events(household_id, effective_date)",
    """CREATE TABLE household_assessments (
        id INTEGER PRIMARY KEY,
        household_id INTEGER NOT NULL REFERENCES households(id),
        year INTEGER NOT NULL,
        income_per_person INTEGER NOT NULL,
        deprived TEXT NOT NULL,
        standard_name TEXT NOT NULL,
        suggested_status TEXT NOT NULL
            CHECK (suggested_status IN ('poor', 'near_poor', 'average', 'other')),
        assessed_by INTEGER REFERENCES people(id),
        assessed_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'suggested'
            CHECK (state IN ('suggested', 'recognised', 'rejected')),
        decided_by INTEGER REFERENCES people(id),
        decided_at TEXT,
        decision_reason TEXT
    )""",
    "CREATE INDEX household_assessments_household ON household_assessments(household_id, year)",
    """CREATE TABLE household_support (
        id INTEGER PRIMARY KEY,
        household_id INTEGER NOT NULL REFERENCES households(id),
        kind TEXT NOT NULL,
        amount_vnd INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL DEFAULT '',
        given_on TEXT NOT NULL,
        recorded_by INTEGER REFERENCES people(id),
        at TEXT NOT NULL
    )""",
    "CREATE INDEX household_support_household ON household_support(household_id, given_on)",
    """CREATE TABLE exit_registrations (
        id INTEGER PRIMARY KEY,
        household_id INTEGER NOT NULL REFERENCES households(id),
        target_year INTEGER NOT NULL,
        plan_kind TEXT NOT NULL,
        plan_text TEXT NOT NULL DEFAULT '',
        support_asked TEXT NOT NULL DEFAULT '[]',
        registered_on TEXT NOT NULL,
        recorded_by INTEGER REFERENCES people(id),
        state TEXT NOT NULL DEFAULT 'registered' CHECK (state IN
            ('registered', 'under_review', 'recognised', 'not_yet', 'withdrawn')),
        state_at TEXT NOT NULL,
        state_by INTEGER REFERENCES people(id),
        state_reason TEXT,
        created_at TEXT NOT NULL
    )""",
    # At most one open registration per household (partial indexes: SQLite and PostgreSQL).
    "CREATE UNIQUE INDEX exit_registrations_open ON exit_registrations(household_id)"
    " WHERE state IN ('registered', 'under_review', 'not_yet')",
    "CREATE INDEX exit_registrations_household ON exit_registrations(household_id, state)",
    """CREATE TABLE registration_events (
        id INTEGER PRIMARY KEY,
        registration_id INTEGER NOT NULL REFERENCES exit_registrations(id),
        state_before TEXT,
        state_after TEXT NOT NULL,
        changed_by INTEGER REFERENCES people(id),
        at TEXT NOT NULL,
        reason TEXT
    )""",
    "CREATE INDEX registration_events_registration ON registration_events(registration_id)",
]

# Everything the bot sends on its own (DESIGN "outbox"): a campaign per calendar event,
# announcement or notice, unique by its key, and one outbox row per (campaign, recipient), so a
# campaign planned twice or a dispatcher restarted in the middle of a broadcast sends each
# message once. ``message`` is the rendered Outbound (JSON); ``subject`` says what a reminder
# is about (form, period, areas) so it can be dropped when the report arrives before it goes.
# ``identities.blocked_at``: the person blocked the bot on that messenger.
M004_OUTBOX = [
    """CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        form TEXT,
        period TEXT,
        area_id INTEGER REFERENCES areas(id),
        requested_by INTEGER REFERENCES people(id),
        title TEXT NOT NULL DEFAULT '',
        total INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        progress_at TEXT,
        progress_seq INTEGER NOT NULL DEFAULT 0,
        done_at TEXT
    )""",
    "CREATE INDEX campaigns_open ON campaigns(done_at, requested_by)",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        person_id INTEGER NOT NULL REFERENCES people(id),
        message TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        priority INTEGER NOT NULL DEFAULT 5,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent',
            'failed', 'skipped', 'unreachable')),
        not_before TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        channel TEXT,
        chat_id TEXT,
        last_error TEXT,
        sent_at TEXT,
        updated_at TEXT NOT NULL,
        UNIQUE (campaign_id, person_id)
    )""",
    # The queue: due rows in priority order (rows waiting for a retry are few).
    "CREATE INDEX outbox_queue ON outbox(state, priority, id)",
    "CREATE INDEX outbox_campaign ON outbox(campaign_id, state)",
    "ALTER TABLE identities ADD COLUMN blocked_at TEXT",
]

# Statistics sum every village's latest report month after month: stored by its primary key
# (area_id, period), the latest report of a village is one seek that lands on the row itself
# (a rowid table needed the unique index, then the row). PostgreSQL: drop WITHOUT ROWID.
M005_VILLAGE_MONTHLY_BY_KEY = [
    """CREATE TABLE village_monthly_new (
        area_id INTEGER NOT NULL REFERENCES areas(id),
        period TEXT NOT NULL,
        version INTEGER NOT NULL,
        total INTEGER NOT NULL,
        poor INTEGER NOT NULL,
        near_poor INTEGER NOT NULL,
        exited INTEGER NOT NULL,
        newly_poor INTEGER NOT NULL,
        fallen_back INTEGER NOT NULL,
        em_poor INTEGER NOT NULL,
        loans INTEGER NOT NULL,
        support_vnd INTEGER NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL,
        PRIMARY KEY (area_id, period)
    ) WITHOUT ROWID""",
    "INSERT INTO village_monthly_new SELECT area_id, period, version, total, poor, near_poor,"
    " exited, newly_poor, fallen_back, em_poor, loans, support_vnd, note, submitted_at"
    " FROM village_monthly",
    "DROP TABLE village_monthly",
    "ALTER TABLE village_monthly_new RENAME TO village_monthly",
    "CREATE INDEX village_monthly_period ON village_monthly(period, area_id)",
]

# Each village's figures as they count for each month (storage/effective.py): the primary key
# (month, path) makes an area's month one range, summed without a seek per village. Filled
# for the reports already on record at start-up (StatsService.resolve).
M006_VILLAGE_EFFECTIVE = [
    """CREATE TABLE village_effective (
        month TEXT NOT NULL,
        path TEXT NOT NULL,
        area_id INTEGER NOT NULL REFERENCES areas(id),
        period TEXT NOT NULL,
        total INTEGER NOT NULL,
        poor INTEGER NOT NULL,
        near_poor INTEGER NOT NULL,
        em_poor INTEGER NOT NULL,
        loans INTEGER NOT NULL,
        support_vnd INTEGER NOT NULL,
        filed_at TEXT,
        PRIMARY KEY (month, path)
    ) WITHOUT ROWID""",
    "CREATE INDEX village_effective_area ON village_effective(area_id, month)",
]

# Linking a second messenger to a person (storage/links.py): one-time linking codes, kept only
# as a SHA-256 hash, and the wrong codes an identity sent (rate limit). ``outbox.to_channel``
# and ``to_external_id`` pin a message to one identity of its person (the notice "your Zalo
# account was linked" must reach the *other* messenger, not the one used last).
M007_LINK_CODES = [
    """CREATE TABLE link_codes (
        id INTEGER PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,
        person_id INTEGER NOT NULL REFERENCES people(id),
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_channel TEXT,
        used_external_id TEXT,
        revoked_at TEXT
    )""",
    "CREATE INDEX link_codes_person ON link_codes(person_id, used_at, revoked_at)",
    """CREATE TABLE link_failures (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX link_failures_identity ON link_failures(channel, external_id, at)",
    "ALTER TABLE outbox ADD COLUMN to_channel TEXT",
    "ALTER TABLE outbox ADD COLUMN to_external_id TEXT",
]

M008_INBOX_AND_MEDIA = [
    # Messages a channel has accepted but not yet processed (the Zalo webhook stores each event
    # before it answers); a row leaves in the transaction that processes it.
    """CREATE TABLE inbox (
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (channel, message_id)
    )""",
    # Files served at unguessable, short-lived links (Zalo takes photos by URL).
    """CREATE TABLE media (
        token TEXT PRIMARY KEY,
        content_type TEXT NOT NULL,
        filename TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    )""",
    "CREATE INDEX media_expiry ON media(expires_at)",
]

# A newer assessment of a household supersedes its older pending ones (they never come back
# in /duyet): a state of their own, with the assessment that replaced it; who and when go in
# decided_by and decided_at. SQLite cannot change a CHECK constraint, so the table is rebuilt
# (PostgreSQL: ALTER TABLE … DROP CONSTRAINT / ADD CONSTRAINT, ADD COLUMN).
M009_SUPERSEDED_ASSESSMENTS = [
    """CREATE TABLE household_assessments_new (
        id INTEGER PRIMARY KEY,
        household_id INTEGER NOT NULL REFERENCES households(id),
        year INTEGER NOT NULL,
        income_per_person INTEGER NOT NULL,
        deprived TEXT NOT NULL,
        standard_name TEXT NOT NULL,
        suggested_status TEXT NOT NULL
            CHECK (suggested_status IN ('poor', 'near_poor', 'average', 'other')),
        assessed_by INTEGER REFERENCES people(id),
        assessed_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'suggested'
            CHECK (state IN ('suggested', 'recognised', 'rejected', 'superseded')),
        decided_by INTEGER REFERENCES people(id),
        decided_at TEXT,
        decision_reason TEXT,
        superseded_by INTEGER
    )""",
    "INSERT INTO household_assessments_new (id, household_id, year, income_per_person,"
    " deprived, standard_name, suggested_status, assessed_by, assessed_at, state, decided_by,"
    " decided_at, decision_reason) SELECT id, household_id, year, income_per_person, deprived,"
    " standard_name, suggested_status, assessed_by, assessed_at, state, decided_by, decided_at,"
    " decision_reason FROM household_assessments",
    "DROP TABLE household_assessments",
    "ALTER TABLE household_assessments_new RENAME TO household_assessments",
    "CREATE INDEX household_assessments_household ON household_assessments(household_id, year)",
    "CREATE INDEX household_assessments_state ON household_assessments(state, household_id)",
]

# Whether a village's household list is complete, as the head or an officer said (and who and
# when; the audit log keeps every change). Until then the list does not drive the report.
M010_HOUSEHOLD_LISTS = [
    """CREATE TABLE household_lists (
        village_id INTEGER PRIMARY KEY REFERENCES areas(id),
        complete INTEGER NOT NULL CHECK (complete IN (0, 1)),
        marked_by INTEGER REFERENCES people(id),
        marked_at TEXT NOT NULL
    )""",
]

# Whether a dialog row is work under way (a form half filled) or only shows something (the last
# menu, a list, a card: another command simply ends it): what the bot sends on its own waits
# only for the first kind (scheduler/dispatcher.py).
M011_DIALOG_BUSY = [
    "ALTER TABLE dialogs ADD COLUMN busy INTEGER NOT NULL DEFAULT 1",
    "UPDATE dialogs SET busy = 0 WHERE dialog = 'menu'",
]

# A message that reached nobody keeps why (``channel:reason`` words, see
# scheduler.dispatcher) until the person's officers have been told, in one alert per officer
# for all the people of a campaign (NULL once told, or when nobody is to be told).
M012_OUTBOX_UNTOLD = [
    "ALTER TABLE outbox ADD COLUMN untold_reasons TEXT",
    "CREATE INDEX outbox_untold ON outbox(id) WHERE untold_reasons IS NOT NULL",
]

# Dialogs back in an ordinary table. A dialog's draft grew to about 1 KB (a report's figures,
# last month's, the buttons shown), and SQLite keeps at most about 1,000 bytes of a WITHOUT
# ROWID row on its 4 KiB page: every rewrite of such a row, on every message, freed and
# allocated overflow pages — 4 pages to the log instead of 1 (``python -m bench.core``: 6.6
# pages per message, 3.6 after). An ordinary table keeps rows up to about 4,000 bytes on their
# page, and rewriting a row leaves its key's index untouched.
M013_DIALOGS_WITH_ROWID = [
    """CREATE TABLE dialogs_new (
        channel TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        dialog TEXT NOT NULL,
        step TEXT NOT NULL,
        draft TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        busy INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (channel, sender_id)
    )""",
    "INSERT INTO dialogs_new SELECT channel, sender_id, dialog, step, draft, updated_at, busy"
    " FROM dialogs",
    "DROP TABLE dialogs",
    "ALTER TABLE dialogs_new RENAME TO dialogs",
]

# A file that names people (a household list): its link lives shorter and its file goes a
# minute after it is first downloaded (storage/media.py).
M014_PERSONAL_MEDIA = [
    "ALTER TABLE media ADD COLUMN personal INTEGER NOT NULL DEFAULT 0",
]

# Wrong invite codes (storage/invites.py), for the throttles of handlers/enrol.py: per
# messenger account, and over all accounts (the ``at`` index counts the last minute's).
M015_INVITE_FAILURES = [
    """CREATE TABLE invite_failures (
        channel TEXT NOT NULL,
        external_id TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX invite_failures_identity ON invite_failures(channel, external_id, at)",
    "CREATE INDEX invite_failures_at ON invite_failures(at)",
]

# (number, name, statements). Append only; never edit a migration that has shipped.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "m001_initial", M001_INITIAL),
    (2, "m002_lean_hot_tables", M002_LEAN_HOT_TABLES),
    (3, "m003_households", M003_HOUSEHOLDS),
    (4, "m004_outbox", M004_OUTBOX),
    (5, "m005_village_monthly_by_key", M005_VILLAGE_MONTHLY_BY_KEY),
    (6, "m006_village_effective", M006_VILLAGE_EFFECTIVE),
    (7, "m007_link_codes", M007_LINK_CODES),
    (8, "m008_inbox_and_media", M008_INBOX_AND_MEDIA),
    (9, "m009_superseded_assessments", M009_SUPERSEDED_ASSESSMENTS),
    (10, "m010_household_lists", M010_HOUSEHOLD_LISTS),
    (11, "m011_dialog_busy", M011_DIALOG_BUSY),
    (12, "m012_outbox_untold", M012_OUTBOX_UNTOLD),
    (13, "m013_dialogs_with_rowid", M013_DIALOGS_WITH_ROWID),
    (14, "m014_personal_media", M014_PERSONAL_MEDIA),
    (15, "m015_invite_failures", M015_INVITE_FAILURES),
]


async def apply_migrations(conn: aiosqlite.Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    async with conn.execute("SELECT version FROM schema_migrations") as cur:
        done = {row[0] for row in await cur.fetchall()}
    applied = []
    for number, name, statements in MIGRATIONS:
        if number in done:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (number, name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()
        applied.append(name)
    return applied


async def applied_migrations(conn: aiosqlite.Connection) -> list[dict]:
    """The migrations recorded in the database (none when it was never migrated)."""
    try:
        async with conn.execute(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ) as cur:
            return [dict(r) for r in await cur.fetchall()]
    except aiosqlite.OperationalError:  # no schema_migrations table yet
        return []
