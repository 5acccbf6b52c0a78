# Two commands are enough on a fresh machine: `make site` and `make test`.
# The Makefile makes its own virtual environment from the locked dependencies: `make site` installs
# only what building needs (requirements.txt), `make test` adds the test tools (requirements-dev.txt).
# Both locks are generated from pyproject.toml by `make lock`; pip checks every file against its hash.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One stamp per lock content: a changed lock reinstalls, an unchanged one does nothing.
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(shell sha256sum requirements.txt | cut -c1-12)
DEV_STAMP := $(VENV)/.installed-dev-$(shell sha256sum requirements-dev.txt | cut -c1-12)
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes
export NO_MKDOCS_2_WARNING := 1
# mkdocs-ng-material's notice on every run (stderr only; the strict build is not affected).
export NO_MKDOCS_NG_NOTICE := 1

.PHONY: help site test check lint validate serve new clean bench profile migrate watch install install-dev lock linkcheck zensical compare-generators site-runnerup

# `make` alone lists the targets: each is documented by the `## ` comment on its own line.
help:
	@echo "Targets (HACKING.md explains the stages; CONTRIBUTING.md the evidence):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  make \1\t\2/' | expand -t 20

install: $(RUNTIME_STAMP) ## the locked runtime dependencies in .venv
install-dev: $(DEV_STAMP) ## the runtime and test dependencies in .venv

# MkDocs NG installs the same `mkdocs` package that upstream MkDocs did: a .venv made before the switch
# (decisions/0001-site-generator.md) first loses upstream MkDocs and Material, which would share its files.
$(RUNTIME_STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip uninstall --quiet --yes mkdocs mkdocs-material 2>/dev/null || true
	$(PIP_INSTALL) -r requirements.txt
	rm -f $(VENV)/.installed-runtime-*
	touch $@

# The dev lock holds the runtime set too (same versions), so this is the runtime set plus the test tools.
$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PIP_INSTALL) -r requirements-dev.txt
	rm -f $(VENV)/.installed-dev-*
	touch $@

# Regenerates both locks from pyproject.toml, keeping every pinned version that still fits.
# Upgrade one package: make lock LOCK_ARGS="--upgrade-package mkdocs-material"; all: LOCK_ARGS=--upgrade.
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: $(DEV_STAMP) ## regenerate requirements*.txt from pyproject.toml
	$(LOCK) --output-file=requirements.txt pyproject.toml
	$(LOCK) --extra=dev --output-file=requirements-dev.txt pyproject.toml

# The steps are listed once, in generators/steps.py (the tests and the benchmark run the same list):
# the build derives the model once and writes build/ (the Markdown site, its configuration,
# build/manifest.json and the PDF's Markdown); the HTML by stock MkDocs; its search indexes; the PDF;
# the offline copy. Each step after the build reads only build/ and the HTML.
# Built into a fresh folder and swapped in only when everything succeeded,
# so a failed build never leaves a half-built site/.
site: $(RUNTIME_STAMP) ## build site/ with the PDF and the offline copy
	rm -rf site.new
	$(BIN)/python -m generators site site.new
	rm -rf site.old
	if [ -d site ]; then mv site site.old; fi
	mv site.new site
	rm -rf site.old
	@echo "Built site/ (open site/index.html through a web server, or run make serve)."

# On every core (pytest-xdist): each worker builds the real handbook and the fixture site once.
test: $(DEV_STAMP) ## the whole test suite (builds the site once per worker, drives Chromium)
	$(BIN)/python -m pytest -n auto

# The fast lane: validation, then every test that needs no browser, no built site and no full build
# (tests/conftest.py marks the others "slow"). About a minute on two cores.
check: $(DEV_STAMP) ## validation + the fast tests: run it after every change
	$(BIN)/python -m generators validate
	$(BIN)/python -m pytest -m "not slow"

lint: $(DEV_STAMP) ## ruff check and format check (pre-commit runs the same)
	$(BIN)/ruff check generators tests bench migrations
	$(BIN)/ruff format --check generators tests bench migrations

validate: $(RUNTIME_STAMP) ## check every record and the bibliography, all problems at once
	$(BIN)/python -m generators validate

# Regenerates build/ when a record, the bibliography, a schema, a page or the generators change.
serve: $(RUNTIME_STAMP) ## preview at http://127.0.0.1:8000/, rebuilt on every edit
	$(BIN)/python -m generators serve

# The build benchmark (synthetic sets of 100-5,000 records and the real handbook; several minutes).
# Writes bench/results.md and bench/results.json. Not part of make test.
bench: $(DEV_STAMP) ## the build benchmark -> bench/results.md
	$(BIN)/python bench/run.py $(if $(SIZES),--sizes $(SIZES))

# Where one mkdocs build's time goes, by stage and by package (cProfile, 1,000 synthetic records
# unless RECORDS is given). Writes bench/profile.md.
profile: $(RUNTIME_STAMP) ## where one build's time goes -> bench/profile.md
	$(BIN)/python bench/profile.py $(if $(RECORDS),--records $(RECORDS))

