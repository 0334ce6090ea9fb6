"""Team mode: many desktops share one history on PostgreSQL, each member with their own login.

Set-up, as a team lead does it::

    walleo-desktop team init postgresql://postgres@db.example:5432/walleo --admin lea
    walleo-desktop team invite sam --role agent        # prints a one-time invite code
    walleo-desktop team join CODE                      # on Sam's desktop
    walleo-desktop team approve sam                    # the admin checks Sam's key fingerprint

**Secrets.** Nothing secret is ever stored in clear, nor pasted in a chat to stay valid:

- each member's database password and X25519 private key live in their OS keyring only
  (``team-db:<team>:<member>``, ``team-key:<team>:<member>``; no keyring, no team mode);
- the invite code carries a one-time password, valid 48 hours and replaced by the member's
  desktop at ``team join`` with one only that desktop knows; and a joined member can do
  nothing until an admin approves their public key (``team approve``), comparing its
  fingerprint with the member by phone or in person: a leaked code is worth nothing;
- the team's **data key** (card codes and PINs, AES-GCM as in a single history) and its
  **issuing key** (the team's Walleo credentials) are random, made at ``team init``, and
  stored only wrapped for each member's public key with HPKE (X25519, HKDF-SHA256,
  AES-256-GCM): the database never sees a code, a PIN or a key in clear. Finance gets the data
  key (exports with codes), not the issuing key (it issues nothing);
- Walleo's credentials are the team's (one Partners account), sealed with the issuing key in
  ``team_secrets``: members' desktops read them without anyone typing or pasting them. Chosen
  over "entered per desktop" because 200 agents typing an API key is 200 copies in 200
  clipboards and chats; rotating them is one ``team credentials`` on one desktop;
- removing a member makes their login unusable and makes a new data key (and issuing key)
  that is never wrapped for them; cards sealed earlier keep their key version (``key_id``).

Everything here blocks (keyring, database): the window runs it in a thread.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

import keyring
import keyring.errors
from cryptography.hazmat.primitives import hpke, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from walleo_desktop.api.client import Credentials
from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.engine.files import write_private
from walleo_desktop.engine.profiles import KEYRING_SERVICE, KeyringUnavailable, default_config_dir
from walleo_desktop.logs import register_secret
from walleo_desktop.store import StoreError
from walleo_desktop.store.crypto import CardCipher, CipherSet, new_data_key
from walleo_desktop.store.postgres import admin
from walleo_desktop.store.postgres.admin import TeamDb
from walleo_desktop.store.postgres.backend import PostgresBackend, describe_server

__all__ = [
    "INVITE_PREFIX",
    "SIMULATOR_URL",
    "Invite",
    "MemberStatus",
    "TeamAccess",
    "TeamConfig",
    "TeamError",
    "TeamStatus",
    "approve_member",
    "fingerprint",
    "init_team",
    "invite_member",
    "join_team",
    "leave_team",
    "load_team_config",
    "open_team",
    "read_invite",
    "remove_member",
    "set_team_credentials",
    "simulator_credentials",
    "team_status",
    "upgrade_team",
]

log = logging.getLogger("walleo.engine.team")

INVITE_PREFIX = "walleo-invite:"
#: ``walleo-desktop simulator`` on this computer: for trying team mode with no real cards.
SIMULATOR_URL = "http://127.0.0.1:8765/partners/v1"
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
_WALLEO_SECRET = "walleo_credentials"  # noqa: S105 - a row name, not a password
Role = Literal["agent", "finance", "admin"]


def simulator_credentials() -> Credentials:
    """The simulator's fixed demo credentials (for a team that tries things out)."""
    from walleo_desktop.simulator import DEMO_CREDENTIALS

    return DEMO_CREDENTIALS


class TeamError(ConfigurationError):
    """A team set-up step that cannot be done, in words for the user."""

    code = "team"


@dataclass(frozen=True, slots=True)
class TeamConfig:
    """This desktop's membership (``team.json`` in the config dir; no secret in it)."""

    team_id: str
    url: str  # postgresql://member@host:port/db, never a password
    member: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.member} @ {describe_server(self.url)}"


