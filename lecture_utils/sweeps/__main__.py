"""python -m lecture_utils.sweeps NAME [NAME ...] | all | --list"""
import sys
import time

from . import compute, names


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        print("sweeps:", ", ".join(names()))
        return 0
    if argv[0] == "--list":
        print("\n".join(names()))
        return 0
    todo = names() if argv == ["all"] else argv
    for name in todo:
        t0 = time.perf_counter()
        compute(name, progress=True)
        print(f"sweep {name}: {time.perf_counter() - t0:.1f} s -> data/sweep_{name}.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
