# Mini-batches and momentum — the two commands of the README, and a few for maintainers.
#   make lab    set up .venv (once) and open the course in JupyterLab on 127.0.0.1:$(PORT), with a token
#   make test   set up .venv (once), lint (ruff), then the unit tests, strict nbval (offline, from an empty
#               cache), the static site (built and checked), the same under two other CPU code paths
#               (portability) and the browser test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
APP_PORT ?= 8866
APP_CULL_S ?= 600
APP_CULL_EVERY_S ?= 60
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
NB ?=
# pytest-xdist workers for the unit and nbval stages (auto: one per CPU)
JOBS ?= auto

.PHONY: setup lab restore check-class test lint unit nbval portability browser notebooks slides sweeps bench app hub-test lock clean-cache site site-check

# On Linux, PyPI's torch is the multi-GB CUDA build: torch's CPU build comes from PyTorch's CPU wheel index
# when that answers within 3 s (the same pinned version; pip prefers 2.13.0+cpu to 2.13.0). Where it cannot
# be reached (offline mirrors, a firewall) the set-up goes on at once with the configured indexes.
# `make setup TORCH_INDEX=` never asks it.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
PROBE := import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=3)
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@extra=; if [ "$$(uname -s)" = Linux ] && [ -n "$(TORCH_INDEX)" ]; then \
	  if timeout 4 $(BIN)/python -c '$(PROBE)' '$(TORCH_INDEX)' >/dev/null 2>&1; then \
	    extra="--extra-index-url $(TORCH_INDEX)"; echo "setup: torch's CPU build from $(TORCH_INDEX)"; \
	  else echo "setup: $(TORCH_INDEX) did not answer within 3 s: torch from the configured package indexes"; \
	  fi; fi; \
	set -x; $(BIN)/python -m pip install --quiet --disable-pip-version-check $$extra -c constraints.txt \
	  -e '.[test,present]'
	@touch $(STAMP)

setup: $(STAMP)

# make lab serves the learner's own copy my-notebooks/ (git-ignored; a notebook is copied there only when
# missing, so saved work is never overwritten and the course's stored outputs never change). Its custom CSS
# is the course's Chinese font (app/voila/templates/course/static/custom.css, a data: URL; nothing fetched).
lab: setup
	$(BIN)/python scripts/student_copy.py ensure
	$(BIN)/jupyter lab --notebook-dir=my-notebooks --ip=127.0.0.1 --port=$(PORT) --no-browser $(ROOT_FLAG) \
	  --ServerApp.port_retries=0 --LabApp.custom_css=True \
	  "--ServerApp.tornado_settings=static_custom_path=$(CURDIR)/app/voila/templates/course/static"

# Put back the course's original of one notebook in my-notebooks/ (yours is kept as NAME.mine-<time>.ipynb):
#   make restore NB=01_batches_and_epochs
restore: setup
	@test -n "$(NB)" || { echo "usage: make restore NB=01_batches_and_epochs"; exit 2; }
	$(BIN)/python scripts/student_copy.py restore $(NB)

# Is this machine ready for class? (teaching/README.md) environment, notebooks, data, caches, panels, a slider.
check-class: setup
	$(BIN)/python scripts/check_class.py

# Every stage runs even when an earlier one failed (setup, then lint, unit, nbval, portability, browser);
# the summary names each stage's result, time and CPU seconds; the exit code is non-zero if any failed
# (scripts/test_stages.sh). The browser test (waiting on the browser, ~0.7 of a CPU) runs beside the
# portability stage, which keeps both CPUs busy.
test:
	@scripts/test_stages.sh "$(MAKE)" setup lint unit nbval site-check portability+browser

# ruff (config in pyproject.toml: pyflakes/pycodestyle errors, import order, lines <= 110).
lint: setup
	$(BIN)/ruff check .

unit: setup
	$(BIN)/python -m pytest tests -q --ignore=tests/browser --ignore=tests/site -n $(JOBS) --dist worksteal --durations=15

browser: setup
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then \
	  $(BIN)/python -m pytest tests/browser -q; \
	else echo "SKIPPED browser test: no Chromium at $${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)"; fi