def _config_path(config_dir: Path | None = None) -> Path:
    return (config_dir or default_config_dir()) / "team.json"


def load_team_config(config_dir: Path | None = None) -> TeamConfig | None:
    path = _config_path(config_dir)
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise TeamError(f"The team settings {path} cannot be read: {exc}") from exc
    try:
        return TeamConfig(**{k: str(data[k]) for k in ("team_id", "url", "member", "role")})
    except (KeyError, TypeError) as exc:
        raise TeamError(f"The team settings {path} are damaged.") from exc


def save_team_config(config: TeamConfig, config_dir: Path | None = None) -> None:
    write_private(_config_path(config_dir), json.dumps(asdict(config), indent=2).encode())


def forget_team_config(config_dir: Path | None = None) -> None:
    _config_path(config_dir).unlink(missing_ok=True)


# -- the keyring ---------------------------------------------------------------------------------


def _entry(kind: str, team_id: str, member: str) -> str:
    return f"team-{kind}:{team_id}:{member}"


def _keyring_set(kind: str, team_id: str, member: str, value: str) -> None:
    try:
        keyring.set_password(KEYRING_SERVICE, _entry(kind, team_id, member), value)
        stored = keyring.get_password(KEYRING_SERVICE, _entry(kind, team_id, member))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(
            f"Team mode keeps your team password and key in the system keyring, which cannot "
            f"store them ({exc}). Set up a keyring (GNOME Keyring, KWallet), then try again."
        ) from exc
    if stored != value:
        raise KeyringUnavailable(
            "The system keyring does not keep what is stored in it: team mode needs one that "
            "does (GNOME Keyring, KWallet)."
        )


def _keyring_peek(kind: str, team_id: str, member: str) -> str | None:
    try:
        return keyring.get_password(KEYRING_SERVICE, _entry(kind, team_id, member))
    except keyring.errors.KeyringError:
        return None


def _keyring_get(kind: str, team_id: str, member: str) -> str:
    try:
        value = keyring.get_password(KEYRING_SERVICE, _entry(kind, team_id, member))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(f"The system keyring cannot be read: {exc}") from exc
    if not value:
        raise TeamError(
            f"This desktop has no team {kind} for {member} in its keyring: join the team "
            "again with a new invite (`walleo-desktop team join CODE`)."
        )
    register_secret(value)
    return value


# -- keys ----------------------------------------------------------------------------------------


def _new_private_key() -> tuple[X25519PrivateKey, str]:
    key = X25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return key, raw.hex()


def _public_bytes(key: X25519PrivateKey | X25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public_key: bytes) -> str:
    """What an admin compares with the member before approving: 16 hex digits in groups."""
    digest = hashlib.sha256(b"walleo-desktop member key|" + public_key).hexdigest()[:16].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def _info(team_id: str, key_id: str, purpose: str, member: str) -> bytes:
    return f"walleo-desktop team key|{team_id}|{key_id}|{purpose}|{member}".encode()


def _wrap(
    key: bytes, public_key: bytes, team_id: str, key_id: str, purpose: str, member: str
) -> bytes:
    return _SUITE.encrypt(
        key,
        X25519PublicKey.from_public_bytes(public_key),
        info=_info(team_id, key_id, purpose, member),
    )


def _unwrap(
    wrapped: bytes, private: X25519PrivateKey, team_id: str, key_id: str, purpose: str, member: str
) -> bytes:
    try:
        return _SUITE.decrypt(wrapped, private, info=_info(team_id, key_id, purpose, member))
    except Exception as exc:
        raise TeamError(
            f"The team's {purpose} key ({key_id}) could not be opened with this desktop's key: "
            "ask an admin to approve this desktop again (`walleo-desktop team approve`)."
        ) from exc


def _seal(key: bytes, name: str, value: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, value.encode(), f"team-secret|{name}".encode())


