"""Re-execute notebooks top to bottom in a fresh kernel and store their outputs (``make notebooks``).

This is the only way stored outputs are made: never edit outputs by hand. Widget state is
stored too, so a saved notebook shows its sliders and figures in JupyterLab without a kernel.
A notebook under ``notebooks/zh/`` (the Chinese edition, built by ``scripts/i18n.py build``) runs with
``LECTURE_LANG=zh`` in its kernel's environment.
Usage: python scripts/execute_notebooks.py [notebooks/NN_name.ipynb ...]
"""
import glob
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path):
    nb = nbformat.read(path, as_version=4)
    if Path(path).parent.name == "zh":
        os.environ["LECTURE_LANG"] = "zh"
    else:
        os.environ.pop("LECTURE_LANG", None)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}},
                            store_widget_state=True)
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    for cell in nb.cells:
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    raise SystemExit(f"{path}: cell raised {out.get('ename')}: {out.get('evalue')}")
    nbformat.write(nb, path)
    return seconds


def main(argv):
    paths = argv or sorted(glob.glob(str(ROOT / "notebooks" / "*.ipynb")))
    for p in paths:
        s = execute(p)
        print(f"{Path(p).name}: executed in {s:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
