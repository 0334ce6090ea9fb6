"""The team history's schema on PostgreSQL (15 or newer), as an ordered list of migrations.

Applied by ``walleo-desktop team init`` / ``team upgrade`` as the team's owner role (never by a
desktop's everyday login): each migration in one transaction with its row in
``walleo.schema_version``. A desktop refuses a database whose version is not the one it knows
(``backend.PostgresBackend.connect`` says which to run).

Why not Alembic: the schema is a short list of SQL scripts applied in order, and the roles,
grants and row-level policies below are plain DDL Alembic would only carry as opaque text; its
autogenerate needs SQLAlchemy models the store does not have (the store speaks plain SQL through
its dialect table). A version table and this list do the job with nothing to install.

The same tables as SQLite (``sqlite/schema.py``), with the rules kept by the database:

- roles: the team's owner role owns everything and never logs in; every member is a login role
  in one of the team's agent, finance and admin groups; ``current_user`` is who did it. Roles
  are the server's, not one database's: the group roles are named after the team's database
  (``team_roles``), so that two teams on one server never share a group, and only those groups
  may connect to it;
- pulls: agents insert only their own queued intents (``agent = current_user``), update only
  unfinished pulls they hold or that nobody holds (claims, takeovers), never a final one;
  finance reads; nobody deletes;
- events: insert and read, never update or delete; cards and catalog snapshots: insert and
  read, never change;
- the team's keys: each member reads the data key wrapped for them; admins write them;
- shift reports: inserted and read, never changed (grants and a trigger); an agent closes only
  their own shift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SCHEMA", "SCHEMA_VERSION", "TeamRoles", "migrations", "team_roles"]

SCHEMA = "walleo"


@dataclass(frozen=True, slots=True)
class TeamRoles:
    """The group roles of the team whose database is ``dbname``."""

    owner: str
    agent: str
    finance: str
    admin: str

    @property
    def groups(self) -> tuple[str, str, str]:
        return (self.agent, self.finance, self.admin)


def team_roles(dbname: str) -> TeamRoles:
    """``walleo_<database>_owner`` and so on (plain identifiers, at most 63 characters)."""
    base = re.sub(r"[^a-z0-9_]", "_", dbname.lower())[:40] or "team"
    return TeamRoles(*(f"walleo_{base}_{kind}" for kind in ("owner", "agent", "finance", "admin")))


# UNFINISHED (core.UNFINISHED_WHERE) spelled for the policies.
_UNFINISHED = "state NOT IN ('error', 'rejected', 'success')"

_V1 = """
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE SCHEMA {SCHEMA} AUTHORIZATION {OWNER};
SET LOCAL ROLE {OWNER};
SET LOCAL search_path = {SCHEMA}, public;

-- The time everybody agrees on: the server's, as the store's fixed-width UTC text.
CREATE FUNCTION now_text() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

CREATE SEQUENCE pulls_change_seq;

