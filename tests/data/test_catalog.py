"""Shard catalog: listing, filtering, fingerprints, URIs and layout errors."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
from datalayer_helpers import hand_events, hand_root

from mmopt.data import ShardCatalog, open_catalog, write_shard
from mmopt.errors import DataError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return hand_root(
        tmp_path / "data",
        securities=("AAA", "BBB", "CCC"),
        dates=("2024-08-07", "2024-08-08", "2024-08-09"),
    )


def test_lists_securities_dates_and_shards_in_order(root: Path) -> None:
    cat = open_catalog(root)
    assert cat.securities == ("AAA", "BBB", "CCC")
    assert cat.dates == ("2024-08-07", "2024-08-08", "2024-08-09")
    assert len(cat) == 9
    assert [s.key for s in cat][:3] == ["AAA/2024-08-07", "AAA/2024-08-08", "AAA/2024-08-09"]
    ref = cat.get("BBB", "2024-08-08")
    assert ref.files == (str(root / "security=BBB" / "date=2024-08-08" / "part-0.parquet"),)
    assert ref.root == str(root) and ref.n_bytes == os.path.getsize(ref.files[0])


def test_select_by_security_and_inclusive_date_range(root: Path) -> None:
    cat = open_catalog(root).select(["CCC", "AAA"], start="2024-08-08", end="2024-08-09")
    assert [s.key for s in cat] == [
        "AAA/2024-08-08",
        "AAA/2024-08-09",
        "CCC/2024-08-08",
        "CCC/2024-08-09",
    ]
    only_start = open_catalog(root, start="2024-08-09")
    assert only_start.dates == ("2024-08-09",) and len(only_start) == 3
    only_end = open_catalog(root, securities=["BBB"], end="2024-08-07")
    assert [s.key for s in only_end] == ["BBB/2024-08-07"]


def test_select_errors_name_what_is_available(root: Path) -> None:
    cat = open_catalog(root)
    with pytest.raises(DataError, match=r"unknown security ZZZ; this root holds: AAA, BBB, CCC"):
        cat.select(["ZZZ"])
    with pytest.raises(DataError, match=r"no shard matches .*available dates: 2024-08-07"):
        cat.select(start="2025-01-01")
    with pytest.raises(DataError, match=r"start date '2024/08/01' is not a date: .*YYYY-MM-DD"):
        cat.select(start="2024/08/01")
    with pytest.raises(DataError, match=r"start date 2024-08-09 is after end date 2024-08-07"):
        cat.select(start="2024-08-09", end="2024-08-07")
    with pytest.raises(DataError, match=r"no shard for security=AAA date=2024-08-01"):
        cat.get("AAA", "2024-08-01")


def test_shard_ref_is_frozen(root: Path) -> None:
    ref = open_catalog(root).shards[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.security = "X"  # type: ignore[misc]


def test_fingerprints_are_stable_and_track_changes(root: Path) -> None:
    a, b = open_catalog(root), open_catalog(root)
    assert a == b and a.fingerprint == b.fingerprint
    assert len({s.fingerprint for s in a}) == len(a)  # distinct paths, distinct prints
    ref = a.get("AAA", "2024-08-08")
    write_shard(root, "AAA", "2024-08-08", hand_events(offset_ns=1), overwrite=True)
    c = open_catalog(root)
    assert c.get("AAA", "2024-08-08").fingerprint != ref.fingerprint
    assert c.get("AAA", "2024-08-09").fingerprint == a.get("AAA", "2024-08-09").fingerprint
    assert c.fingerprint != a.fingerprint
    assert c.select(["BBB"]).fingerprint != c.fingerprint


def test_catalog_fingerprint_covers_instruments_csv(root: Path) -> None:
    before = open_catalog(root).fingerprint
    csv = root / "instruments.csv"
    csv.write_text(csv.read_text().replace("0.01", "0.005", 1))
    assert open_catalog(root).fingerprint != before


def test_content_hash_survives_a_copy_mtime_does_not(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    for p in copy.rglob("*.parquet"):
        os.utime(p, ns=(1, 1))
    assert open_catalog(copy).fingerprint != open_catalog(root).fingerprint
    by_content = open_catalog(root, content_hash=True)
    assert by_content.fingerprint == open_catalog(copy, content_hash=True).fingerprint
    assert by_content.fingerprint != open_catalog(root).fingerprint


def test_file_uri_roots_work(root: Path) -> None:
    uri = root.as_uri()
    cat = ShardCatalog.open(uri)
    assert cat.root == uri and len(cat) == 9
    assert cat.shards[0].root == uri
    assert [s.fingerprint for s in cat] == [s.fingerprint for s in open_catalog(root)]


def test_temporary_and_hidden_entries_are_ignored(root: Path) -> None:
    (root / ".mmopt-tmp-abc" / "security=AAA" / "date=2024-08-10").mkdir(parents=True)
    (root / "_SUCCESS").write_text("")
    (root / "security=AAA" / "date=2024-08-09" / "_common_metadata").write_text("")
    (root / "README.txt").write_text("notes")
    assert len(open_catalog(root)) == 9


def test_several_files_per_shard_are_listed_sorted(root: Path) -> None:
    shard = root / "security=AAA" / "date=2024-08-09"
    shutil.copy(shard / "part-0.parquet", shard / "part-1.parquet")
    ref = open_catalog(root).get("AAA", "2024-08-09")
    assert [Path(f).name for f in ref.files] == ["part-0.parquet", "part-1.parquet"]


LAYOUT = r"ROOT/security=SEC/date=YYYY-MM-DD/\*\.parquet"


def test_missing_root(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match=rf"{missing}: data root does not exist; .*{LAYOUT}"):
        open_catalog(missing)


def test_root_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "file.parquet"
    f.write_text("x")
    with pytest.raises(DataError, match=rf"{f}: data root is not a directory; .*{LAYOUT}"):
        open_catalog(f)


def test_root_without_shards(tmp_path: Path) -> None:
    (tmp_path / "instruments.csv").write_text("security,tick_size,lot_size\n")
    with pytest.raises(DataError, match=rf"{tmp_path}: no shards found; .*{LAYOUT}"):
        open_catalog(tmp_path)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("sec=AAA/date=2024-08-09", r"sec=AAA: malformed partition name, expected 'security="),
        ("security=/date=2024-08-09", r"security=: malformed partition name"),
        ("security=AAA/day=2024-08-09", r"day=2024-08-09: malformed partition name, .*'date="),
        ("security=AAA/date=2024-13-01", r"malformed date partition '2024-13-01', .*YYYY-MM-DD"),
        ("security=AAA/date=20240809", r"malformed date partition '20240809'"),
    ],
)
def test_malformed_partition_names(root: Path, bad: str, message: str) -> None:
    d = root / bad
    d.mkdir(parents=True)
    shutil.copy(root / "security=AAA" / "date=2024-08-09" / "part-0.parquet", d)
    with pytest.raises(DataError, match=message) as err:
        open_catalog(root)
    assert str(root) in str(err.value) and "ROOT/security=SEC/date=YYYY-MM-DD" in str(err.value)


def test_parquet_file_at_the_wrong_depth(root: Path) -> None:
    shutil.copy(
        root / "security=AAA" / "date=2024-08-09" / "part-0.parquet",
        root / "security=AAA" / "stray.parquet",
    )
    with pytest.raises(DataError, match=r"security=AAA/stray.parquet: Parquet file at the wrong"):
        open_catalog(root)


def test_refs_and_catalogs_pickle_for_ray(root: Path) -> None:
    import pickle

    cat = open_catalog(root)
    again = pickle.loads(pickle.dumps(cat))
    assert again == cat and again.fingerprint == cat.fingerprint
