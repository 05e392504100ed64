# evalkit: two commands on a fresh machine with Python >= 3.11 and make.
#   make reports   set up .venv, generate the synthetic data if missing, render every report
#   make test      set up .venv, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.evalkit-installed
TEST_STAMP := $(VENV)/.evalkit-test-tools
DATA := data/synthetic

.PHONY: setup reports test test-fast lab synth translations docs clean help

help:
	@echo "make reports   render every programme report into reports/ (sets up on first use)"
	@echo "make test      run the whole test suite (sets up on first use)"
	@echo "make lab       open JupyterLab on notebooks/"
	@echo "make docs      build the API reference from the docstrings into build/docs/"
	@echo "make synth     (re)write the synthetic data in $(DATA)/"
	@echo "make translations  update the translation catalogues from the marked strings"
	@echo "make clean     remove .venv, rendered reports and caches"

# The runtime (what make reports, make lab and a pip install need) and, for make test and
# make docs only, the test tools (pytest, playwright, pyspark, Sphinx) on top of it.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "evalkit needs Python >= 3.11; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

setup: $(STAMP)

synth: $(STAMP)
	$(BIN)/evalkit synth --out $(DATA)

reports: $(STAMP)
	$(BIN)/evalkit synth --out $(DATA) --if-missing
	$(BIN)/evalkit report --all --jobs 2 --data $(DATA) --out reports

# one test process per core (at most 4), tests handed to whichever is free; each process
# renders the shared synthetic reports once
PYTEST := $(BIN)/python -m pytest -q --numprocesses auto --maxprocesses 4

test: $(TEST_STAMP)
	$(PYTEST)

test-fast: $(TEST_STAMP)
	$(PYTEST) -m "not slow and not browser"

docs: $(TEST_STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs/api build/docs
	@echo "API reference: build/docs/index.html"

# served from the repository (the guided notebook writes data/programmes/ and reports/, and
# opens the report it rendered); opens on notebooks/
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks

# Fixed report text is marked _("...") or N_("..."); this refreshes the template and merges
# it into every language's catalogue (new strings arrive untranslated: the tests then fail
# until they are translated).
translations: $(STAMP)
	$(BIN)/python -m evalkit.i18n
	$(BIN)/pybabel update -i evalkit/locale/evalkit.pot -d evalkit/locale -D evalkit \
	  --no-fuzzy-matching --ignore-obsolete --width 100

clean:
	rm -rf $(VENV) reports/*.html reports/_executed .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