CREATE TABLE pulls (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id       text    NOT NULL UNIQUE,
    gift_card_code   text    NOT NULL,
    gift_card_name   text    NOT NULL DEFAULT '',
    catalog_snapshot text    NOT NULL DEFAULT '{{}}',
    discount         integer,
    amount           integer NOT NULL CHECK (amount > 0),
    currency         text    NOT NULL DEFAULT 'EUR',
    state            text    NOT NULL,
    overdue          integer NOT NULL DEFAULT 0,
    created_at       text    NOT NULL,
    updated_at       text    NOT NULL,
    sent_at          text,
    finished_at      text,
    next_check_at    text,
    attempts         integer NOT NULL DEFAULT 0,
    agent            text    NOT NULL DEFAULT '',
    reference        text    NOT NULL DEFAULT '',
    note             text    NOT NULL DEFAULT '',
    profile          text    NOT NULL DEFAULT '',
    batch_id         text    NOT NULL DEFAULT '',
    retry_of         bigint REFERENCES pulls (id),
    error_code       text    NOT NULL DEFAULT '',
    error_message    text    NOT NULL DEFAULT '',
    walleo_id        text    NOT NULL DEFAULT '',
    walleo_status    text    NOT NULL DEFAULT '',
    card_id          text    NOT NULL DEFAULT '',
    lease_owner      text    NOT NULL DEFAULT '',
    lease_user       text    NOT NULL DEFAULT '',
    lease_until      text,
    lease_epoch      integer NOT NULL DEFAULT 0,
    last_check_at    text,
    change_seq       bigint  NOT NULL DEFAULT 0,
    dup_override_of  bigint REFERENCES pulls (id),
    cost_cents       integer GENERATED ALWAYS AS (amount * (100 - coalesce(discount, 0))) STORED
);
CREATE INDEX pulls_unfinished ON pulls (created_at) WHERE {_UNFINISHED};
CREATE INDEX pulls_claimable ON pulls (profile, lease_until) WHERE {_UNFINISHED};
CREATE INDEX pulls_created ON pulls (created_at, id);
CREATE INDEX pulls_state_created ON pulls (state, created_at);
CREATE INDEX pulls_brand_created ON pulls (gift_card_code, created_at);
CREATE INDEX pulls_agent_created ON pulls (agent, created_at);
CREATE UNIQUE INDEX pulls_one_retry ON pulls (retry_of) WHERE retry_of IS NOT NULL;
CREATE INDEX pulls_by_change ON pulls (change_seq);
CREATE INDEX pulls_amount ON pulls (amount, id);
CREATE INDEX pulls_cost ON pulls (cost_cents, id);
CREATE INDEX pulls_agent_lower ON pulls (lower(agent), id);
CREATE INDEX pulls_reference_lower ON pulls (lower(reference), id);
CREATE INDEX pulls_name_lower ON pulls (lower(gift_card_name), id);
CREATE INDEX pulls_duplicates ON pulls (reference, gift_card_code, amount, created_at);
CREATE INDEX pulls_search_trgm ON pulls
    USING gin (lower(request_id) gin_trgm_ops, lower(reference) gin_trgm_ops,
               lower(note) gin_trgm_ops);
CREATE INDEX pulls_success_totals
    ON pulls (created_at, gift_card_code, agent, state, amount, cost_cents, gift_card_name)
    WHERE state = 'success';

-- A final state is never left, whoever writes.
CREATE FUNCTION pulls_final_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state IN ('error', 'rejected', 'success') AND NEW.state IS DISTINCT FROM OLD.state THEN
        RAISE EXCEPTION 'a finished pull never changes state' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pulls_final_is_final BEFORE UPDATE OF state ON pulls
    FOR EACH ROW EXECUTE FUNCTION pulls_final_is_final();

-- Who holds a lease is the database login that took it, whatever the desktop says.
CREATE FUNCTION pulls_lease_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.lease_owner IS DISTINCT FROM OLD.lease_owner
            OR NEW.lease_epoch IS DISTINCT FROM OLD.lease_epoch THEN
        NEW.lease_user := CASE WHEN NEW.lease_owner = '' THEN '' ELSE current_user END;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pulls_lease_user BEFORE INSERT OR UPDATE ON pulls
    FOR EACH ROW EXECUTE FUNCTION pulls_lease_user();

-- A doorbell for the desktops following the history (LISTEN walleo_changes): one per
-- transaction that changed pulls (identical notifications of a transaction are sent once).
CREATE FUNCTION pulls_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('walleo_changes', '');
    RETURN NULL;
END $$;
CREATE TRIGGER pulls_notify AFTER INSERT OR UPDATE ON pulls
    FOR EACH STATEMENT EXECUTE FUNCTION pulls_notify();

-- Only a failed pull is retried (the unique index above: once).
CREATE FUNCTION pulls_retry_of_failed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.retry_of IS NOT NULL AND (SELECT state FROM walleo.pulls WHERE id = NEW.retry_of)
            NOT IN ('error', 'rejected') THEN
        RAISE EXCEPTION 'only a pull that failed can be retried' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER pulls_retry_of_failed BEFORE INSERT ON pulls
    FOR EACH ROW EXECUTE FUNCTION pulls_retry_of_failed();

