"""Named slots and columns: numba array types whose elements (or columns) have names.

The engine keeps its mutable state in flat numpy arrays, one per kind: small one-dimensional
ones (the book's scalars, the accounts, counters, the run's settings, the feature state's
header) and two-dimensional tables (the order table, the request and response rings, the
output rows). Inside compiled code they are seen through the types here, so the engine writes
``acc.local_pos += q``, ``ic.step_ns`` and ``oi.tick[s]`` instead of ``acc[AL_POS] += q``,
``ic[IC_STEP]`` and ``oi[s, OI_TICK]``.

* :class:`NamedSlots`: a 1-d C-contiguous array whose slots have names (``acc.local_pos``).
* :class:`NamedColumns`: a 2-d C-contiguous table whose columns have names; ``oi.tick`` is a
  :class:`Column`, indexed by row (``oi.tick[s]``, ``oi.tick[s] = t``).

Why array types and not numba records or a structref: a named slot compiles to the same
machine code as the constant index it replaces, and a named column to the same address
computation (``tests/engine/test_named.py`` compares the assembly of small functions;
``benchmarks/engine_same_code.py`` compares the whole engine's, docs/benchmarks.md "Named
engine state" has the result), so the names cost nothing measurable at run time. The
record-based layouts tried before (docs/engine.md, "Tried") timed slower, and a structref
needs numba's runtime, which the engine's helpers compile without (``_jit.py``).

A :class:`SlotLayout` declares the field names of one kind of array, in slot (or column)
order, from the integer constants of ``_slots.py`` (or another module) that Python code keeps
using on the arrays the kernel returns. ``layout.view(arr)`` (compiled code only) turns a
C-contiguous array of the layout's dtype and dimensions into the named view; it is a no-op
cast, and a view is still an array (``arr[k]`` with a computed index, ``len``, slicing, and
passing it where a plain array is expected work as before). ``plain_array(view)`` drops the
names (to return the array to Python).

Everything here uses numba's extension API (``numba.extending`` and the typing and lowering
helpers its "low-level extension" documentation uses); ``tests/engine/test_named.py`` and
``pyproject.toml``'s pin of numba's minor version guard it.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.core.typing.templates import AttributeTemplate
from numba.extending import (
    infer_getattr,
    intrinsic,
    lower_builtin,
    lower_cast,
    lower_getattr_generic,
    lower_setattr_generic,
    models,
    register_model,
    type_callable,
)
from numba.np.numpy_support import from_dtype

__all__ = ["Column", "NamedColumns", "NamedSlots", "SlotLayout", "layout_from_constants",
           "plain_array"]

_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# numpy's array attributes and numba's own (``arr.size``, ``arr.base``, ...) win over a field
# of the same name in numba's lookup, so such a name is refused when the layout is declared.
_RESERVED = frozenset(dir(np.ndarray)) | {"ctypes", "flat", "real", "imag", "T"}


class _NamedArray(types.Array):
    """A C-contiguous array type of ``ndim`` dimensions whose slots (``ndim=1``) or columns
    (``ndim=2``) have names; equal to another only with the same title, fields and dtype."""

    ndim_of_kind = 1
    what = "slots"

    def __init__(self, title: str, dtype: Any, fields: tuple[str, ...]) -> None:
        self.title = title
        self.fields = fields
        self.slot = {name: k for k, name in enumerate(fields) if name}
        super().__init__(dtype, self.ndim_of_kind, "C",
                         name=f"{title}({dtype}, {len(fields)} {self.what})")

    @property
    def key(self) -> Any:
        return self.title, self.fields, self.dtype

    @property
    def mangling_args(self) -> Any:
        """Two layouts of the same dtype must not share symbol names: the title, not the class."""
        return self.title, (self.dtype,)

    # numba's ``Array.copy`` (a slice, a read-only view) returns a plain ``types.Array``: the
    # names do not survive a copy, as they should not.


class NamedSlots(_NamedArray):
    """numba type: a 1-d C-contiguous array whose slots have names (``acc.local_pos``)."""


register_model(NamedSlots)(models.ArrayModel)


@infer_getattr
class _NamedSlotsAttributes(AttributeTemplate):
    key = NamedSlots

    def generic_resolve(self, typ: NamedSlots, attr: str) -> Any:  # type: ignore[override]
        return typ.dtype if attr in typ.slot else None


def _slot_pointer(context: Any, builder: Any, typ: NamedSlots, value: Any, attr: str) -> Any:
    ary = context.make_array(typ)(context, builder, value)
    index = context.get_constant(types.intp, typ.slot[attr])
    return builder.gep(ary.data, [index], inbounds=True)


@lower_getattr_generic(NamedSlots)
def _get_slot(context: Any, builder: Any, typ: NamedSlots, value: Any, attr: str) -> Any:
    return builder.load(_slot_pointer(context, builder, typ, value, attr))


@lower_setattr_generic(NamedSlots)
def _set_slot(context: Any, builder: Any, sig: Any, args: Any, attr: str) -> None:
    target, value = args
    builder.store(value, _slot_pointer(context, builder, sig.args[0], target, attr))


class NamedColumns(_NamedArray):
    """numba type: a 2-d C-contiguous table whose columns have names: ``oi.tick[s]`` is
    ``oi[s, OI_TICK]`` (the same address computation; see ``Column``)."""

    ndim_of_kind = 2
    what = "columns"


class Column(types.Type):
    """numba type: one named column of a ``NamedColumns`` table (``oi.tick``), indexed by row.

    Its value is the table's data pointer and shape (the column number is in the type), and
    ``oi.tick[s]`` computes the address as numba's own ``oi[s, k]`` does (row-major, a negative
    row counted from the end)."""

    def __init__(self, table: NamedColumns, column: int) -> None:
        self.table = table
        self.column = column
        super().__init__(name=f"{table.title}.{table.fields[column]}")

    @property
    def key(self) -> Any:
        return self.table, self.column


@register_model(Column)
class _ColumnModel(models.StructModel):
    def __init__(self, dmm: Any, fe_type: Column) -> None:
        members = [("data", types.CPointer(fe_type.table.dtype)), ("nrows", types.intp),
                   ("ncols", types.intp)]
        super().__init__(dmm, fe_type, members)


register_model(NamedColumns)(models.ArrayModel)


@infer_getattr
class _NamedColumnsAttributes(AttributeTemplate):
    key = NamedColumns

    def generic_resolve(self, typ: NamedColumns, attr: str) -> Any:  # type: ignore[override]
        return Column(typ, typ.slot[attr]) if attr in typ.slot else None


@lower_getattr_generic(NamedColumns)
def _get_column(context: Any, builder: Any, typ: NamedColumns, value: Any, attr: str) -> Any:
    table = context.make_array(typ)(context, builder, value)
    nrows, ncols = cgutils.unpack_tuple(builder, table.shape, 2)
    col = cgutils.create_struct_proxy(Column(typ, typ.slot[attr]))(context, builder)
    col.data = table.data
    col.nrows = nrows
    col.ncols = ncols
    return col._getvalue()


@type_callable(operator.getitem)
def _type_column_getitem(context: Any) -> Any:
    def typer(col: Any, row: Any) -> Any:
        if isinstance(col, Column) and isinstance(row, types.Integer):
            return col.table.dtype
        return None

    return typer


@type_callable(operator.setitem)
def _type_column_setitem(context: Any) -> Any:
    def typer(col: Any, row: Any, value: Any) -> Any:
        if isinstance(col, Column) and isinstance(row, types.Integer):
            return types.none
        return None

    return typer


def _fixed_index(context: Any, builder: Any, index_type: Any, index: Any, size: Any) -> Any:
    """numba's integer index rule: a signed index below 0 counts from the end."""
    if index_type.signed:
        index = context.cast(builder, index, index_type, types.intp)
        negative = builder.icmp_signed("<", index, index.type(0))
        return builder.select(negative, builder.add(index, size), index)
    return context.cast(builder, index, index_type, types.uintp)


