"""A PostgreSQL server of our own in one directory: for the tests, and for trying team mode.

``PgServer(directory)`` runs Debian's PostgreSQL 15 binaries (``pg_config --bindir``) on a
cluster kept entirely in ``directory``::

    directory/            0700, owned by the user the server runs as
      data/               the cluster (PGDATA); data/walleo.conf is rewritten at every start
      admin-password      the superuser's password (0600), also initdb's --pwfile
      server.log          the server's log
      .s.PGSQL.<port>     its unix socket (unless the path would be too long: see below)

Connections over the unix socket are trusted (``admin_connect()``); over TCP on 127.0.0.1 they
need the password (SCRAM), as team mode's ``postgresql://`` URLs do (``url()``).

As root (CI), ``initdb`` refuses to run, so the server runs as Debian's ``postgres`` user
through ``runuser`` (or ``walleo-pg``, created with ``useradd --system`` when neither exists;
``WALLEO_PG_USER`` picks another). The directory is then chowned to that user, and every
parent must be searchable by it: ``PgServer.temporary()`` makes one under /tmp for that
reason (pytest's own tmp dirs under /tmp/pytest-of-root are 0700).

A unix socket path must fit in 107 bytes (``sun_path``); when ``directory`` is too deep for
that, the socket goes into a short directory under /tmp instead, removed at ``stop()``.

Command line (``scripts/team-postgres.sh`` calls it)::

    python -m walleo_desktop.devtools.pgserver start|stop|status --dir DIR --port PORT

Nothing of the app imports this module (import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

SUPERUSER = "postgres"
HOST = "127.0.0.1"
RUN_AS_CANDIDATES = ("postgres", "walleo-pg")  # Debian's package user, then our own
SOCKET_PATH_MAX = 107  # bytes: sizeof(sockaddr_un.sun_path) is 108 with the final NUL
NOT_INSTALLED = (
    "PostgreSQL is not installed: run scripts/bootstrap.sh --test "
    "(it installs Debian's postgresql package)"
)
BINARIES = ("initdb", "pg_ctl", "postgres")
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")  # Debian's postgresql-NN packages: NN/bin

StopMode = Literal["smart", "fast", "immediate"]


class PgServerError(RuntimeError):
    """The server could not be set up, started or stopped; the message says why."""


class PidFile(NamedTuple):
    """What a running postmaster wrote in ``data/postmaster.pid``."""

    pid: int
    port: int
    socket_dir: Path


@dataclass(frozen=True)
class PgDatabase:
    """One database of a ``PgServer``, as ``create_database()`` returns it."""

    server: PgServer
    name: str

    @property
    def url(self) -> str:
        """``postgresql://postgres:PASSWORD@127.0.0.1:PORT/NAME`` (TCP, password)."""
        return self.server.url(self.name)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[TupleRow]:
        """A new connection to it as superuser, over TCP with the password."""
        return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10)


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres, or PgServerError(NOT_INSTALLED).

    ``WALLEO_PG_BINDIR`` first, then ``pg_config --bindir`` (on Debian /usr/bin/pg_config
    answers for the newest installed server), then the newest /usr/lib/postgresql/*/bin.
    """
    candidates: list[Path] = []
    if env := os.environ.get("WALLEO_PG_BINDIR"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(  # noqa: S603 - pg_config found on PATH, no input of ours
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    versions = DEBIAN_PG_ROOT.glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version_key(p.parent.name), reverse=True)
    for bindir in candidates:
        if all(os.access(bindir / name, os.X_OK) for name in BINARIES):
            return bindir
    looked = (
        ", ".join(str(c) for c in candidates) or "pg_config not on PATH, no /usr/lib/postgresql"
    )
    raise PgServerError(f"{NOT_INSTALLED} (no initdb/pg_ctl/postgres in: {looked})")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether a server could not listen on host:port (PostgreSQL sets SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def free_port(host: str = HOST) -> int:
    """A TCP port free on host right now (another program may take it before we do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _ensure_run_as_user() -> str:
    """As root: the unprivileged user the server runs as, created when there is none."""
    wanted = os.environ.get("WALLEO_PG_USER")
    for name in (wanted,) if wanted else RUN_AS_CANDIDATES:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    if wanted:
        raise PgServerError(f"WALLEO_PG_USER={wanted}: no such user")
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    name = RUN_AS_CANDIDATES[-1]
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", name],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise PgServerError(
            f"initdb refuses to run as root and there is no 'postgres' user; creating the "
            f"system user {name!r} failed: {done.stderr.strip()}"
        )
    return name


def _process_state(pid: int) -> str | None:
    """The state letter of a process (R, S, Z...), or None if there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:  # no /proc (not Linux): ask the kernel the portable way
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    return stat.rsplit(")", 1)[1].split()[0]


def _alive(pid: int) -> bool:
    return _process_state(pid) not in (None, "Z", "X")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class PgServer:
    """A PostgreSQL cluster in ``directory``, started on 127.0.0.1:``port``.

    ``port=None`` picks a free port at the first start and keeps it for later ones.
    ``durable=False`` (tests) runs with fsync and full_page_writes off (synchronous_commit
    stays on): a committed row survives a killed server, not a crashed machine.
    ``timings`` keeps how long the last initdb, start, stop and kill took, in seconds.
    """

    directory: Path
    port: int | None = None
    superuser: str = SUPERUSER
    durable: bool = False
    max_connections: int = 300
    shared_buffers: str = "64MB"
    timings: dict[str, float] = field(default_factory=dict)
    _bindir: Path | None = field(default=None, init=False, repr=False)
    _run_as: str | None = field(default=None, init=False, repr=False)
    _socket_dir: Path | None = field(default=None, init=False, repr=False)
    _short_socket_dir: Path | None = field(default=None, init=False, repr=False)
    _temporary: bool = field(default=False, init=False, repr=False)
    _auto_port: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory).absolute()
        self._auto_port = self.port is None
        if os.geteuid() == 0:
            self._run_as = _ensure_run_as_user()
        if (running := self.pidfile()) is not None:  # adopt a server started earlier
            self.port, self._socket_dir = running.port, running.socket_dir

    @classmethod
    def temporary(cls, **options: Any) -> PgServer:
        """A server in a new directory under /tmp, removed by ``remove()`` (or ``with``)."""
        parent = "/tmp" if os.geteuid() == 0 else None  # noqa: S108 - searchable by postgres
        directory = Path(tempfile.mkdtemp(prefix="walleo-pg-", dir=parent))
        try:
            server = cls(directory, **options)
        except BaseException:
            directory.rmdir()
            raise
        server._temporary = True
        return server

    # --- where things are -------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def password_file(self) -> Path:
        return self.directory / "admin-password"

    @property
    def log_file(self) -> Path:
        return self.directory / "server.log"

    @property
    def run_as(self) -> str | None:
        """The user the server runs as when we are root (``postgres``); None otherwise."""
        return self._run_as

    @property
    def socket_dir(self) -> Path:
        """The directory of the unix socket (``host=`` for libpq); set once started."""
        if self._socket_dir is None:
            raise PgServerError("the server has not been started")
        return self._socket_dir

    @property
    def password(self) -> str:
        """The superuser's password (from ``admin-password``)."""
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            raise PgServerError(f"no password file {self.password_file}") from None

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    # --- life cycle ------------------------------------------------------------------------

    def init(self) -> None:
        """Create the cluster (initdb) unless there is one already."""
        if self.initialized:
            return
        bindir = self.bindir
        self._prepare_directory()
        password = secrets.token_urlsafe(18)
        self._write_private(self.password_file, password + "\n")
        started = time.monotonic()
        self._run(
            [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", self.superuser,
             "--auth-local=trust", "--auth-host=scram-sha-256",
             f"--pwfile={self.password_file}", "--encoding=UTF8", "--locale=C.UTF-8",
             "--no-instructions", *([] if self.durable else ["--no-sync"])],
            what="initdb",
        )  # fmt: skip
        self.timings["initdb"] = time.monotonic() - started
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# Walleo Desktop dev tools (rewritten at every start)\n")
            conf.write("include_if_exists = 'walleo.conf'\n")

    def start(self, timeout: int = 30) -> Self:
        """Start the server (creating the cluster first if needed); nothing if it runs."""
        if (running := self.pidfile()) is not None:
            self.port, self._socket_dir = running.port, running.socket_dir
            return self
        self.init()
        attempts = 3 if self._auto_port else 1
        for attempt in range(1, attempts + 1):
            if self.port is None or (self._auto_port and (attempt > 1 or port_in_use(self.port))):
                self.port = free_port()  # the first time, or the last one was taken meanwhile
            elif port_in_use(self.port):
                raise PgServerError(
                    f"port {self.port} on {HOST} is already in use by another program "
                    f"(see: ss -ltnp 'sport = :{self.port}'); choose another port (for "
                    f"scripts/team-postgres.sh: WALLEO_TEAM_PG_PORT=...)"
                )
            self._socket_dir = self._choose_socket_dir(self.port)
            self._write_conf()
            log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
            started = time.monotonic()
            done = self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                 "-w", "-t", str(timeout), "start"],
                check=False,
            )  # fmt: skip
            if done.returncode == 0:
                self.timings["start"] = time.monotonic() - started
                return self
            log = self._read_log(log_start)
            if "could not bind" in log and attempt < attempts:
                continue  # someone took the free port meanwhile: pick another
            self._forget_short_socket_dir()
            raise PgServerError(
                f"PostgreSQL did not start (pg_ctl exit {done.returncode}): "
                f"{(done.stdout + done.stderr).strip()}\n--- {self.log_file}:\n{log.strip()}"
            )
        raise AssertionError("unreachable")

    def stop(self, mode: StopMode = "fast", timeout: int = 30) -> None:
        """Stop the server (``immediate`` is fastest and fine for throwaway data)."""
        if self.is_running():
            started = time.monotonic()
            self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w",
                 "-t", str(timeout), "stop"],
                what="pg_ctl stop",
            )  # fmt: skip
            self.timings["stop"] = time.monotonic() - started
        self._forget_short_socket_dir()

    def kill(self, timeout: float = 5.0) -> None:
        """Hard-kill the server as a crash would: SIGKILL to the postmaster and every backend.

        ``start()`` afterwards runs crash recovery on the same data directory.
        """
        running = self.pidfile()
        if running is None:
            raise PgServerError("the server is not running")
        started = time.monotonic()
        os.kill(running.pid, signal.SIGSTOP)  # it must not fork nor restart children meanwhile
        victims = [*_children(running.pid), running.pid]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while any(_alive(pid) for pid in victims):
            if time.monotonic() > deadline:
                raise PgServerError(f"server processes {victims} survived SIGKILL")
            time.sleep(0.01)
        # An unreaped zombie keeps its pid, and the next postmaster would take the lock files
        # naming it for a live server: they are stale, remove them.
        for stale in (
            self.data_dir / "postmaster.pid",
            running.socket_dir / f".s.PGSQL.{running.port}.lock",
        ):
            stale.unlink(missing_ok=True)
        self.timings["kill"] = time.monotonic() - started

    def remove(self) -> None:
        """Stop the server at once and delete its directory."""
        self.stop(mode="immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            if self._temporary:
                self.remove()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._temporary:
            self.remove()
        else:
            self.stop()

    # --- state -----------------------------------------------------------------------------

    def pidfile(self) -> PidFile | None:
        """The running postmaster's pid, port and socket directory; None when not running."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            pid, port, socket_dir = int(lines[0]), int(lines[3]), Path(lines[4])
        except (IndexError, ValueError):  # being written, or a stale partial file
            return None
        return PidFile(pid, port, socket_dir) if _alive(pid) else None

    def is_running(self) -> bool:
        return self.pidfile() is not None

    # --- connecting ------------------------------------------------------------------------

    def url(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        """``postgresql://user:password@127.0.0.1:port/dbname``: the superuser and its
        password unless another user is given (then without a password unless given)."""
        if self.port is None:
            raise PgServerError("the server has not been started")
        if user is None:
            user, password = self.superuser, self.password if password is None else password
        auth = quote(user, safe="")
        if password is not None:
            auth += ":" + quote(password, safe="")
        return f"postgresql://{auth}@{HOST}:{self.port}/{quote(dbname, safe='')}"

    def admin_connect(self, dbname: str = "postgres") -> psycopg.Connection[TupleRow]:
        """A new autocommit connection as superuser over the unix socket (trusted)."""
        return psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=self.superuser, dbname=dbname,
            autocommit=True, connect_timeout=10,
        )  # fmt: skip

    def create_database(self, name: str, template: str | None = None) -> PgDatabase:
        """CREATE DATABASE name [TEMPLATE template], owned by the superuser."""
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.admin_connect() as conn:
            conn.execute(query)
        return PgDatabase(self, name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE IF EXISTS name WITH (FORCE): its open connections are ended."""
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.admin_connect() as conn:
            conn.execute(query)

    # --- helpers ---------------------------------------------------------------------------

    def _prepare_directory(self) -> None:
        if self._run_as is not None:
            # Refuse before creating anything: the deepest existing ancestor must be searchable
            # by the server's user (then so are all of its own parents).
            existing = next(p for p in self.directory.parents if p.exists())
            self._check_reachable(existing, "-x")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        if self._run_as is not None:
            entry = pwd.getpwnam(self._run_as)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
            self._check_reachable(self.directory, "-w")

    def _check_reachable(self, path: Path, test: str) -> None:
        done = self._run(["test", "-x", str(path), "-a", test, str(path)], check=False, cwd="/")
        if done.returncode == 0:
            return
        blocking = next((p for p in path.parents if not p.stat().st_mode & 0o001), None)
        why = f": {blocking} is not searchable by others" if blocking else ""
        raise PgServerError(
            f"PostgreSQL runs as {self._run_as!r} (initdb refuses root), who cannot reach "
            f"{self.directory}{why}. Choose a directory it can reach, e.g. "
            f"WALLEO_TEAM_PG_DIR=/var/lib/walleo-desktop/team-postgres for "
            f"scripts/team-postgres.sh."
        )

    def _choose_socket_dir(self, port: int) -> Path:
        if len(os.fsencode(self.directory / f".s.PGSQL.{port}")) <= SOCKET_PATH_MAX:
            return self.directory
        if self._short_socket_dir is None:
            short = Path(tempfile.mkdtemp(prefix="walleo-pg-", dir="/tmp"))  # short on purpose
            if self._run_as is not None:
                entry = pwd.getpwnam(self._run_as)
                os.chown(short, entry.pw_uid, entry.pw_gid)
            self._short_socket_dir = short
        return self._short_socket_dir

    def _forget_short_socket_dir(self) -> None:
        if self._short_socket_dir is not None:
            shutil.rmtree(self._short_socket_dir, ignore_errors=True)
            self._short_socket_dir = None

    def _write_conf(self) -> None:
        def literal(value: object) -> str:
            return "'" + str(value).replace("'", "''") + "'"

        settings: dict[str, object] = {
            "listen_addresses": literal(HOST),
            "port": self.port,
            "unix_socket_directories": literal(self.socket_dir),
            "max_connections": self.max_connections,
            "shared_buffers": literal(self.shared_buffers),
        }
        if not self.durable:
            # Nothing waits for the disk, but a commit still reaches the OS before it returns:
            # with synchronous_commit=off a row committed just before kill() was lost (its WAL
            # was still in the server's memory). With fsync off, "on" costs a write(), no more.
            settings |= {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "on"}
        text = "".join(f"{name} = {value}\n" for name, value in settings.items())
        self._write_private(self.data_dir / "walleo.conf", text)

    def _write_private(self, path: Path, text: str) -> None:
        """Write a 0600 file owned by the user the server runs as."""
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        if self._run_as is not None:
            entry = pwd.getpwnam(self._run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _read_log(self, offset: int) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def _run(
        self,
        command: list[str],
        *,
        check: bool = True,
        what: str | None = None,
        cwd: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        if self._run_as is not None:
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            command = [runuser, "-u", self._run_as, "--", *command]
        # The caller's PG* variables (PGPORT, PGDATA, PGHOST...) must not steer our server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        done = subprocess.run(  # noqa: S603 - our own argument lists
            command, cwd=cwd or self.directory, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise PgServerError(
                f"{what or command[0]} failed (exit {done.returncode}): "
                f"{(done.stderr or done.stdout).strip()}"
            )
        return done


# --- command line: scripts/team-postgres.sh ---------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m walleo_desktop.devtools.pgserver",
        description="A local PostgreSQL cluster for trying Walleo Desktop's team mode.",
    )
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", required=True, type=Path, help="the cluster's directory")
    parser.add_argument("--port", type=int, default=54329, help="TCP port on 127.0.0.1")
    args = parser.parse_args(argv)
    try:
        server = PgServer(args.dir, port=args.port, durable=True)
        if args.command == "start":
            return _start(server, args.port)
        if args.command == "stop":
            if not server.is_running():
                print(f"not running (cluster in {server.directory})")
                return 0
            server.stop()
            print("stopped")
            return 0
        return _status(server)
    except PgServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


TEAM_DATABASE = "walleo"


def _start(server: PgServer, port: int) -> int:
    if server.is_running():
        print(f"already running on {HOST}:{server.port} (cluster in {server.directory})")
        if server.port != port:
            print(f"note: it runs on port {server.port}, not {port}: stop it first to move it")
        _ensure_team_database(server)
        _print_url(server)
        return 0
    server.start()
    _ensure_team_database(server)
    print(f"started PostgreSQL on {HOST}:{server.port} (cluster in {server.directory})")
    _print_url(server)
    return 0


def _ensure_team_database(server: PgServer) -> None:
    with server.admin_connect() as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [TEAM_DATABASE]
        ).fetchone()
    if found is None:
        server.create_database(TEAM_DATABASE)


def _print_url(server: PgServer) -> None:
    url = server.url(TEAM_DATABASE, user=server.superuser)
    print(f"team database: {url}")
    print(f"superuser password in {server.password_file} (readable by you only); create the")
    print("team (a Walleo stand-in: `walleo-desktop simulator`) with")
    print(
        f'  PGPASSWORD="$(cat {server.password_file})" walleo-desktop team init {url} '
        "--admin lea --walleo-simulator"
    )


def _status(server: PgServer) -> int:
    running = server.pidfile()
    if running is None:
        where = "no cluster" if not server.initialized else "a cluster, not running,"
        print(f"not running ({where} in {server.directory})")
        return 3
    print(f"running (pid {running.pid}) on {HOST}:{running.port}, cluster in {server.directory}")
    _print_url(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