CREATE TABLE cards (
    card_id        text    PRIMARY KEY,
    pull_id        bigint  NOT NULL UNIQUE REFERENCES pulls (id),
    key_id         text    NOT NULL DEFAULT '',
    code           bytea   NOT NULL,
    code_hash      bytea   NOT NULL,
    code_last4     text    NOT NULL,
    pin_code       bytea   NOT NULL,
    expire_at      text,
    expire_day     text,
    amount         integer,
    gift_card_code text    NOT NULL DEFAULT '',
    pdf_url        text    NOT NULL DEFAULT '',
    pdf_path       text    NOT NULL DEFAULT '',
    created_at     text    NOT NULL
);
CREATE INDEX cards_code_last4 ON cards (code_last4);
CREATE INDEX cards_code_hash ON cards (code_hash);

CREATE TABLE events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pull_id bigint REFERENCES pulls (id),
    at      text   NOT NULL,
    kind    text   NOT NULL,
    actor   text   NOT NULL DEFAULT current_user,
    detail  text   NOT NULL DEFAULT '{{}}'
);
CREATE INDEX events_pull ON events (pull_id);

CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE catalog_cache (
    profile text PRIMARY KEY, fetched_at text NOT NULL, items text NOT NULL
);
CREATE TABLE openers (owner text PRIMARY KEY, opened_at text NOT NULL);

-- The team: members (login roles), their public keys, the keys wrapped for each of them.
CREATE TABLE members (
    name       text PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('agent', 'finance', 'admin')),
    public_key bytea,
    added_at   text NOT NULL,
    added_by   text NOT NULL DEFAULT current_user,
    joined_at  text,
    removed_at text
);
CREATE TABLE team_keys (
    key_id     text NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN ('data', 'issuing')),
    member     text NOT NULL REFERENCES members (name),
    wrapped    bytea NOT NULL,
    created_at text NOT NULL,
    PRIMARY KEY (key_id, purpose, member)
);
CREATE TABLE team_secrets (
    name       text PRIMARY KEY,
    key_id     text  NOT NULL,
    value      bytea NOT NULL,
    updated_at text  NOT NULL
);

-- Who may do what: the database says it, not only the window.
REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM PUBLIC;
GRANT USAGE ON SCHEMA {SCHEMA} TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT EXECUTE ON FUNCTION now_text() TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT USAGE ON SEQUENCE pulls_change_seq TO {ROLE_AGENT}, {ROLE_ADMIN};
GRANT SELECT ON pulls, cards, events, settings, catalog_cache, members
    TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT INSERT (request_id, gift_card_code, gift_card_name, catalog_snapshot, discount, amount,
              currency, state, created_at, updated_at, agent, reference, note, profile,
              batch_id, retry_of, lease_owner, lease_user, lease_until, lease_epoch,
              change_seq, dup_override_of) ON pulls TO {ROLE_AGENT};
GRANT UPDATE (state, overdue, sent_at, finished_at, next_check_at, last_check_at, attempts,
              error_code, error_message, walleo_id, walleo_status, card_id, updated_at,
              change_seq, lease_owner, lease_user, lease_until, lease_epoch)
    ON pulls TO {ROLE_AGENT};
