"""python -m lecture_utils.sweeps NAME [NAME ...] | all | --list

NAME is a sweep, or one part of a sweep that is computed in parts (``tuned_lr.2``); a parted sweep
named whole is computed part by part; ``all`` computes every sweep and every part, one at a time.
"""
import sys
import time

from . import cache_path, compute, names, parts


def _todo(argv):
    """``[(name, part or None), …]`` from the command line."""
    if argv == ["all"]:
        return [(n, k) for n in names() for k in (parts(n) or [None])]
    out = []
    for arg in argv:
        name, _, part = arg.partition(".")
        out.append((name, int(part) if part else None))
    return out


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("sweeps:", ", ".join(names()))
        return 0
    if argv[0] == "--list":
        print("\n".join(f"{n}.{k}" if k else n for n in names() for k in (parts(n) or [None])))
        return 0
    for name, part in _todo(argv):
        t0 = time.perf_counter()
        compute(name, part=part, progress=True)
        where = cache_path(name, part=part).name if part or not parts(name) else f"sweep_{name}.part*.json"
        print(f"sweep {name}{f'.{part}' if part else ''}: {time.perf_counter() - t0:.1f} s -> data/{where}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