def _cell_pointer(context: Any, builder: Any, col_type: Column, col_value: Any, row_type: Any,
                  row: Any) -> Any:
    col = cgutils.create_struct_proxy(col_type)(context, builder, value=col_value)
    row = _fixed_index(context, builder, row_type, row, col.nrows)
    column = _fixed_index(context, builder, types.intp,
                          context.get_constant(types.intp, col_type.column), col.ncols)
    return cgutils.get_item_pointer2(context, builder, col.data, [col.nrows, col.ncols], None,
                                     "C", [row, column])


@lower_builtin(operator.getitem, Column, types.Integer)
def _column_getitem(context: Any, builder: Any, sig: Any, args: Any) -> Any:
    col_type, row_type = sig.args
    ptr = _cell_pointer(context, builder, col_type, args[0], row_type, args[1])
    return context.unpack_value(builder, col_type.table.dtype, ptr)


@lower_builtin(operator.setitem, Column, types.Integer, types.Any)
def _column_setitem(context: Any, builder: Any, sig: Any, args: Any) -> None:
    col_type, row_type, value_type = sig.args
    ptr = _cell_pointer(context, builder, col_type, args[0], row_type, args[1])
    value = context.cast(builder, args[2], value_type, col_type.table.dtype)
    context.pack_value(builder, col_type.table.dtype, value, ptr)