def _open_sealed(key: bytes, name: str, value: bytes) -> str:
    return AESGCM(key).decrypt(value[:12], value[12:], f"team-secret|{name}".encode()).decode()


# -- connections ---------------------------------------------------------------------------------


def _member_url(url: str, member: str) -> str:
    """``url`` with ``member`` as its user and no password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    netloc = f"{quote(member)}@{'[' + host + ']' if ':' in host else host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _connect(url: str, password: str | None) -> TeamDb:
    if not url.startswith(("postgresql://", "postgres://")):
        raise TeamError(
            f"A team database is given as postgresql://USER@HOST:PORT/DATABASE (not {url[:40]!r})."
        )
    try:
        return TeamDb.connect(url, password)
    except StoreError as exc:
        raise TeamError(str(exc)) from exc


def _store_keys(
    db: TeamDb, team_id: str, member: str, public_key: bytes, keys: dict[tuple[str, str], bytes]
) -> None:
    """Wrap every (key_id, purpose) key of ``keys`` for ``member``."""
    db.store_wrapped(
        member,
        [
            (key_id, purpose, _wrap(key, public_key, team_id, key_id, purpose, member))
            for (key_id, purpose), key in sorted(keys.items())
        ],
    )


def _my_keys(
    db: TeamDb, team_id: str, member: str, private: X25519PrivateKey
) -> dict[tuple[str, str], bytes]:
    return {
        (key_id, purpose): _unwrap(wrapped, private, team_id, key_id, purpose, member)
        for key_id, purpose, wrapped in db.wrapped_for(member)
    }


def _version(key_id: str) -> int:
    return int(key_id[1:]) if key_id[1:].isdigit() else 0


# -- set-up --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invite:
    member: str
    role: str
    code: str  # give it to the member (in person, by phone): one use, 48 hours


def init_team(
    admin_url: str,
    *,
    admin_password: str | None,
    first_admin: str,
    walleo_credentials: Credentials,
    walleo_base_url: str,
    currency: str = "EUR",
    config_dir: Path | None = None,
) -> TeamConfig:
    """Create the team in the (empty) database of ``admin_url`` (a superuser's login, used
    only now), with ``first_admin`` as its first member, this desktop as theirs."""
    walleo_credentials.validate()
    problem = admin.member_name_problem(first_admin)
    if problem:
        raise TeamError(problem)
    team_id = secrets.token_hex(8)
    private, private_hex = _new_private_key()
    public = _public_bytes(private)
    keys = {("k1", "data"): new_data_key(), ("k1", "issuing"): new_data_key()}
    # The keyring first: a team whose admin's key was lost is a team no one can open.
    _keyring_set("key", team_id, first_admin, private_hex)
    with _connect(admin_url, admin_password) as db:
        try:
            db.create_team()
            password = db.add_member(
                first_admin, "admin", admin_rights=True, valid_for=timedelta(days=3650)
            )
            _keyring_set("db", team_id, first_admin, password)
            db.set_setting(
                "team",
                json.dumps({"team_id": team_id, "currency": currency, "base_url": walleo_base_url}),
            )
            db.publish_key(first_admin, public, new_password=None)
            db.keep_login(first_admin)
            _store_keys(db, team_id, first_admin, public, keys)
            _seal_credentials(db, keys[("k1", "issuing")], "k1", walleo_credentials)
        except StoreError as exc:
            raise TeamError(str(exc)) from exc
    config = TeamConfig(
        team_id=team_id, url=_member_url(admin_url, first_admin), member=first_admin, role="admin"
    )
    save_team_config(config, config_dir)
    log.info("team %s created on %s, first admin %s", team_id, db.label, first_admin)
    return config


def _seal_credentials(db: TeamDb, issuing: bytes, key_id: str, credentials: Credentials) -> None:
    value = json.dumps(
        {
            "api_key": credentials.api_key,
            "identifier": credentials.identifier,
            "shared_key": credentials.shared_key,
        }
    )
    db.set_secret(_WALLEO_SECRET, key_id, _seal(issuing, _WALLEO_SECRET, value))


class _Admin:
    """An admin's connection and private key, for the member-management commands."""

    def __init__(self, config: TeamConfig) -> None:
        if config.role != "admin":
            raise TeamError(f"Only a team admin can do this; {config.member} is {config.role}.")
        password = _keyring_get("db", config.team_id, config.member)
        self.private = X25519PrivateKey.from_private_bytes(
            bytes.fromhex(_keyring_get("key", config.team_id, config.member))
        )
        self.config = config
        self.db = _connect(config.url, password)

    def keys(self) -> dict[tuple[str, str], bytes]:
        return _my_keys(self.db, self.config.team_id, self.config.member, self.private)

    def __enter__(self) -> _Admin:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.close()
        if isinstance(exc, StoreError) and not isinstance(exc, TeamError):
            raise TeamError(str(exc)) from exc


