"""Connection profiles: names and URLs in a JSON file, credentials in the OS keyring only.

Resolution order for a session (CLI and window alike):
1. ``WALLEO_API_KEY`` + ``WALLEO_IDENTIFIER`` + ``WALLEO_SHARED_KEY`` in the environment (with
   ``WALLEO_BASE_URL`` or the profile's URL or production);
2. the named or active profile, its credentials read from the keyring; or the team this
   desktop joined (``team.json``, ``engine.team``: profile name ``team``), its credentials
   read from the team database once its member is logged in;
3. otherwise demo mode on the built-in simulator.
Credentials are never accepted as command-line arguments and never written to disk in clear.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyring
import keyring.backends.fail
import keyring.errors
import platformdirs

from walleo_desktop.api.client import DEFAULT_BASE_URL, Credentials, is_loopback_url
from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.engine.files import write_private

if TYPE_CHECKING:
    from walleo_desktop.engine.team import TeamConfig

#: The profile name (and ``active`` value) of the team this desktop joined.
TEAM_PROFILE = "team"

__all__ = [
    "KEYRING_SERVICE",
    "Connection",
    "KeyringUnavailable",
    "Profile",
    "Profiles",
    "default_config_dir",
    "keyring_available",
    "resolve_connection",
]

log = logging.getLogger("walleo.engine.profiles")

KEYRING_SERVICE = "walleo-desktop"
ENV_VARS = ("WALLEO_API_KEY", "WALLEO_IDENTIFIER", "WALLEO_SHARED_KEY")


class KeyringUnavailable(ConfigurationError):
    """No usable OS keyring (no Secret Service daemon, locked, refused)."""

    code = "keyring_unavailable"


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir("walleo-desktop", appauthor=False))


def keyring_available() -> bool:
    try:
        return not isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)
    except Exception:  # a broken backend configuration must not crash start-up
        return False


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    base_url: str = DEFAULT_BASE_URL
    currency: str = "EUR"
    get_signing: str = "empty-segment"


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything needed to build a client. ``demo`` means the in-process simulator."""

    profile: str
    base_url: str
    credentials: Credentials | None
    currency: str = "EUR"
    demo: bool = False
    source: str = "demo"  # "demo" | "environment" | "profile" | "team"
    get_signing: str = "empty-segment"
    team: TeamConfig | None = None  # team mode: the rest is filled in when the team opens

    @property
    def label(self) -> str:
        if self.team is not None:
            return self.team.label
        return "DEMO" if self.demo else self.profile


class Profiles:
    """The profiles file (``profiles.json`` in the config dir) and the keyring entries."""

    def __init__(self, config_dir: Path | None = None) -> None:
        self.config_dir = config_dir or default_config_dir()
        self.path = self.config_dir / "profiles.json"

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {"active": None, "profiles": []}
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"The profiles file {self.path} cannot be read: {exc}"
            ) from exc
        if not isinstance(data, dict):
            raise ConfigurationError(f"The profiles file {self.path} is not valid.")
        return data

    def _write(self, data: dict[str, Any]) -> None:
        write_private(self.path, json.dumps(data, indent=2, sort_keys=True).encode("utf-8"))

    def list(self) -> list[Profile]:
        out = []
        for item in self._read().get("profiles", []):
            if isinstance(item, dict) and item.get("name"):
                known = {k: v for k, v in item.items() if k in Profile.__dataclass_fields__}
                out.append(Profile(**known))
        return out

    def get(self, name: str) -> Profile | None:
        return next((p for p in self.list() if p.name == name), None)

    @property
    def active(self) -> str | None:
        value = self._read().get("active")
        if value == TEAM_PROFILE:
            return value if (self.config_dir / "team.json").is_file() else None
        return value if isinstance(value, str) and self.get(value) else None

    def set_active(self, name: str | None) -> None:
        data = self._read()
        data["active"] = name
        self._write(data)

    def save(self, profile: Profile) -> None:
        if not profile.name.strip():
            raise ConfigurationError("A profile needs a name.")
        data = self._read()
        items = [p for p in data.get("profiles", []) if p.get("name") != profile.name]
        items.append(asdict(profile))
        data["profiles"] = sorted(items, key=lambda p: str(p.get("name")))
        self._write(data)

    def delete(self, name: str) -> None:
        data = self._read()
        data["profiles"] = [p for p in data.get("profiles", []) if p.get("name") != name]
        if data.get("active") == name:
            data["active"] = None
        self._write(data)
        with contextlib.suppress(keyring.errors.KeyringError):
            keyring.delete_password(KEYRING_SERVICE, f"profile:{name}")

    # -- secrets: blocking calls; the window runs them off the GUI thread with a timeout.

    def load_credentials(self, name: str) -> Credentials | None:
        try:
            raw = keyring.get_password(KEYRING_SERVICE, f"profile:{name}")
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"The system keyring cannot be read: {exc}") from exc
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return Credentials(
                api_key=str(data["api_key"]),
                identifier=str(data["identifier"]),
                shared_key=str(data["shared_key"]),
            )
        except (ValueError, KeyError, TypeError):
            raise ConfigurationError(f"The keyring entry of profile {name!r} is damaged.") from None

    def save_credentials(self, name: str, credentials: Credentials) -> None:
        credentials.validate()
        value = json.dumps(
            {
                "api_key": credentials.api_key,
                "identifier": credentials.identifier,
                "shared_key": credentials.shared_key,
            }
        )
        try:
            keyring.set_password(KEYRING_SERVICE, f"profile:{name}", value)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(
                f"The system keyring cannot store the credentials: {exc}"
            ) from exc


