# Two commands are enough on a fresh machine: `make site` and `make test`.
# The Makefile makes its own virtual environment from the pinned requirements.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.txt | cut -c1-12)
export NO_MKDOCS_2_WARNING := 1

.PHONY: site test validate serve new clean bench profile migrate watch

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# The Markdown site and its configuration (build/), the HTML by stock MkDocs, then the exports.
# Built into a fresh folder and swapped in only when everything succeeded,
# so a failed build never leaves a half-built site/.
site: $(STAMP)
	rm -rf site.new
	$(BIN)/python -m generators build
	$(BIN)/mkdocs build --strict -f build/mkdocs.yml --site-dir $(CURDIR)/site.new
	$(BIN)/python -m generators search-index site.new
	$(BIN)/python -m generators pdf site.new/handbook.pdf
	$(BIN)/python -m generators offline site.new
	rm -rf site.old
	if [ -d site ]; then mv site site.old; fi
	mv site.new site
	rm -rf site.old
	@echo "Built site/ (open site/index.html through a web server, or run make serve)."

test: $(STAMP)
	$(BIN)/python -m pytest

validate: $(STAMP)
	$(BIN)/python -m generators validate

# Regenerates build/ when a record, the bibliography, a schema, a page or the generators change.
serve: $(STAMP)
	$(BIN)/python -m generators serve

# The build benchmark (synthetic sets of 100-5,000 records and the real handbook; several minutes).
# Writes bench/results.md and bench/results.json. Not part of make test.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(if $(SIZES),--sizes $(SIZES))

# Where one mkdocs build's time goes, by stage and by package (cProfile, 1,000 synthetic records
# unless RECORDS is given). Writes bench/profile.md.
profile: $(STAMP)
	$(BIN)/python bench/profile.py $(if $(RECORDS),--records $(RECORDS))

# Upgrade every record to the current record format (schema_version); see migrations/.
migrate: $(STAMP)
	$(BIN)/python -m migrations

# What changed in the trial registries and PubMed since the records were written -> build/watch-report.md.
# make fails only when checks failed and nothing changed (the command's own exit codes: 0 nothing
# changed, 1 changes found, 2 only errors). Offline, on recorded responses:
# make watch WATCH_FIXTURES=tests/fixtures/watch (its project/ holds the records those responses answer).
watch: $(STAMP)
	$(BIN)/python -m generators $(if $(WATCH_FIXTURES),--root $(WATCH_FIXTURES)/project) watch \
		$(if $(WATCH_FIXTURES),--fixtures $(WATCH_FIXTURES)) $(WATCH_ARGS); test $$? -le 1

# make new KIND=study ID=my-trial
new: $(STAMP)
	$(BIN)/python -m generators new $(KIND) $(ID)

clean:
	rm -rf site site.new site.old build .pytest_cache
