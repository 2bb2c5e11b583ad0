"""The local Neo4j server that runs without Docker.

``pubgraph neo4j start`` resolves Neo4j Community (``org.neo4j:neo4j``) from Maven Central
with the small pom beside this module (jars stay in the user's Maven repository), and runs
the real engine through a tiny Java launcher around ``DatabaseManagementServiceBuilder``
with a Bolt connector on 127.0.0.1. Data lives under ``Settings.neo4j_dir`` and survives
stop/start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pubgraph.core.errors import ConfigError, Neo4jUnavailable
from pubgraph.core.settings import Settings, is_loopback

SERVER_DIR = Path(__file__).resolve().parent / "server"
POM = SERVER_DIR / "pom.xml"
LAUNCHER = SERVER_DIR / "PubgraphNeo4j.java"
MIN_JAVA = 17
# Neo4j refuses shorter passwords (dbms.security.auth_minimum_password_length, default 8).
MIN_PASSWORD_LENGTH = 8
# Printed by the launcher when start-up fails, before it exits non-zero.
FAILED_MARKER = "pubgraph-neo4j: start-up failed:"

# The JVM options Neo4j's own start script passes on Java 17.
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+AlwaysPreTouch",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
)


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    uri: str
    version: str | None
    home: Path


def _cache_dir() -> Path:
    base = os.environ.get("PUBGRAPH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "pubgraph"
    )
    return Path(base)


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A currently free TCP port on host (for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        # A zombie (exited child not yet reaped) is not alive.
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def check_exposure(settings: Settings) -> None:
    """Refuse a local server open to other machines without a password; warn (on stderr)
    when it is open to them with one (``PUBGRAPH_NEO4J_HOST`` beyond loopback)."""
    host = settings.neo4j_host
    if is_loopback(host):
        return
    if not settings.neo4j_auth:
        raise ConfigError(
            f"refusing to start Neo4j on {host} with authentication off: anyone who can "
            "reach this machine could read and delete the graph; turn auth on or bind to "
            "127.0.0.1",
            "PUBGRAPH_NEO4J_HOST / PUBGRAPH_NEO4J_AUTH",
        )
    import sys

    print(
        f"warning: Neo4j will listen on {host}:{settings.neo4j_port}, reachable from other "
        "machines (password required); set PUBGRAPH_NEO4J_HOST=127.0.0.1 to keep it local",
        file=sys.stderr,
    )


class LocalNeo4j:
    """Start, stop and inspect the local Neo4j server described by ``settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.neo4j_dir.resolve()
        self.pid_file = self.home / "server.pid"
        self.state_file = self.home / "server.json"
        self.log_file = self.home / "logs" / "pubgraph-neo4j.log"
        self.password_file = self.home / "password"

    # -- prerequisites -------------------------------------------------------------------
    def java(self) -> str:
        """The java binary, checked to be Java 17 or newer."""
        java = shutil.which(self.settings.java)
        if java is None:
            raise ConfigError(
                f"Java {MIN_JAVA}+ is needed for the local Neo4j server, but "
                f"'{self.settings.java}' was not found (or use Docker and set NEO4J_URI)",
                "PUBGRAPH_JAVA",
            )
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        m = re.search(r'version "(\d+)', out)
        if not m or int(m.group(1)) < MIN_JAVA:
            raise ConfigError(
                f"{java} is not Java {MIN_JAVA}+ ({out.strip()[:80]})", "PUBGRAPH_JAVA"
            )
        return java

    def classpath(self) -> str:
        """The engine's classpath, resolved once by Maven and cached per Neo4j version."""
        version = self.settings.neo4j_version
        cp_file = _cache_dir() / f"neo4j-{version}.classpath"
        if cp_file.exists():
            cp = cp_file.read_text().strip()
            if cp and all(os.path.exists(p) for p in cp.split(os.pathsep)):
                return cp
        mvn = shutil.which(self.settings.maven)
        if mvn is None:
            raise ConfigError(
                f"Maven ('{self.settings.maven}') is needed once to fetch Neo4j {version} "
                "from Maven Central, but was not found",
                "PUBGRAPH_MAVEN",
            )
        cp_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cp_file.with_suffix(".tmp")
        proc = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(POM),
                "dependency:build-classpath",
                f"-Dneo4j.version={version}",
                f"-Dmdep.outputFile={tmp}",
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not tmp.exists():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            raise Neo4jUnavailable(
                f"Maven could not resolve org.neo4j:neo4j:{version}: {' '.join(tail)}",
                "PUBGRAPH_NEO4J_VERSION",
            )
        tmp.replace(cp_file)
        return cp_file.read_text().strip()

    def launcher_classes(self, java: str, cp: str) -> Path:
        """The launcher compiled once per Neo4j version and launcher source."""
        digest = hashlib.sha256(LAUNCHER.read_bytes()).hexdigest()[:12]
        out = _cache_dir() / f"launcher-{self.settings.neo4j_version}-{digest}"
        if (out / "PubgraphNeo4j.class").exists():
            return out
        javac = shutil.which("javac", path=str(Path(java).resolve().parent)) or shutil.which(
            "javac"
        )
        if javac is None:
            raise ConfigError("javac (a JDK 17+, not only a JRE) is needed", "PUBGRAPH_JAVA")
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [javac, "-cp", cp, "-d", str(tmp), str(LAUNCHER)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise Neo4jUnavailable(
                f"could not compile {LAUNCHER.name}: {proc.stderr.strip()[:300]}"
            )
        with contextlib.suppress(OSError):
            tmp.rename(out)
        shutil.rmtree(tmp, ignore_errors=True)
        return out

    def password(self, *, create: bool = False) -> str | None:
        """The password of the local server (None when auth is off, or when no password is
        set and the password file does not exist yet).

        Only ``start`` passes ``create=True``: a read-only command never writes a new
        password file (that would not match the password the server already has).
        """
        if not self.settings.neo4j_auth:
            return None
        if self.settings.neo4j_password:
            return self.settings.neo4j_password
        if self.password_file.exists():
            return self.password_file.read_text().strip()
        if not create:
            return None
        self.home.mkdir(parents=True, exist_ok=True)
        pw = secrets.token_urlsafe(18)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(pw)
        return pw

    def password_source(self) -> str:
        """Where the password comes from, for error messages."""
        if not self.settings.neo4j_auth:
            return "authentication off (PUBGRAPH_NEO4J_AUTH=false)"
        if self.settings.neo4j_password:
            return "NEO4J_PASSWORD"
        if self.password_file.exists():
            return f"the password file {self.password_file}"
        return (
            f"the file {self.password_file}, which does not exist yet "
            "(`pubgraph neo4j start` creates it)"
        )

    def check_password(self) -> None:
        """Refuse, before starting anything, a password Neo4j would reject."""
        pw = self.settings.neo4j_password
        if self.settings.neo4j_auth and pw is not None and len(pw) < MIN_PASSWORD_LENGTH:
            raise ConfigError(
                f"the Neo4j password must be at least {MIN_PASSWORD_LENGTH} characters "
                f"(it has {len(pw)})",
                "NEO4J_PASSWORD",
            )

    # -- lifecycle -----------------------------------------------------------------------
    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) else None

    def status(self) -> ServerStatus:
        pid = self._pid()
        version = None
        uri = f"bolt://{self.settings.neo4j_host}:{self.settings.neo4j_port}"
        if self.state_file.exists():
            with contextlib.suppress(ValueError, OSError):
                state = json.loads(self.state_file.read_text())
                version = state.get("version")
                uri = state.get("uri", uri)
        running = pid is not None and port_in_use(*_host_port(uri))
        return ServerStatus(running, pid, uri, version if running else None, self.home)

    def other_server_answers(self) -> bool:
        """True when something answers on the configured port although no server of this
        data directory runs (another data directory's server, or another program)."""
        host, port = self.settings.neo4j_host, self.settings.neo4j_port
        return self._pid() is None and port_in_use(host, port)

    def start(self, timeout: float | None = None) -> ServerStatus:
        """Start the server (a no-op when it already runs) and wait until Bolt answers."""
        current = self.status()
        if current.running:
            return current
        host, port = self.settings.neo4j_host, self.settings.neo4j_port
        check_exposure(self.settings)
        self.check_password()
        if port_in_use(host, port):
            raise ConfigError(
                f"port {port} on {host} is already in use by another program (or by a server "
                f"of another data directory than {self.settings.data_dir})",
                "PUBGRAPH_NEO4J_PORT",
            )
        java = self.java()
        cp = self.classpath()
        password = self.password(create=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.pop("PUBGRAPH_NEO4J_INITIAL_PASSWORD", None)
        if password:
            env["PUBGRAPH_NEO4J_INITIAL_PASSWORD"] = password
        cmd = [
            java,
            f"-Xms{self.settings.neo4j_heap}",
            f"-Xmx{self.settings.neo4j_heap}",
            *JVM_OPTIONS,
            "-cp",
            f"{self.launcher_classes(java, cp)}{os.pathsep}{cp}",
            "PubgraphNeo4j",
            "--home",
            str(self.home),
            "--host",
            host,
            "--port",
            str(port),
            "--auth",
            "true" if password else "false",
            "--pagecache",
            self.settings.neo4j_pagecache,
        ]
        log_start = self.log_file.stat().st_size if self.log_file.exists() else 0
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                cwd=self.home,
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + (timeout or self.settings.neo4j_start_timeout)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise Neo4jUnavailable(
                    f"the local Neo4j server exited during start-up (code {proc.returncode}): "
                    f"{self._log_tail(log_start)} (log: {self.log_file})"
                )
            text = self._log_since(log_start)
            m = re.search(r"pubgraph-neo4j: ready version=(\S+) bolt=(\S+)", text)
            if m and port_in_use(host, port):
                self.state_file.write_text(
                    json.dumps({"pid": proc.pid, "version": m.group(1), "uri": m.group(2)})
                )
                return self.status()
            time.sleep(0.5)
        last = self._log_tail(log_start)  # before the shutdown adds its own lines
        self._terminate(proc.pid, 30)
        self.pid_file.unlink(missing_ok=True)
        raise Neo4jUnavailable(
            f"the local Neo4j server did not answer on {host}:{port} within "
            f"{timeout or self.settings.neo4j_start_timeout:.0f} s; last log line: "
            f"{last} (log: {self.log_file})",
            "PUBGRAPH_NEO4J_START_TIMEOUT",
        )

    def stop(self, timeout: float = 60.0) -> bool:
        """Shut the server down cleanly; returns False when it was not running."""
        pid = self._pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        self._terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _terminate(self, pid: int, timeout: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log_file, "rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _log_tail(self, offset: int) -> str:
        return last_meaningful_line(self._log_since(offset))


def last_meaningful_line(log: str) -> str:
    """The line of a server log that says why start-up failed: the launcher's own failure
    line, else the last exception or error line (the innermost ``Caused by``), else the last
    line that is not a stack frame."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    failed = [ln for ln in lines if ln.startswith(FAILED_MARKER)]
    if failed:
        return failed[-1][len(FAILED_MARKER):].strip()[:300] or failed[-1][:300]
    content = [ln for ln in lines if not ln.startswith(("at ", "...")) and not ln.endswith(" more")]
    errors = [ln for ln in content if re.search(r"(Exception|Error)\b", ln)]
    pick = errors[-1] if errors else (content[-1] if content else "no output")
    return pick.removeprefix("Caused by: ")[:300]


def _host_port(uri: str) -> tuple[str, int]:
    m = re.match(r"^[a-z+]+://([^:/]+):(\d+)", uri)
    if not m:
        return "127.0.0.1", 7687
    return m.group(1), int(m.group(2))
