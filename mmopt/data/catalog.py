"""The shard catalog: which (security, date) shards a Hive-partitioned Parquet root holds.

Layout: ``ROOT/security=SEC/date=YYYY-MM-DD/*.parquet`` on a local path or any ``pyarrow.fs``
URI (``file://``, ``s3://``, ``gs://``, ...), plus an optional ``ROOT/instruments.csv``.
Entries whose name starts with ``.`` or ``_`` (temporary directories of an interrupted write,
``_SUCCESS`` markers) are ignored. Every shard gets a stable fingerprint (relative path, size and
modification time of its files, or a hash of their bytes) and the catalog gets one over all of
its shards and the instruments file, for experiment tracking.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

from mmopt.errors import DataError

__all__ = [
    "LAYOUT",
    "ShardCatalog",
    "ShardRef",
    "open_catalog",
    "open_filesystem",
    "parse_date",
]

LAYOUT = "ROOT/security=SEC/date=YYYY-MM-DD/*.parquet"
INSTRUMENTS_FILE = "instruments.csv"
_HASH_CHUNK = 1 << 20


@functools.lru_cache(maxsize=32)
def open_filesystem(root: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and the path inside it for a local path or a ``pyarrow.fs`` URI."""
    if "://" in root:
        try:
            fs, path = pafs.FileSystem.from_uri(root)
        except (ValueError, OSError) as exc:
            raise DataError(
                f"{root}: cannot open this data root ({exc}); give a local path or a URI "
                "that pyarrow.fs understands (file://, s3://, gs://, hdfs://)"
            ) from exc
        return fs, path.rstrip("/")
    return pafs.LocalFileSystem(), str(Path(root).expanduser().resolve())


def normalise_root(root: str | Path) -> str:
    """The root as stored in every ``ShardRef``: an absolute local path or the URI unchanged."""
    text = str(root)
    if "://" in text:
        return text.rstrip("/")
    return str(Path(text).expanduser().resolve())


def parse_date(value: str | dt.date, what: str = "date") -> dt.date:
    """A ``YYYY-MM-DD`` string (or a date) as a ``datetime.date``; DataError otherwise."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise DataError(f"{what} {value!r} is not a date: write it as YYYY-MM-DD") from exc


@dataclass(frozen=True, slots=True)
class ShardRef:
    """One shard (one security, one day): where its files are and a fingerprint of them.

    ``files`` are paths inside the filesystem of ``root`` (sorted); ``fingerprint`` changes
    whenever a file is added, removed, resized or modified (or, with content hashing, whenever
    a byte changes).
    """

    security: str
    date: str
    files: tuple[str, ...]
    fingerprint: str
    root: str
    n_bytes: int = 0

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.date)

    @property
    def key(self) -> str:
        """``security/date``: a short, unique name for logs and result tables."""
        return f"{self.security}/{self.date}"


@dataclass(frozen=True, slots=True)
class ShardCatalog:
    """The shards of one data root, sorted by (security, date)."""

    root: str
    shards: tuple[ShardRef, ...]
    instruments_stamp: str = field(default="")

    @classmethod
    def open(cls, root: str | Path, *, content_hash: bool = False) -> ShardCatalog:
        return open_catalog(root, content_hash=content_hash)

    def __len__(self) -> int:
        return len(self.shards)

    def __iter__(self) -> Iterator[ShardRef]:
        return iter(self.shards)

    @property
    def securities(self) -> tuple[str, ...]:
        return tuple(sorted({s.security for s in self.shards}))

    @property
    def dates(self) -> tuple[str, ...]:
        return tuple(sorted({s.date for s in self.shards}))

    @property
    def n_bytes(self) -> int:
        return sum(s.n_bytes for s in self.shards)

    @property
    def fingerprint(self) -> str:
        """One hash over every shard's fingerprint and the instruments file."""
        h = hashlib.sha256()
        for s in self.shards:
            h.update(f"{s.security}\0{s.date}\0{s.fingerprint}\n".encode())
        h.update(f"instruments\0{self.instruments_stamp}\n".encode())
        return h.hexdigest()[:16]

    def get(self, security: str, date: str | dt.date) -> ShardRef:
        day = parse_date(date).isoformat()
        for s in self.shards:
            if s.security == security and s.date == day:
                return s
        raise DataError(
            f"{self.root}: no shard for security={security} date={day}; "
            f"available securities: {', '.join(self.securities)}; dates: {', '.join(self.dates)}"
        )

    def select(
        self,
        securities: Iterable[str] | None = None,
        start: str | dt.date | None = None,
        end: str | dt.date | None = None,
    ) -> ShardCatalog:
        """The shards of the given securities within ``[start, end]`` (inclusive dates)."""
        wanted = None if securities is None else list(dict.fromkeys(securities))
        if wanted:
            unknown = [s for s in wanted if s not in self.securities]
            if unknown:
                raise DataError(
                    f"{self.root}: unknown securit{'y' if len(unknown) == 1 else 'ies'} "
                    f"{', '.join(unknown)}; this root holds: {', '.join(self.securities)}"
                )
        lo = parse_date(start, "start date") if start is not None else None
        hi = parse_date(end, "end date") if end is not None else None
        if lo is not None and hi is not None and lo > hi:
            raise DataError(f"start date {lo} is after end date {hi}: swap them")
        chosen = tuple(
            s
            for s in self.shards
            if (not wanted or s.security in wanted)
            and (lo is None or s.day >= lo)
            and (hi is None or s.day <= hi)
        )
        if not chosen:
            raise DataError(
                f"{self.root}: no shard matches securities={wanted or 'all'} "
                f"start={lo or '-'} end={hi or '-'}; available dates: {', '.join(self.dates)}"
            )
        return ShardCatalog(self.root, chosen, self.instruments_stamp)