def invite_member(config: TeamConfig, name: str, role: Role) -> Invite:
    """A login for ``name`` in ``role`` with a one-time password, and the code carrying it."""
    if role not in admin.GROUPS:
        raise TeamError(f"A member is an agent, finance or admin, not {role!r}.")
    with _Admin(config) as a:
        password = a.db.add_member(name, role, admin_rights=role == "admin")
    payload = {"v": 1, "team": config.team_id, "url": _member_url(config.url, name),
               "member": name, "role": role, "password": password}  # fmt: skip
    code = INVITE_PREFIX + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    register_secret(code, password)
    return Invite(member=name, role=role, code=code)


def read_invite(code: str) -> dict[str, str]:
    """What an invite code says (team, url, member, role, password), or TeamError."""
    code = "".join(code.split())
    try:
        if not code.startswith(INVITE_PREFIX):
            raise ValueError
        payload = json.loads(base64.urlsafe_b64decode(code[len(INVITE_PREFIX) :].encode()))
        return {k: str(payload[k]) for k in ("team", "url", "member", "role", "password")}
    except (ValueError, KeyError, TypeError):
        raise TeamError(
            "This is not a Walleo Desktop invite code: it starts with "
            f"{INVITE_PREFIX!r}; copy it whole."
        ) from None


def join_team(code: str, *, config_dir: Path | None = None) -> tuple[TeamConfig, str]:
    """Join with an invite code: replace the one-time password with this desktop's own, make
    this desktop's key pair and publish the public half. Returns the config and the key's
    fingerprint (to read to the admin, who approves it)."""
    invite = read_invite(code)
    register_secret(invite["password"])
    team_id, member = invite["team"], invite["member"]
    with _connect(invite["url"], invite["password"]) as db:
        own = admin.new_password()
        private, private_hex = _new_private_key()
        public = _public_bytes(private)
        _keyring_set("key", team_id, member, private_hex)
        # The new password goes to the keyring before the server has it: if the server then
        # fails, the invite's password still works and joining again replaces both.
        previous = _keyring_peek("db", team_id, member)
        _keyring_set("db", team_id, member, own)
        try:
            db.publish_key(member, public, new_password=own)
        except StoreError as exc:
            if previous:
                _keyring_set("db", team_id, member, previous)
            raise TeamError(str(exc)) from exc
    config = TeamConfig(team_id=team_id, url=invite["url"], member=member, role=invite["role"])
    save_team_config(config, config_dir)
    return config, fingerprint(public)


