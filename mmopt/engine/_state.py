"""The engine's state as one named tuple of arrays (numba compiles field access by name to the
same code as a positional read).

The small arrays are named views (``_named.py``): ``E.bk.best_bid``, ``E.acc.local_pos``,
``E.ic.step_ns``. Fields (``m`` = the order table's capacity):

* ``bk``: the book's scalars (layout ``_book.BOOK``); ``EL.bk`` is the strategy's own book with
  two clocks, otherwise the same array as ``E.bk``
* ``oi`` / ``of``: the order table, int and float columns per slot (``OI_*`` / ``OF_*``)
* ``rest``: slots of our resting orders at the exchange, row 0 buys, row 1 sells
* ``ctr``: counters and bounds of the order side (``ORDER_COUNTERS``: rings' heads, resting
  bounds, RNG)
* ``cnt``: the run's statistics (``RUN_COUNTERS``: fills, decisions, order events, acks)
* ``acc``: the accounts, exchange side and local (``ACCOUNT``: ``pos``, ``local_pos``, ...)
* ``rp`` / ``rpq``: the response ring (exchange to strategy) and its quantities
* ``fc`` / ``ic``: float and int settings of the run (``FLOAT_SETTINGS`` / ``INT_SETTINGS``)
* ``rq``: the request ring (strategy to exchange)
* ``ul``: the slots in use, in order
* ``lat``: the order latency model's table
"""

from __future__ import annotations

from collections import namedtuple

from numba import njit

__all__ = ["EngineState", "with_book"]

EngineState = namedtuple(
    "EngineState", ["bk", "oi", "of", "rest", "ctr", "cnt", "acc", "rp", "rpq", "fc", "ic", "rq",
                    "ul", "lat"]
)


@njit(cache=True)
def with_book(E, bk):
    """The same state seen through another book's scalars (the strategy's book, two clocks).

    Compiled with numba's runtime (unlike the ``hot`` helpers): the new tuple holds references
    to the arrays, which the caller releases when it is done with it."""
    return EngineState(bk, E.oi, E.of, E.rest, E.ctr, E.cnt, E.acc, E.rp, E.rpq, E.fc, E.ic, E.rq,
                       E.ul, E.lat)