GRANT INSERT ON cards, events TO {ROLE_AGENT};
GRANT INSERT ON events TO {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT INSERT, UPDATE ON settings, catalog_cache TO {ROLE_AGENT}, {ROLE_ADMIN};
GRANT SELECT, INSERT, DELETE ON openers TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT INSERT, UPDATE ON members TO {ROLE_ADMIN};
GRANT UPDATE (public_key, joined_at) ON members TO {ROLE_AGENT}, {ROLE_FINANCE};
GRANT SELECT ON team_keys, team_secrets TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT INSERT, DELETE ON team_keys TO {ROLE_ADMIN};
GRANT INSERT, UPDATE ON team_secrets TO {ROLE_ADMIN};

ALTER TABLE pulls ENABLE ROW LEVEL SECURITY;
ALTER TABLE cards ENABLE ROW LEVEL SECURITY;
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY pulls_read ON pulls FOR SELECT USING (true);
-- An agent journals only intents in their own name, queued.
CREATE POLICY pulls_journal ON pulls FOR INSERT TO {ROLE_AGENT}
    WITH CHECK (agent = current_user AND state = 'queued' AND lease_user IN ('', current_user));
-- An agent changes an unfinished pull only while holding it, or to claim one nobody holds.
CREATE POLICY pulls_drive ON pulls FOR UPDATE TO {ROLE_AGENT}
    USING ({_UNFINISHED} AND (lease_user = current_user OR lease_until IS NULL
                              OR lease_until <= {SCHEMA}.now_text()))
    WITH CHECK (lease_user = current_user);

CREATE POLICY cards_read ON cards FOR SELECT USING (true);
CREATE POLICY cards_record ON cards FOR INSERT TO {ROLE_AGENT} WITH CHECK (
    EXISTS (SELECT 1 FROM {SCHEMA}.pulls p WHERE p.id = pull_id AND p.lease_user = current_user));

CREATE POLICY events_read ON events FOR SELECT USING (true);
CREATE POLICY events_write ON events FOR INSERT WITH CHECK (actor = current_user);

CREATE POLICY members_read ON members FOR SELECT USING (true);
CREATE POLICY members_admin ON members FOR ALL TO {ROLE_ADMIN} USING (true) WITH CHECK (true);
CREATE POLICY members_join ON members FOR UPDATE TO {ROLE_AGENT}, {ROLE_FINANCE}
    USING (name = current_user AND removed_at IS NULL) WITH CHECK (name = current_user);

CREATE POLICY team_keys_mine ON team_keys FOR SELECT USING (member = current_user);
CREATE POLICY team_keys_admin ON team_keys FOR ALL TO {ROLE_ADMIN} USING (true) WITH CHECK (true);

-- Shift reports (store/shifts.py): append-only for everyone. The grants give INSERT and SELECT
-- only; the trigger refuses UPDATE, DELETE and TRUNCATE even to the owner (and to a superuser
-- that has not disabled it): a second close of a period is a new report, never an edit.
CREATE TABLE shift_reports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent        text NOT NULL,
    period_start text NOT NULL,
    period_end   text NOT NULL,
    created_at   text NOT NULL,
    created_by   text NOT NULL DEFAULT current_user,
    totals       text NOT NULL,
    CHECK (period_start < period_end)
);
CREATE INDEX shift_reports_agent ON shift_reports (agent, period_end);
CREATE FUNCTION shift_reports_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'shift reports are append-only' USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER shift_reports_append_only BEFORE UPDATE OR DELETE ON shift_reports
    FOR EACH ROW EXECUTE FUNCTION shift_reports_append_only();
CREATE TRIGGER shift_reports_no_truncate BEFORE TRUNCATE ON shift_reports
    FOR EACH STATEMENT EXECUTE FUNCTION shift_reports_append_only();
GRANT SELECT, INSERT ON shift_reports TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
ALTER TABLE shift_reports ENABLE ROW LEVEL SECURITY;
CREATE POLICY shift_reports_read ON shift_reports FOR SELECT USING (true);
-- Who closed it is the login that did; an agent closes their own shift, finance and admins
-- anyone's.
CREATE POLICY shift_reports_own ON shift_reports FOR INSERT TO {ROLE_AGENT}
    WITH CHECK (created_by = current_user AND agent = current_user);
CREATE POLICY shift_reports_any ON shift_reports FOR INSERT TO {ROLE_FINANCE}, {ROLE_ADMIN}
    WITH CHECK (created_by = current_user);

CREATE TABLE schema_version (version integer NOT NULL, applied_at text NOT NULL);
GRANT SELECT ON schema_version TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
"""

# v2, a million pulls a year (the finance issue): each catalog snapshot kept once (a pull
# names it), the card's expiry day beside its pull (the history sorts by it through an index),
# every filter's index ending with the id (its page in date order is one index walk) and the
# brand name in the search's trigram index. tests/test_query_plans.py reads every plan.
_V2 = """
SET LOCAL ROLE {OWNER};
SET LOCAL search_path = {SCHEMA}, public;

