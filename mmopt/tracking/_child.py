"""The tracker's own process: MLflow's Python runs there, off the driver's GIL.

``LoggerProcess`` (driver side) starts ``python -m mmopt.tracking._child`` once and feeds it
small pickled messages on its stdin: ``("init", location, experiment)``, ``("start", info)``,
``("log", records)``, ``("sync", n)``, ``("stop", n)``. The child reads them on a thread (so the
driver's writes never wait for MLflow), runs them in order with a ``TrialLogger`` and answers
each sync / stop with a ``LoggerState`` (counters, parent run, child runs, warnings) on a pipe,
framed as an 8-byte length and a pickle. A plain subprocess, not ``multiprocessing``: the
driver's ``__main__`` is never re-imported. The child ignores Ctrl-C (the driver stops it by
sending ``stop`` after the queued trials) and drains its queue on EOF.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import IO, Any

from mmopt.tracking._logger import LoggerState, TrackingWarning, TrialLogger
from mmopt.tracking._uri import TrackingLocation

__all__ = ["LoggerProcess", "main"]

_HEADER = struct.Struct("<Q")
_POLL_S = 0.2
_NICENESS = 10
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux
_PIPE_BYTES = 1 << 20  # the default /proc/sys/fs/pipe-max-size


class LoggerProcess:
    """Driver-side handle of the tracker's process."""

    def __init__(self, location: TrackingLocation, experiment: str) -> None:
        read_fd, write_fd = os.pipe()
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "mmopt.tracking._child", str(write_fd)],
                stdin=subprocess.PIPE, pass_fds=(write_fd,), env=env,
            )
        finally:
            os.close(write_fd)
        self._replies = read_fd
        if self._proc.stdin is not None:  # room for many batches while the child is busy
            with contextlib.suppress(OSError):
                fcntl.fcntl(self._proc.stdin.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
        self._lock = threading.Lock()
        self._seq = 0
        self._stop_seq: int | None = None
        self.state = LoggerState()
        self.dead: str | None = None
        self._send(("init", (location, experiment)))

    def send(self, kind: str, payload: Any) -> None:
        self._send((kind, payload))

    def sync(self, timeout: float | None = None) -> bool:
        """Wait until the child has run everything sent so far; False on timeout or death."""
        self._seq += 1
        self._send(("sync", self._seq))
        return self._await(self._seq, timeout)

    def request_stop(self) -> None:
        """Tell the child to stop after what is queued, without waiting (``close`` waits)."""
        if self._stop_seq is None:
            self._seq += 1
            self._stop_seq = self._seq
            self._send(("stop", self._seq))

    def close(self, timeout: float | None = None) -> LoggerState:
        """Let the child write everything queued, take its last state and let it exit."""
        self.request_stop()
        assert self._stop_seq is not None
        self._await(self._stop_seq, timeout)
        stdin = self._proc.stdin
        if stdin is not None:
            with contextlib.suppress(OSError):
                stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._replies)
        return self.state

    def _send(self, message: tuple[str, Any]) -> None:
        data = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        stdin = self._proc.stdin
        assert stdin is not None
        with self._lock:
            try:
                stdin.write(data)
                stdin.flush()
            except (OSError, ValueError) as exc:
                self.dead = self.dead or f"tracking process gone ({exc})"

    def _await(self, seq: int, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.dead is None:
            frame = self._read_frame(deadline)
            if frame is None:
                return False
            got, state = pickle.loads(frame)
            self.state = state
            if got == seq:
                return True
        return False

    def _read_frame(self, deadline: float | None) -> bytes | None:
        head = self._read_exact(_HEADER.size, deadline)
        if head is None:
            return None
        return self._read_exact(_HEADER.unpack(head)[0], None)

    def _read_exact(self, n: int, deadline: float | None) -> bytes | None:
        parts: list[bytes] = []
        while n > 0:
            left = _POLL_S if deadline is None else min(_POLL_S, deadline - time.monotonic())
            if left <= 0:
                return None
            ready, _, _ = select.select([self._replies], [], [], left)
            if not ready:
                if self._proc.poll() is not None:
                    self.dead = f"tracking process exited with code {self._proc.returncode}"
                    return None
                continue
            chunk = os.read(self._replies, n)
            if not chunk:
                self.dead = f"tracking process exited with code {self._proc.poll()}"
                return None
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)


def _reader(stream: IO[bytes], inbox: queue.SimpleQueue[tuple[str, Any] | None]) -> None:
    while True:
        try:
            inbox.put(pickle.load(stream))
        except Exception:  # EOF (the driver closed stdin or died) or a torn message
            inbox.put(None)
            return


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _handle(logger: TrialLogger | None, message: tuple[str, Any]) -> TrialLogger | None:
    kind, payload = message
    if kind == "init":
        return TrialLogger(*payload) if isinstance(payload, tuple) else logger
    if logger is None:
        return None
    if kind == "start":
        logger.start(payload)
    elif kind == "log":
        logger.log_trials(payload)
    return logger


def main(argv: list[str]) -> None:
    """The child: run messages in order until ``stop`` or EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # the driver and the workers come first; finish drains
        os.nice(_NICENESS)
    out = int(argv[1])
    inbox: queue.SimpleQueue[tuple[str, Any] | None] = queue.SimpleQueue()
    threading.Thread(target=_reader, args=(sys.stdin.buffer, inbox), daemon=True).start()
    logger: TrialLogger | None = None
    messages: list[str] = []
    while (message := inbox.get()) is not None:
        kind, payload = message
        if kind in ("sync", "stop"):
            state = logger.state(tuple(messages)) if logger else LoggerState(warnings=(
                *messages,))
            messages.clear()
            data = pickle.dumps((payload, state), pickle.HIGHEST_PROTOCOL)
            _write_all(out, _HEADER.pack(len(data)) + data)
            if kind == "stop":  # exit now: the reader thread is blocked on stdin
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrackingWarning)
            try:
                logger = _handle(logger, message)
            except Exception as exc:
                messages.append(f"mmopt tracking: {kind} failed: {type(exc).__name__}: {exc}")
        messages += [str(w.message) for w in caught if issubclass(w.category, TrackingWarning)]


if __name__ == "__main__":
    main(sys.argv)