def open_catalog(
    root: str | Path,
    *,
    securities: Iterable[str] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    content_hash: bool = False,
) -> ShardCatalog:
    """List the shards of ``root`` (optionally filtered); DataError on a malformed layout."""
    root_s = normalise_root(root)
    fs, base = open_filesystem(root_s)
    info = fs.get_file_info(base)
    if info.type == pafs.FileType.NotFound:
        raise DataError(f"{root_s}: data root does not exist; expected the layout {LAYOUT}")
    if info.type != pafs.FileType.Directory:
        raise DataError(f"{root_s}: data root is not a directory; expected the layout {LAYOUT}")
    entries = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    files, instruments = _collect_files(root_s, base, entries)
    if not files:
        raise DataError(
            f"{root_s}: no shards found; expected Parquet files laid out as {LAYOUT} "
            "(write them with `mmopt data synth`, `mmopt data import` or mmopt.data.write_shard)"
        )
    shards = tuple(
        _make_ref(fs, root_s, base, sec, day, infos, content_hash)
        for (sec, day), infos in sorted(files.items())
    )
    stamp = "" if instruments is None else _file_stamp(fs, base, instruments, content_hash)
    catalog = ShardCatalog(root_s, shards, stamp)
    if securities is not None or start is not None or end is not None:
        catalog = catalog.select(securities, start, end)
    return catalog


def _collect_files(
    root: str, base: str, entries: list[pafs.FileInfo]
) -> tuple[dict[tuple[str, str], list[pafs.FileInfo]], pafs.FileInfo | None]:
    files: dict[tuple[str, str], list[pafs.FileInfo]] = {}
    instruments = None
    for e in entries:
        rel = e.path[len(base) :].lstrip("/")
        parts = rel.split("/")
        if any(p.startswith((".", "_")) for p in parts):
            continue
        is_dir = e.type == pafs.FileType.Directory
        if len(parts) == 1:
            if is_dir:
                _partition_value(root, rel, "security")
            elif parts[0] == INSTRUMENTS_FILE:
                instruments = e
            continue
        if len(parts) == 2 and is_dir:
            _partition_value(root, parts[0], "security")
            _check_date_dir(root, rel)
            continue
        if not parts[-1].endswith(".parquet") or is_dir:
            continue
        if len(parts) != 3:
            raise DataError(f"{root}/{rel}: Parquet file at the wrong depth; move it to {LAYOUT}")
        sec = _partition_value(root, parts[0], "security")
        day = _check_date_dir(root, "/".join(parts[:2]))
        files.setdefault((sec, day), []).append(e)
    return files, instruments


def _partition_value(root: str, rel: str, key: str) -> str:
    """The value of the Hive partition ``key=value`` named by the last part of ``rel``."""
    name = rel.rsplit("/", 1)[-1]
    prefix = f"{key}="
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise DataError(
            f"{root}/{rel}: malformed partition name, expected '{prefix}<value>' "
            f"in the layout {LAYOUT}; rename or remove it"
        )
    return name[len(prefix) :]


def _check_date_dir(root: str, rel: str) -> str:
    value = _partition_value(root, rel, "date")
    try:
        day: dt.date | None = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or len(value) != 10:
        raise DataError(
            f"{root}/{rel}: malformed date partition {value!r}, expected date=YYYY-MM-DD "
            f"in the layout {LAYOUT}; rename it"
        )
    return day.isoformat()


def _make_ref(
    fs: pafs.FileSystem,
    root: str,
    base: str,
    security: str,
    date: str,
    infos: list[pafs.FileInfo],
    content_hash: bool,
) -> ShardRef:
    infos = sorted(infos, key=lambda i: i.path)
    h = hashlib.sha256()
    for info in infos:
        h.update(_file_stamp(fs, base, info, content_hash).encode())
    return ShardRef(
        security=security,
        date=date,
        files=tuple(i.path for i in infos),
        fingerprint=h.hexdigest()[:16],
        root=root,
        n_bytes=sum(int(i.size or 0) for i in infos),
    )


def _file_stamp(fs: pafs.FileSystem, base: str, info: pafs.FileInfo, content_hash: bool) -> str:
    """Relative path, size and mtime (or content hash) of one file, as one line."""
    rel = info.path[len(base) :].lstrip("/")
    if content_hash:
        digest = hashlib.sha256()
        with fs.open_input_stream(info.path) as fh:
            while chunk := fh.read(_HASH_CHUNK):
                digest.update(chunk)
        return f"{rel}\0{info.size}\0sha256:{digest.hexdigest()}\n"
    mtime = info.mtime_ns if info.mtime_ns is not None else "?"
    return f"{rel}\0{info.size}\0{mtime}\n"