def resolve_connection(
    profiles: Profiles,
    profile_name: str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    session_credentials: Callable[[str], Credentials | None] | None = None,
) -> Connection:
    """Decide what to talk to. Raises ``ConfigurationError`` with a sentence for the user.

    ``session_credentials`` looks up credentials kept in memory for this run (the window keeps
    them there when no keyring can store them); it is asked when the keyring has none or fails.
    """
    env = os.environ if env is None else env
    given = [var for var in ENV_VARS if env.get(var)]
    profile = None
    wants_team = profile_name == TEAM_PROFILE or (
        not profile_name and not given and not env.get("WALLEO_BASE_URL")
        and profiles.active == TEAM_PROFILE
    )  # fmt: skip
    if wants_team:
        from walleo_desktop.engine.team import load_team_config

        team = load_team_config(profiles.config_dir)
        if team is None:
            raise ConfigurationError(
                "This desktop has not joined a team: `walleo-desktop team join CODE` (or "
                "Settings > Team)."
            )
        return Connection(
            profile=f"team:{team.team_id}", base_url="", credentials=None, source="team", team=team
        )
    if profile_name:
        profile = profiles.get(profile_name)
        if profile is None:
            raise ConfigurationError(f"There is no profile named {profile_name!r}.")
    elif given or not env.get("WALLEO_BASE_URL"):
        active = profiles.active
        profile = profiles.get(active) if active else None
    if given:
        if len(given) != len(ENV_VARS):
            missing = ", ".join(v for v in ENV_VARS if v not in given)
            raise ConfigurationError(
                f"Incomplete credentials in the environment: {missing} missing."
            )
        env_creds = Credentials(
            env["WALLEO_API_KEY"], env["WALLEO_IDENTIFIER"], env["WALLEO_SHARED_KEY"]
        )
        env_creds.validate()
        base = env.get("WALLEO_BASE_URL") or (profile.base_url if profile else DEFAULT_BASE_URL)
        return Connection(
            profile=profile.name if profile else "environment",
            base_url=base,
            credentials=env_creds,
            currency=profile.currency if profile else "EUR",
            source="environment",
            get_signing=profile.get_signing if profile else "empty-segment",
        )
    if env.get("WALLEO_BASE_URL") and profile is None:
        base = env["WALLEO_BASE_URL"]
        if not is_loopback_url(base):
            raise ConfigurationError(
                "WALLEO_BASE_URL is set but no credentials are: set WALLEO_API_KEY, "
                "WALLEO_IDENTIFIER and WALLEO_SHARED_KEY too."
            )
        from walleo_desktop.simulator import DEMO_CREDENTIALS

        # A simulator on this machine (`walleo-desktop simulator`) with its demo credentials.
        return Connection(
            profile="local simulator",
            base_url=base,
            credentials=DEMO_CREDENTIALS,
            source="environment",
        )
    if profile is not None:
        try:
            creds = profiles.load_credentials(profile.name)
        except KeyringUnavailable:
            creds = session_credentials(profile.name) if session_credentials else None
            if creds is None:
                raise
        if creds is None and session_credentials is not None:
            creds = session_credentials(profile.name)
        if creds is None:
            raise ConfigurationError(
                f"No credentials are stored for profile {profile.name!r}: enter them in the "
                "window's Settings, or run `walleo-desktop profile set "
                f"{profile.name}`."
            )
        return Connection(
            profile=profile.name,
            base_url=profile.base_url,
            credentials=creds,
            currency=profile.currency,
            source="profile",
            get_signing=profile.get_signing,
        )
    return Connection(profile="demo", base_url="", credentials=None, demo=True, source="demo")