def approve_member(
    config: TeamConfig, name: str, *, expected_fingerprint: str | None = None
) -> str:
    """Give ``name`` the team's keys (every version they may need), wrapped for the public key
    their desktop published; returns its fingerprint. With ``expected_fingerprint`` (what the
    member read out), refuse a key that is not theirs."""
    with _Admin(config) as a:
        row = a.db.member(name)
        if row is None or row["removed_at"] is not None:
            raise TeamError(f"There is no current member named {name!r}.")
        public = row["public_key"]
        if public is None:
            raise TeamError(
                f"{name} has not joined yet: on their desktop they run "
                "`walleo-desktop team join CODE` (or Settings > Team > Join)."
            )
        found = fingerprint(public)
        if expected_fingerprint is not None and (
            "".join(expected_fingerprint.split()).upper() != found.replace(" ", "")
        ):
            raise TeamError(
                f"The key {name}'s desktop published has fingerprint {found}, not "
                f"{expected_fingerprint}: do not approve it; invite {name} again."
            )
        given = {k: v for k, v in a.keys().items() if row["role"] != "finance" or k[1] == "data"}
        _store_keys(a.db, config.team_id, name, public, given)
        a.db.keep_login(name)
    log.info("member %s approved (key %s)", name, found)
    return found


def remove_member(config: TeamConfig, name: str) -> str:
    """``name`` can no longer log in; the team gets new keys that are never wrapped for them.
    Returns the new key version."""
    if name == config.member:
        raise TeamError("You cannot remove yourself; ask another admin.")
    with _Admin(config) as a:
        a.db.remove_member(name)
        mine = a.keys()
        key_id = f"k{max((_version(k[0]) for k in mine), default=0) + 1}"
        fresh = {(key_id, "data"): new_data_key(), (key_id, "issuing"): new_data_key()}
        approved = a.db.members_with_keys()
        for member in a.db.members():
            if member["removed_at"] is not None or member["public_key"] is None:
                continue
            if member["name"] not in approved:
                continue  # not approved yet: approving gives them every version
            keys = {k: v for k, v in fresh.items() if member["role"] != "finance" or k[1] == "data"}
            _store_keys(a.db, config.team_id, member["name"], member["public_key"], keys)
        credentials = _read_credentials(a.db, mine)
        if credentials is not None:
            _seal_credentials(a.db, fresh[(key_id, "issuing")], key_id, credentials)
    log.info("member %s removed; team keys rotated to %s", name, key_id)
    return key_id


def set_team_credentials(config: TeamConfig, credentials: Credentials) -> None:
    """Replace the team's Walleo credentials (sealed with the current issuing key)."""
    credentials.validate()
    with _Admin(config) as a:
        mine = a.keys()
        issuing = sorted((k for k in mine if k[1] == "issuing"), key=lambda k: _version(k[0]))
        if not issuing:
            raise TeamError("This desktop has no issuing key of the team.")
        _seal_credentials(a.db, mine[issuing[-1]], issuing[-1][0], credentials)


def _read_credentials(db: TeamDb, keys: dict[tuple[str, str], bytes]) -> Credentials | None:
    found = db.secret(_WALLEO_SECRET)
    if found is None:
        return None
    key_id, value = found
    key = keys.get((key_id, "issuing"))
    if key is None:
        return None
    try:
        data = json.loads(_open_sealed(key, _WALLEO_SECRET, value))
    except Exception as exc:
        raise TeamError(
            "The team's Walleo credentials cannot be opened with the team's key: an admin "
            "sets them again (`walleo-desktop team credentials`)."
        ) from exc
    register_secret(data["api_key"], data["shared_key"])
    return Credentials(data["api_key"], data["identifier"], data["shared_key"])


def upgrade_team(admin_url: str, *, admin_password: str | None) -> list[int]:
    """Bring the team database at ``admin_url`` (a superuser's login) to this version's schema;
    the versions applied."""
    with _connect(admin_url, admin_password) as db:
        try:
            return db.upgrade_team()
        except StoreError as exc:
            raise TeamError(str(exc)) from exc


def leave_team(config: TeamConfig, config_dir: Path | None = None) -> None:
    """Forget this desktop's membership: its config and its keyring entries (the team and
    its history stay; an admin removes the member with ``team remove``)."""
    for kind in ("db", "key"):
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(KEYRING_SERVICE, _entry(kind, config.team_id, config.member))
    forget_team_config(config_dir)


# -- status --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberStatus:
    name: str
    role: str
    joined: bool
    approved: bool
    removed: bool
    fingerprint: str