@lower_cast(NamedSlots, types.Array)
@lower_cast(NamedColumns, types.Array)
def _names_dropped(context: Any, builder: Any, fromty: Any, toty: Any, val: Any) -> Any:
    """A view where a plain array is expected (``return a`` beside ``return np.zeros(...)``):
    the same value; the names exist only in the type."""
    return val


@dataclass(frozen=True)
class SlotLayout:
    """The field names of one kind of state array, in slot order ('' = a slot with no name):
    its elements (``ndim=1``, ``NamedSlots``) or its columns (``ndim=2``, ``NamedColumns``).

    ``view``: a compiled-code function turning such an array into its named view;
    ``index(name)``: the slot of a field (for Python code reading a returned array)."""

    title: str
    dtype: Any  # numpy dtype of the array
    fields: tuple[str, ...]
    ndim: int = 1
    numba_type: Any = field(init=False, repr=False, compare=False)
    view: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for k, name in enumerate(self.fields):
            if not name:
                continue
            if not _FIELD_RE.match(name) or name in _RESERVED:
                raise ValueError(f"{self.title}: slot {k} field name {name!r} is not allowed "
                                 "(lower case, not a numpy array attribute such as 'size')")
            if name in seen:
                raise ValueError(f"{self.title}: field {name!r} is declared twice")
            seen.add(name)
        kind = {1: NamedSlots, 2: NamedColumns}[self.ndim]
        numba_type = kind(self.title, from_dtype(np.dtype(self.dtype)), self.fields)
        object.__setattr__(self, "numba_type", numba_type)
        object.__setattr__(self, "view", _view_intrinsic(numba_type))

    def index(self, name: str) -> int:
        try:
            return self.fields.index(name) if name else -1
        except ValueError:
            raise KeyError(f"{self.title} has no field {name!r}; fields: "
                           f"{[f for f in self.fields if f]}") from None


def _view_intrinsic(numba_type: Any) -> Any:
    @intrinsic
    def view(typingctx: Any, arr: Any) -> Any:
        if not (isinstance(arr, types.Array) and arr.ndim == numba_type.ndim and arr.layout == "C"
                and arr.dtype == numba_type.dtype and arr.mutable):
            return None  # numba reports the argument type it could not accept

        def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
            return impl_ret_borrowed(context, builder, sig.return_type, args[0])

        return numba_type(arr), codegen

    return view


def layout_from_constants(title: str, dtype: Any, constants: Mapping[str, object],
                          prefixes: Mapping[str, str], size: str,
                          rename: Mapping[str, str] | None = None, ndim: int = 1) -> SlotLayout:
    """A layout named after a module's integer slot constants; ``size`` names the constant
    that holds the number of slots (or columns).

    A constant starting with one of ``prefixes`` names its slot: the rest of its name in lower
    case after the prefix's field prefix (``{"AL_": "local_"}``: ``AL_POS`` names its slot
    ``local_pos``), or ``rename[constant]`` ('' leaves the slot unnamed). So the constants stay
    the one declaration of where a value lives; Python code reading a returned array keeps
    using them."""
    rename = rename or {}
    n = constants[size]
    if not isinstance(n, int):
        raise TypeError(f"{title}: {size} = {n!r} is not a number of slots")
    fields = [""] * n
    for const, value in constants.items():
        prefix = next((p for p in prefixes if const.startswith(p)), None)
        if prefix is None or const == size or not isinstance(value, int) \
                or isinstance(value, bool):
            continue
        if not 0 <= value < n:
            raise ValueError(f"{title}: {const} = {value} is outside the {n} slots")
        name = rename.get(const, prefixes[prefix] + const[len(prefix):].lower())
        if not name:
            continue  # a slot left unnamed on purpose (unused)
        if fields[value]:
            raise ValueError(f"{title}: slot {value} is named twice ({fields[value]!r} and "
                             f"{name!r})")
        fields[value] = name
    return SlotLayout(title, dtype, tuple(fields), ndim)


@intrinsic
def _plain_array(typingctx: Any, arr: Any) -> Any:
    """The same array without its names (compiled code; e.g. to return it to Python)."""
    if not isinstance(arr, NamedSlots | NamedColumns):
        return None

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        return impl_ret_borrowed(context, builder, sig.return_type, args[0])

    return types.Array(arr.dtype, arr.ndim, "C")(arr), codegen


plain_array: Any = _plain_array