-- Each catalog entry a pull was journaled with, kept once (core._snapshot_id): a pull names it
-- by snapshot_id (NULL: the empty snapshot). Inserted and read, never changed.
CREATE TABLE catalog_snapshots (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash text NOT NULL UNIQUE,
    body text NOT NULL
);
INSERT INTO catalog_snapshots (hash, body)
    SELECT encode(sha256(convert_to(catalog_snapshot, 'UTF8')), 'hex'), catalog_snapshot
    FROM (SELECT DISTINCT catalog_snapshot FROM pulls WHERE catalog_snapshot != '{{}}') s;
ALTER TABLE pulls ADD COLUMN snapshot_id bigint REFERENCES catalog_snapshots (id);
ALTER TABLE pulls ADD COLUMN card_expire_day text;  -- cards.expire_day (record_card)
UPDATE pulls p SET
    snapshot_id = (SELECT s.id FROM catalog_snapshots s WHERE s.body = p.catalog_snapshot
                   AND p.catalog_snapshot != '{{}}'),
    card_expire_day = (SELECT c.expire_day FROM cards c WHERE c.pull_id = p.id);
ALTER TABLE pulls DROP COLUMN catalog_snapshot;

DROP INDEX pulls_state_created, pulls_brand_created, pulls_agent_created, pulls_search_trgm;
CREATE INDEX pulls_state_created ON pulls (state, created_at, id);
CREATE INDEX pulls_brand_created ON pulls (gift_card_code, created_at, id);
CREATE INDEX pulls_agent_created ON pulls (agent, created_at, id);
CREATE INDEX pulls_request_id ON pulls (request_id, id);
CREATE INDEX pulls_card_id ON pulls (card_id, id);
CREATE INDEX pulls_expire_day ON pulls (card_expire_day DESC NULLS LAST, id DESC);
CREATE INDEX pulls_expire_day_last ON pulls (card_expire_day ASC NULLS LAST, id);
-- The search box (dialect.text_search): lower(column) LIKE, prefix or substring.
CREATE INDEX pulls_search_trgm ON pulls
    USING gin (lower(request_id) gin_trgm_ops, lower(reference) gin_trgm_ops,
               lower(note) gin_trgm_ops, lower(gift_card_name) gin_trgm_ops);

GRANT SELECT ON catalog_snapshots TO {ROLE_AGENT}, {ROLE_FINANCE}, {ROLE_ADMIN};
GRANT INSERT (hash, body) ON catalog_snapshots TO {ROLE_AGENT};
REVOKE INSERT ON pulls FROM {ROLE_AGENT};
GRANT INSERT (request_id, gift_card_code, gift_card_name, snapshot_id, discount, amount,
              currency, state, created_at, updated_at, agent, reference, note, profile,
              batch_id, retry_of, lease_owner, lease_user, lease_until, lease_epoch,
              change_seq, dup_override_of) ON pulls TO {ROLE_AGENT};
GRANT UPDATE (card_expire_day) ON pulls TO {ROLE_AGENT};

-- The doorbell rings for writes that change what followers read (change_seq moves): not for
-- lease renewals and releases, nor statements that changed nothing.
DROP TRIGGER pulls_notify ON pulls;
CREATE TRIGGER pulls_notify AFTER INSERT OR UPDATE OF change_seq ON pulls
    FOR EACH STATEMENT EXECUTE FUNCTION pulls_notify();
"""

_MIGRATIONS = [_V1, _V2]
SCHEMA_VERSION = len(_MIGRATIONS)


def migrations(roles: TeamRoles) -> list[str]:
    """The migration scripts, in order, for a team with these roles."""
    names = {
        "SCHEMA": SCHEMA,
        "OWNER": roles.owner,
        "ROLE_AGENT": roles.agent,
        "ROLE_FINANCE": roles.finance,
        "ROLE_ADMIN": roles.admin,
        "_UNFINISHED": _UNFINISHED,
    }
    return [script.format(**names) for script in _MIGRATIONS]
