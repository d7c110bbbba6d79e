"""Does a refactor of the engine change its machine code? Compare two checkouts' assembly.

For a change meant to be a pure restructuring (names in place of slot numbers, moved code),
"no regression" is best shown without timing: if every compiled function of the engine has
the same instructions before and after, the two run the same way. Timed A/Bs on a shared VM
cannot show a few per cent (docs/benchmarks.md: two checkouts of the same source differ by up
to 20 %).

Each checkout runs in a child process with an empty numba cache (assembly is only available
for code compiled in that process): it warms up ``--strategy``, then writes the assembly of
every numba function of the engine's compiled modules, normalised for what legitimately
differs between checkouts: symbol names (they carry the argument types' names), the function's
number in local labels (``.LBB3_7`` -> ``.LBB_7``), and the data numba embeds for ``raise``
(pickled exception data with the source file's path and line number, and its length: every
``.ascii`` string is compared as ``<data>``, so a changed error message is not reported).

Prints the functions compared, and which differ (with a few differing lines each); exit
status 0 when all are the same. About 70 s of compile per checkout.

Run: ``.venv/bin/python benchmarks/engine_same_code.py --base <checkout of the old commit>
[--new <checkout, default this one>] [--strategy price_follow] [--workdir DIR]``. A checkout
of a commit: ``git worktree add ../base <commit>``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_CHILD = r'''
import json, re, sys
from mmopt.strategies import warm_up
warm_up(sys.argv[2])
import importlib
names = ["_book", "_exchange", "_features", "_kernel", "_latency", "_local", "_orders", "_rows"]
out = {}
for short in names:
    mod = importlib.import_module("mmopt.engine." + short)
    for name in sorted(vars(mod)):
        obj = getattr(mod, name)
        if not hasattr(obj, "overloads") or getattr(obj, "__module__", "") != mod.__name__:
            continue
        texts = []
        for cres in obj.overloads.values():
            asm = cres.library.get_asm_str()
            asm = re.sub(r"_ZN\w+", "SYM", asm)  # mangled names carry the argument types
            asm = re.sub(r"\.const\.[\w.]+", ".const", asm)
            asm = re.sub(r'"?\.bytes\.-?\d+"?', ".bytes", asm)  # pickled exception data
            # local labels: the function's number in its module differs, the block's does not
            asm = re.sub(r"\.L(BB|CPI|JTI)\d+_(\d+)", r".L\1_\2", asm)
            asm = re.sub(r"\.Lfunc_end\d+", ".Lfunc_end", asm)
            lines = []
            for line in asm.splitlines():
                s = line.strip()
                if s.startswith((".file", ".ident", ".section", ".size", ".type", ".globl",
                                 ".p2align", ".cfi", "#")):
                    continue
                if s.startswith(".ascii"):  # exception data: path, line number
                    line = "\t.ascii <data>"
                lines.append(line)
            # the struct that points at that data holds its length in the .long after it
            text = re.sub(r"(\t\.quad\t\.(?:const|bytes)\n)\t\.long\t\d+", r"\1\t.long <len>",
                          "\n".join(lines))
            texts.append(text)
        for k, text in enumerate(sorted(texts)):  # overloads paired by their code
            out[f"{short}.{name}#{k}"] = text
json.dump(out, open(sys.argv[1], "w"))
'''


def _dump(checkout: Path, strategy: str, work: Path, tag: str) -> dict[str, str]:
    import json

    out = work / f"{tag}.json"
    shutil.rmtree(work / f"cache_{tag}", ignore_errors=True)  # assembly only of fresh compiles
    env = {**os.environ, "NUMBA_CACHE_DIR": str(work / f"cache_{tag}"),
           "PYTHONPATH": str(checkout)}
    subprocess.run([sys.executable, "-c", _CHILD, str(out), strategy], env=env, check=True,
                   cwd=checkout)
    result: dict[str, str] = json.loads(out.read_text())
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=Path, required=True, help="checkout of the old commit")
    ap.add_argument("--new", type=Path, default=REPO, help="checkout of the new (default: here)")
    ap.add_argument("--strategy", default="price_follow")
    ap.add_argument("--workdir", type=Path,
                    help="keep the caches and the assembly (base.json, new.json) here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mmopt-same-code-") as tmp:
        work = (args.workdir or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        base = _dump(args.base.resolve(), args.strategy, work, "base")
        new = _dump(args.new.resolve(), args.strategy, work, "new")
    only_base = sorted(set(base) - set(new))
    only_new = sorted(set(new) - set(base))
    common = sorted(set(base) & set(new))
    differ = [k for k in common if base[k] != new[k]]
    print(f"compiled functions: {len(base)} (base), {len(new)} (new); "
          f"same machine code: {len(common) - len(differ)} of {len(common)} in both")
    for name in only_base:
        print(f"  only in base: {name}")
    for name in only_new:
        print(f"  only in new: {name}")
    for name in differ:
        diff = list(difflib.unified_diff(base[name].splitlines(), new[name].splitlines(),
                                         lineterm="", n=0))
        print(f"  differs: {name} ({len(diff)} diff lines)")
        for line in diff[2:12]:
            print(f"      {line}")
    same = not (differ or only_base or only_new)
    print("same machine code" if same else "machine code differs")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
