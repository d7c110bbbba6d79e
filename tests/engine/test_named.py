"""Named slots and columns (``mmopt/engine/_named.py``): the engine's state arrays by name.

What matters: a named read or write is the slot (or table column) it names (same values),
compiles to the same machine code as the constant-index access it replaced, survives numba's
on-disk cache, and a layout refuses names that numba would resolve to something else
(``size``, ``base``).
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from mmopt.engine import _book, _features, _slots
from mmopt.engine._named import SlotLayout, layout_from_constants, plain_array

REPO = Path(__file__).resolve().parents[2]
LAYOUT = SlotLayout("Demo", np.float64, ("pos", "", "fees"))
as_demo = LAYOUT.view


@njit(cache=False)
def _named_ops(arr, x):  # type: ignore[no-untyped-def]
    d = as_demo(arr)
    d.pos += x
    d.fees = d.fees + d.pos * 2.0
    d[1] = -1.0  # an unnamed slot, by a computed index
    return d.pos, d.fees, len(d), plain_array(d)


@njit(cache=False)
def _by_name(d, x):  # type: ignore[no-untyped-def]
    d.pos += x
    d.fees = d.fees + d.pos * 2.0
    return d.pos


@njit(cache=False)
def _by_slot(a, x):  # type: ignore[no-untyped-def]
    a[0] += x
    a[2] = a[2] + a[0] * 2.0
    return a[0]


@njit(cache=False)
def _call_by_name(arr, x):  # type: ignore[no-untyped-def]
    return _by_name(as_demo(arr), x)


def test_named_reads_and_writes_are_the_slots() -> None:
    arr = np.array([1.0, 2.0, 3.0])
    pos, fees, n, plain = _named_ops(arr, 1.5)
    assert (pos, fees, n) == (2.5, 8.0, 3)
    assert arr.tolist() == [2.5, -1.0, 8.0]  # a view: the caller's array changed in place
    assert isinstance(plain, np.ndarray) and plain.tolist() == arr.tolist()


def _function_body(fn: object, sig: object) -> str:
    asm = fn.inspect_asm(sig)  # type: ignore[attr-defined]
    first = re.search(r"^(_ZN\S+):\n(.*?)^\.Lfunc_end", asm, re.S | re.M)
    assert first, asm[:2000]
    return re.sub(r"_ZN\w+", "SYM", first.group(2))


def test_a_named_access_compiles_to_the_same_machine_code_as_a_slot_index() -> None:
    arr = np.array([1.0, 2.0, 3.0])
    _call_by_name(arr.copy(), 1.0)
    _by_slot(arr.copy(), 1.0)
    named = _function_body(_by_name, _by_name.signatures[0])
    slots = _function_body(_by_slot, _by_slot.signatures[0])
    assert named == slots


TABLE = SlotLayout("DemoTable", np.int64, ("used", "side", "tick"), ndim=2)
as_table = TABLE.view
SIDE, TICK = 1, 2


@njit(cache=False)
def _column_by_name(t, s, x):  # type: ignore[no-untyped-def]
    t.tick[s] += x
    if t.side[s] > 0:
        t.used[s] = 1
    return t.tick[s] * t.side[s]


@njit(cache=False)
def _column_by_slot(t, s, x):  # type: ignore[no-untyped-def]
    t[s, TICK] += x
    if t[s, SIDE] > 0:
        t[s, 0] = 1
    return t[s, TICK] * t[s, SIDE]


@njit(cache=False)
def _call_column_by_name(arr, s, x):  # type: ignore[no-untyped-def]
    return _column_by_name(as_table(arr), s, x)


@njit(cache=False)
def _grow(arr, need):  # type: ignore[no-untyped-def]
    t = as_table(arr)
    if need <= t.shape[0]:
        return t  # a view where the other branch returns a plain array
    return np.zeros((need, 3), dtype=np.int64)


def test_a_named_column_is_the_tables_column() -> None:
    arr = np.array([[0, 1, 5], [0, -1, 7]], dtype=np.int64)
    by_slot = arr.copy()
    for s in (0, 1, np.uint64(1)):  # unsigned row indices, as the row loops use
        assert _call_column_by_name(arr, s, 3) == _column_by_slot(by_slot, s, 3)
    assert arr.tolist() == by_slot.tolist() == [[1, 1, 8], [0, -1, 13]]
    assert np.shares_memory(_grow(arr, 1), arr)  # the same array, its names dropped
    assert _grow(arr, 4).shape == (4, 3)
    for k in range(len(_column_by_name.signatures)):
        assert _function_body(_column_by_name, _column_by_name.signatures[k]) == \
            _function_body(_column_by_slot, _column_by_slot.signatures[k])


def test_engine_layouts_name_every_slot_constant() -> None:
    layouts = [
        (_slots, _slots.INT_SETTINGS, ("IC_",), {"IC_N", "IC_EQ_START"}),
        (_slots, _slots.FLOAT_SETTINGS, ("FC_",), {"FC_N"}),
        (_slots, _slots.ACCOUNT, ("AC_", "AL_"), {"AC_N"}),
        (_slots, _slots.ORDER_COUNTERS, ("CT_",), {"CT_N"}),
        (_slots, _slots.RUN_COUNTERS, ("N_",), {"N_COUNTERS"}),
        (_book, _book.BOOK, ("BK_",), {"BK_SIZE"}),
        (_features, _features.FEATURES, ("F_", "I_"), set()),
        (_slots, _slots.ORDER_INTS, ("OI_",), {"OI_N"}),
        (_slots, _slots.ORDER_FLOATS, ("OF_",), {"OF_N"}),
        (_slots, _slots.REQUESTS, ("RQ_",), {"RQ_N"}),
        (_slots, _slots.RESPONSES, ("RP_",), {"RP_N"}),
        (_slots, _slots.FILL_INTS, ("FI_",), {"FI_N"}),
        (_slots, _slots.FILL_FLOATS, ("FF_",), {"FF_N"}),
        (_slots, _slots.EVENT_INTS, ("EV_",), {"EV_N"}),
        (_slots, _slots.EVENT_FLOATS, ("EVF_",), {"EVF_N"}),
        (_slots, _slots.ACKS, ("AK_",), {"AK_N"}),
    ]
    for module, layout, prefixes, not_slots in layouts:
        constants = {k: v for k, v in vars(module).items()
                     if k.startswith(prefixes) and isinstance(v, int) and k not in not_slots}
        assert constants, layout.title
        for const, slot in constants.items():
            assert layout.fields[slot], f"{layout.title}: {const} = {slot} has no name"
        assert sum(1 for f in layout.fields if f) == len(constants), layout.title


def test_a_layout_refuses_names_numba_would_resolve_elsewhere() -> None:
    with pytest.raises(ValueError, match="'size'"):
        SlotLayout("Bad", np.int64, ("size",))
    with pytest.raises(ValueError, match="declared twice"):
        SlotLayout("Bad", np.int64, ("a", "a"))
    with pytest.raises(ValueError, match="outside the 2 slots"):
        layout_from_constants("Bad", np.int64, {"X_A": 0, "X_B": 2, "N": 2}, {"X_": ""}, "N")
    with pytest.raises(ValueError, match="named twice"):
        layout_from_constants("Bad", np.int64, {"X_A": 0, "Y_A": 0, "N": 1}, {"X_": "", "Y_": ""},
                              "N")
    with pytest.raises(KeyError, match="no field 'nope'"):
        LAYOUT.index("nope")
    assert LAYOUT.index("fees") == 2


def test_a_view_type_pickles_for_numbas_cache() -> None:
    t = _slots.ACCOUNT.numba_type
    again = pickle.loads(pickle.dumps(t))
    assert again == t and again.slot == t.slot
    assert t != _slots.ORDER_COUNTERS.numba_type


_CACHED = """
import numpy as np
from numba import njit
from mmopt.engine._slots import as_account

@njit(cache=True)
def bump(arr):
    acc = as_account(arr)
    acc.local_pos += 2.0
    return acc.local_pos

arr = np.zeros(24)
print(bump(arr), len(bump.stats.cache_hits))
"""


def test_a_function_over_a_view_is_loaded_from_numbas_cache(tmp_path: Path) -> None:
    (tmp_path / "cached_view.py").write_text(_CACHED)
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": f"{REPO}:{tmp_path}",
           "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", "import cached_view"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0] == ["2.0", "0"]  # compiled
    assert runs[1] == ["2.0", "1"]  # loaded from the cache