# Upgrade every record to the current record format (schema_version); see migrations/.
migrate: $(RUNTIME_STAMP) ## upgrade every record to the current schema_version
	$(BIN)/python -m migrations

# What changed in the trial registries and PubMed since the records were written -> build/watch-report.md.
# make fails only when checks failed and nothing changed (the command's own exit codes: 0 nothing
# changed, 1 changes found, 2 only errors). Offline, on recorded responses:
# make watch WATCH_FIXTURES=tests/fixtures/watch (its project/ holds the records those responses answer).
watch: $(RUNTIME_STAMP) ## registries, PubMed, FDA and retractions -> build/watch-report.md
	$(BIN)/python -m generators $(if $(WATCH_FIXTURES),--root $(WATCH_FIXTURES)/project) watch \
		$(if $(WATCH_FIXTURES),--fixtures $(WATCH_FIXTURES)) $(WATCH_ARGS); test $$? -le 1

# make new KIND=study ID=my-trial
new: $(RUNTIME_STAMP) ## make new KIND=study ID=my-trial: a commented record template
	$(BIN)/python -m generators new $(KIND) $(ID)

# The link check of the built site alone (tests/test_links.py on site/, no network); make test runs it too.
linkcheck: $(DEV_STAMP) ## every internal link of the built site/ resolves
	HANDBOOK_SITE=$(CURDIR)/site $(BIN)/python -m pytest tests/test_links.py

# The same generated tree (build/) built by Zensical, Material's successor, into site-zensical/, with
# our PDF beside it: it shows the build does not depend on MkDocs. A comparison, not the published site.
# Zensical gets a venv of its own (.venv-zensical), since it brings its own Markdown stack. 0.0.73 is the
# newest that installs from PyPI (0.0.74 to 0.1.4 require zensical-ui, which the index does not offer;
# checked 2026-12-07, bench/generators.md).
# Zensical has no --site-dir and keeps site_dir inside the config's folder, hence the copied config.
# Compared with make site (zensical 0.0.73, December 2026): the same 271 pages with the same article
# text, navigation, footnotes, notice and edit buttons, strict build with no warnings, every link resolves.
# Differs: its "modern" look unless theme.variant is classic; its own search dialog (search.json; finds
# the same records, but not through Material's search markup, which tests/conftest.py drives); no
# sitemap.xml.gz. Its offline plugin also works from file:// (build/mkdocs-offline.yml), not made here.
ZENSICAL := zensical==0.0.73
ZENSICAL_STAMP := .venv-zensical/.installed-$(subst ==,-,$(ZENSICAL))
$(ZENSICAL_STAMP):
	$(PYTHON) -m venv .venv-zensical
	.venv-zensical/bin/python -m pip install --quiet --disable-pip-version-check $(ZENSICAL)
	rm -f .venv-zensical/.installed-*
	touch $@

zensical: $(RUNTIME_STAMP) $(ZENSICAL_STAMP) ## the same build/ tree built by Zensical (a comparison)
	$(BIN)/python -m generators build
	sed 's#^site_dir: .*#site_dir: site-zensical#' build/mkdocs.yml > build/zensical.yml
	rm -rf build/site-zensical
	.venv-zensical/bin/zensical build --strict --clean -f build/zensical.yml
	$(BIN)/python -m generators pdf build/site-zensical/handbook.pdf
	rm -rf site-zensical
	mv build/site-zensical site-zensical
	@echo "Built site-zensical/ with $(ZENSICAL)."

# Site generators compared on the same build/ tree (issue 33; decisions/0001-site-generator.md): each
# candidate in a venv of its own (.venv-gen/<name>/) from its hashed lock in bench/generators/; strict
# build, page texts against today's, the built-site tests (search question bank, axe, offline, links),
# PDF, serve edit -> page, clean build time and peak memory at the real handbook, 1,000 and 5,000
# synthetic records, candidates interleaved in each of 3 repetitions. About 40 minutes on 2 cores;
# COMPARE_ARGS=--quick: the real handbook only, one repetition. Writes bench/generators.md and .json.
compare-generators: $(DEV_STAMP) ## site generators compared -> bench/generators.md
	$(BIN)/python bench/compare_generators.py $(COMPARE_ARGS)

# The whole site (make site's steps) built by the runner-up of decisions/0001-site-generator.md, from
# its lock bench/generators/$(RUNNERUP).txt, into site-runnerup/: a comparison, not the published site.
RUNNERUP ?= properdocs-materialx
site-runnerup: $(DEV_STAMP) ## the site built by the runner-up generator -> site-runnerup/
	$(BIN)/python bench/compare_generators.py --site $(RUNNERUP) site-runnerup

clean: ## remove every built file and cache
	rm -rf site site.new site.old site-zensical site-runnerup site-runnerup.new build .cache .pytest_cache