@dataclass(frozen=True, slots=True)
class TeamStatus:
    team_id: str
    server: str
    me: str
    role: str
    schema_version: int | None
    key_versions: list[str]
    members: list[MemberStatus]


def team_status(config: TeamConfig) -> TeamStatus:
    password = _keyring_get("db", config.team_id, config.member)
    with _connect(config.url, password) as db:
        try:
            version = db.schema_version()
            approved = db.members_with_keys()  # an admin sees all; others only themselves
            mine = {k for k, _p, _w in db.wrapped_for(config.member)}
            members = [
                MemberStatus(
                    name=m["name"],
                    role=m["role"],
                    joined=m["public_key"] is not None,
                    approved=m["name"] in approved,
                    removed=m["removed_at"] is not None,
                    fingerprint=fingerprint(m["public_key"]) if m["public_key"] else "",
                )
                for m in db.members()
            ]
        except StoreError as exc:
            raise TeamError(str(exc)) from exc
    return TeamStatus(
        team_id=config.team_id,
        server=db.label,
        me=config.member,
        role=config.role,
        schema_version=version,
        key_versions=sorted(mine, key=_version),
        members=members,
    )


# -- opening the team's history ------------------------------------------------------------------


def _check_schema(db: TeamDb) -> None:
    from walleo_desktop.store.postgres.schema import SCHEMA_VERSION

    version = db.schema_version()
    if version is None:
        raise TeamError(
            f"The database {db.label} holds no Walleo Desktop team (it was never set up with "
            "`walleo-desktop team init`, or this is another database): check the server and "
            "database names with your team admin."
        )
    if version != SCHEMA_VERSION:
        newer = version > SCHEMA_VERSION
        raise TeamError(
            f"The team database {db.label} is at version {version}; this Walleo Desktop knows "
            f"version {SCHEMA_VERSION}. "
            + (
                "Update Walleo Desktop."
                if newer
                else "Ask a team admin to run `walleo-desktop team upgrade URL`."
            )
        )


@dataclass(frozen=True)
class TeamAccess:
    """What this member's desktop may use: the history's backend, the codes' keys, and (agents
    and admins) the team's Walleo credentials."""

    config: TeamConfig
    backend: PostgresBackend
    credentials: Credentials | None
    base_url: str
    currency: str

    @property
    def can_issue(self) -> bool:
        return self.credentials is not None and self.config.role in ("agent", "admin")


def open_team(config: TeamConfig) -> TeamAccess:
    """Log in as this member, open the team history with the team's keys. Blocking."""
    password = _keyring_get("db", config.team_id, config.member)
    private = X25519PrivateKey.from_private_bytes(
        bytes.fromhex(_keyring_get("key", config.team_id, config.member))
    )
    with _connect(config.url, password) as db:
        try:
            _check_schema(db)
            keys = _my_keys(db, config.team_id, config.member, private)
            if not keys:
                raise TeamError(
                    f"{config.member} has joined the team but is not approved yet: an admin "
                    f"runs `walleo-desktop team approve {config.member}` after checking your "
                    "key's fingerprint."
                )
            settings = json.loads(db.setting("team") or "{}")
            credentials = _read_credentials(db, keys)
        except StoreError as exc:
            raise TeamError(str(exc)) from exc
    if not settings.get("base_url"):
        raise TeamError("The team database has no Walleo address: it was not set up whole.")
    data = sorted((k for k in keys if k[1] == "data"), key=lambda k: _version(k[0]))
    ciphers = [CardCipher(keys[k], history_id=config.team_id, key_id=k[0]) for k in data]
    cipher = CipherSet(ciphers[-1], ciphers[:-1])
    try:
        backend = PostgresBackend.open(config.url, password=password, cipher=cipher)
    except StoreError as exc:
        raise TeamError(str(exc)) from exc
    return TeamAccess(
        config=config,
        backend=backend,
        credentials=credentials if config.role in ("agent", "admin") else None,
        base_url=str(settings.get("base_url") or ""),
        currency=str(settings.get("currency") or "EUR"),
    )