# Strict nbval of every notebook in a copy of the repository without the MNIST-1D cache, inside
# `unshare -n` (offline); one notebook per xdist worker. This is the suite's determinism check too.
nbval: setup
	$(BIN)/python scripts/nbval_offline.py -n $(JOBS)

# Strict nbval and the tests marked `recompute` under two other CPU code paths (stand-ins for another CPU):
# ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2, and =default with SSE4_2; both paths at once.
portability: setup
	$(BIN)/python scripts/portability.py

# Re-execute notebooks in a fresh kernel and store their outputs (the only way outputs are made).
# Then the Chinese edition: the catalogs (locale/zh_CN/*.po) follow the English cells (a changed cell turns
# fuzzy), and notebooks/zh/ is built from them and executed; the build stops at a missing or fuzzy translation.
notebooks: setup
	$(BIN)/python scripts/execute_notebooks.py $(NB)
	$(BIN)/python scripts/i18n.py update $(NB)
	$(BIN)/python scripts/i18n.py build $(NB)
	$(BIN)/python scripts/execute_notebooks.py $(if $(NB),$(addprefix notebooks/zh/,$(notdir $(NB))),notebooks/zh/*.ipynb)

# The course without an install (docs/site.md): site/ (git-ignored) — an index and one page per notebook of
# both languages, whose sliders move through frames drawn in advance by the panels' own code. Open
# site/index.html from disk, or publish the folder on any static host (GitHub Pages). Incremental: only the
# panels whose cell or code changed are drawn again. site-check builds it and checks it (budgets, captions).
site: setup
	$(BIN)/python scripts/build_site.py

site-check: site
	$(BIN)/python -m pytest tests/site -q -p no:randomly

# Slide metadata (## heading = new slide) for presenting with jupyterlab-slideshow; run before make notebooks.
slides: setup
	$(BIN)/python scripts/add_slide_metadata.py

# Recompute every cached sweep under data/ (python -m lecture_utils.sweeps NAME for one).
sweeps: setup
	$(BIN)/python -m lecture_utils.sweeps all

# A class on one server (issue 13): a real JupyterHub on 127.0.0.1 with 8 students runs every notebook at
# once, one student also in Chromium; installs the hub extra and the proxy (npm ci) first. Report printed and
# in tests/hub/artifacts/hub_report.json. HUB_STUDENTS=2 for a quick run.
HUB_STAMP := $(VENV)/.installed-hub
$(HUB_STAMP): pyproject.toml constraints.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,present,hub]'
	@touch $(HUB_STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

hub-test: $(HUB_STAMP) node_modules/.package-lock.json
	LECTURE_HUB_TEST=1 $(BIN)/python -m pytest tests/hub -q -s -p no:cacheprovider

bench: setup
	$(BIN)/python benchmarks/run.py

# Every notebook as a web app (Voila; docs/app.md) on 127.0.0.1:$(APP_PORT) (not make lab's port), with a
# generated token (the URL with it is printed): a list of the notebooks, each a page. app/voila.json: the course's
# template (app/voila/templates/course: nothing fetched from another machine, exercises shown as a note), one
# kernel per notebook started and run ahead (a page opens at once), only the widget extensions. A kernel idle for
# $(APP_CULL_S) s whose page was closed is shut down.
app: setup
	env JUPYTER_PATH=$(CURDIR)/app$${JUPYTER_PATH:+:$$JUPYTER_PATH} \
	  $(BIN)/voila notebooks --Voila.config_file_paths=$(CURDIR)/app \
	  --Voila.ip=127.0.0.1 --port=$(APP_PORT) --no-browser \
	  --Voila.auto_token=True --ServerApp.port_retries=0 \
	  --MappingKernelManager.cull_idle_timeout=$(APP_CULL_S) --MappingKernelManager.cull_interval=$(APP_CULL_EVERY_S)

# Re-pin the environment from what .venv holds (maintainers, after changing pyproject.toml).
lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//' | \
	  (echo "# Pinned versions of the classroom environment (pip constraints)."; \
	   echo "# make installs from this file; environment.yml pins the same versions (tests/test_environment.py checks)."; \
	   echo "# Regenerate: make lock"; cat) > constraints.txt

clean-cache:
	rm -f data/mnist1d_seed*.npz
