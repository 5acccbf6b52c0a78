// Clinical calculators on record pages: <div class="handbook-calculator" data-calculator="...">.
// Every number (weights, cut-offs, conversion tables, thresholds) comes from the JSON the page
// carries, written from the record at build time: the printed tables and the calculator share it.
// No network, no external script; works from file:// (offline copy). Runs once per page load:
// a calculator already set up is marked data-ready and skipped.
(function () {
  "use strict";

  var uid = 0;
  function nextId(prefix) { uid += 1; return "calc-" + prefix + "-" + uid; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // Sums in tenths of a point, so 5.5 is never 5.499999 (weights have one decimal).
  function tenths(value) { return Math.round(Number(value) * 10); }
  function fromTenths(value) { return (value / 10).toFixed(1); }
  function formatPoints(value) { return String(Math.round(value * 100) / 100); }

  function citationLink(key) {
    // mkdocs-bibtex footnotes: the reference text of each key is on the page as #fn:key
    var note = document.getElementById("fn:" + key);
    if (!note) return document.createTextNode(key);
    var text = note.textContent.replace(/\s+/g, " ").replace(/[↩︎]/g, "").trim();
    return el("a", { href: "#fn:" + key, text: text.length > 90 ? text.slice(0, 87) + "…" : text });
  }

  function showResult(region, errors, rows) {
    region.textContent = "";
    if (errors.length) {
      region.className = "calculator-result calculator-has-errors";
      region.appendChild(el("p", { "class": "calculator-error-title", text: "No result yet:" }));
      region.appendChild(el("ul", {}, errors.map(function (e) { return el("li", { text: e }); })));
      return;
    }
    region.className = "calculator-result";
    region.appendChild(el("dl", {}, rows.reduce(function (all, row) {
      var value = el("dd", { "data-result": row[0] });
      if (typeof row[2] === "string") value.textContent = row[2];
      else value.appendChild(row[2]);
      return all.concat([el("dt", { text: row[1] }), value]);
    }, [])));
  }

  function radio(name, value, label, checked) {
    var id = nextId("r");
    var input = el("input", { type: "radio", name: name, value: value, id: id });
    if (checked) input.checked = true;
    return el("div", { "class": "calculator-choice" }, [input, el("label", { "for": id, text: label })]);
  }

  // --- weighted classification criteria (EULAR/ACR 2017) -----------------------------

  function setUpClassification(box, data) {
    var items = data.items, model = data.model;
    var noneLabels = {};
    (model.choice_groups || []).forEach(function (g) { noneLabels[g.id] = g.none_label; });
    var form = el("form", { "class": "calculator-form", novalidate: "novalidate" });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var modeName = nextId("mode");
    form.appendChild(el("fieldset", {}, [
      el("legend", { text: "Muscle biopsy" }),
      radio(modeName, "without", "No biopsy findings: use the weights without biopsy"),
      radio(modeName, "with", "Biopsy findings included: use the weights with biopsy"),
    ]));

    var domains = [], byDomain = {};
    items.forEach(function (item, index) {
      var domain = item.domain || "Items";
      if (!byDomain[domain]) { byDomain[domain] = []; domains.push(domain); }
      byDomain[domain].push({ item: item, index: index });
    });
    var weightLabels = [];
    domains.forEach(function (domain) {
      var set = el("fieldset", {}, [el("legend", { text: domain })]);
      var groups = {};
      byDomain[domain].forEach(function (entry) {
        var item = entry.item, id = nextId("i"), input, weight = el("span", { "class": "calculator-weight" });
        weightLabels.push({ node: weight, item: item });
        if (item.choice_group) {
          var name = "group-" + item.choice_group + "-" + modeName;
          if (!groups[item.choice_group]) {
            groups[item.choice_group] = true;
            var none = radio(name, "", noneLabels[item.choice_group] || "None of these");
            none.querySelector("input").dataset.group = item.choice_group;
            set.appendChild(none);
          }
          input = el("input", { type: "radio", name: name, value: String(entry.index), id: id });
          input.dataset.group = item.choice_group;
        } else {
          input = el("input", { type: "checkbox", value: String(entry.index), id: id });
        }
        input.dataset.item = String(entry.index);
        var label = el("label", { "for": id }, [document.createTextNode(item.item + " "), weight]);
        set.appendChild(el("div", { "class": "calculator-choice" }, [input, label]));
      });
      form.appendChild(set);
    });

    var region = el("div", { "class": "calculator-result", "aria-live": "polite", role: "status" });
    form.appendChild(el("h3", { text: "Result" }));
    form.appendChild(region);
    box.appendChild(form);

    function mode() {
      var chosen = form.querySelector('input[name="' + modeName + '"]:checked');
      return chosen ? chosen.value : "";
    }

    function update() {
      var m = mode(), errors = [];
      weightLabels.forEach(function (w) {
        var item = w.item;
        if (!m) w.node.textContent = item.requires_biopsy ? "(with biopsy " + item.weight_with_biopsy + ")"
          : "(" + item.weight_without_biopsy + " without biopsy, " + item.weight_with_biopsy + " with biopsy)";
        else if (m === "without" && item.requires_biopsy) w.node.textContent = "(counts only with biopsy findings)";
        else w.node.textContent = "(+" + (m === "with" ? item.weight_with_biopsy : item.weight_without_biopsy) + ")";
      });
      if (!m) errors.push("Choose whether muscle biopsy findings are included: the weights and cut-offs differ.");
      var ticked = Array.prototype.filter.call(form.querySelectorAll("input[data-item]"), function (i) { return i.checked; })
        .map(function (i) { return items[Number(i.dataset.item)]; });
      var biopsyTicked = ticked.filter(function (item) { return item.requires_biopsy; });
      if (m === "without" && biopsyTicked.length) {
        errors.push("A muscle biopsy finding is ticked (" + biopsyTicked.map(function (i) { return i.item; }).join("; ") +
          ") but the weights without biopsy are chosen. Choose 'Biopsy findings included', or untick the biopsy findings.");
      }
      Object.keys(noneLabels).concat(items.filter(function (i) { return i.choice_group; }).map(function (i) { return i.choice_group; }))
        .filter(function (g, i, all) { return all.indexOf(g) === i; })
        .forEach(function (group) {
          var answered = Array.prototype.some.call(form.querySelectorAll("input[type=radio]"), function (i) {
            return i.dataset.group === group && i.checked;
          });
          if (!answered) {
            var first = items.filter(function (i) { return i.choice_group === group; })[0];
            errors.push("Answer '" + (first.domain || group) + "' (choose one option, '" + (noneLabels[group] || "None of these") + "' if none applies).");
          }
        });
      if (errors.length) { showResult(region, errors, []); return; }

      var total = ticked.reduce(function (sum, item) {
        return sum + tenths(m === "with" ? item.weight_with_biopsy : item.weight_without_biopsy);
      }, 0);
      var totalRow = ["total", "Total score", fromTenths(total) + (m === "with" ? " (weights with biopsy)" : " (weights without biopsy)")];
      var cites = el("span", {});
      (model.cite || []).forEach(function (k, i) { if (i) cites.appendChild(document.createTextNode("; ")); cites.appendChild(citationLink(k)); });
      // The criteria's own condition: without one of the rash items, only biopsy findings let a
      // patient be classified, whatever the score. Such a patient gets no category and no band.
      var gate = model.rash_or_biopsy;
      if (gate && !ticked.some(function (item) { return gate.items.indexOf(item.item) >= 0 || item.requires_biopsy; })) {
        var why = el("span", {}, [document.createTextNode(gate.text + " ")]);
        (gate.cite || []).forEach(function (k, i) { if (i) why.appendChild(document.createTextNode("; ")); why.appendChild(citationLink(k)); });
        showResult(region, [], [
          totalRow,
          ["category", "Category", "None: not classifiable without muscle biopsy findings. A muscle biopsy is needed before these criteria can classify this patient."],
          ["why", "Why", why],
          ["source", "Source", cites],
        ]);
        return;
      }
      var key = m === "with" ? "from_with_biopsy" : "from_without_biopsy";
      var category = model.categories[0];
      model.categories.forEach(function (c) { if (c[key] !== undefined && c[key] !== null && total >= tenths(c[key])) category = c; });
      var constant = model[m === "with" ? "logistic_constant_with_biopsy" : "logistic_constant_without_biopsy"];
      var probability = (typeof constant === "number")
        ? (100 / (1 + Math.exp(constant - total / 10))).toFixed(1) + "%"
        : category.probability + " (the band the criteria give for this category; the exact formula was not found on a source page)";
      showResult(region, [], [
        totalRow,
        ["probability", "Probability of IIM", probability],
        ["category", "Category", category.label + (category.classifies ? " (classified as IIM)" : " (not classified as IIM)")],
        ["subgroup", "Subgroup", "Not assigned here: the branches of the classification tree were not found on a source page (see 'Left out of this record' on this page)."],
        ["source", "Source", cites],
      ]);
    }
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  // --- composite response criteria (total improvement score) --------------------------

  function pointsFor(measure, change) {
    var band = 0;
    measure.improvement_cut_points.forEach(function (cut) { if (change > cut) band += 1; });
    return measure.points[band];
  }

  function setUpResponse(box, data) {
    var measures = data.measures, thresholds = data.thresholds;
    var form = el("form", { "class": "calculator-form", novalidate: "novalidate" });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    var tableName = nextId("table");
    var ageId = nextId("age");
    var ageHint = nextId("hint");
    form.appendChild(el("fieldset", {}, [
      el("legend", { text: "Patient and table" }),
      el("div", { "class": "calculator-choice-list" }, thresholds.map(function (t) {
        return radio(tableName, t.population, t.label + " (" + t.population + " thresholds)");
      })),
      el("div", { "class": "calculator-field" }, [
        el("label", { "for": ageId, text: "Age at assessment (years)" }),
        el("input", { id: ageId, type: "number", inputmode: "decimal", min: "0", max: "120", step: "any", "aria-describedby": ageHint }),
        el("p", { id: ageHint, "class": "calculator-hint", text: "The adult thresholds are for patients aged 18 or more." }),
      ]),
    ]));
    var changeHint = nextId("hint");
    var set = el("fieldset", {}, [
      el("legend", { text: "Improvement of each core set measure" }),
      el("p", { id: changeHint, "class": "calculator-hint",
        text: "Enter each measure's absolute percentage change as the criteria define it (the official IMACS calculators work it out from baseline and follow-up values). It is not the change as a percentage of the patient's own baseline value: that relative change is a different number. A positive number for improvement, a negative number for worsening (100 at most)." }),
    ]);
    var inputs = measures.map(function (measure) {
      var id = nextId("m");
      var label = el("label", { "for": id, text: measure.label });
      var input = el("input", { id: id, type: "number", inputmode: "decimal", step: "any", max: "100", "aria-describedby": changeHint });
      set.appendChild(el("div", { "class": "calculator-field" }, [label, input, el("span", { "class": "calculator-unit", text: "%" })]));
      return { measure: measure, input: input, label: label };
    });
    form.appendChild(set);
    var region = el("div", { "class": "calculator-result", "aria-live": "polite", role: "status" });
    form.appendChild(el("h3", { text: "Result" }));
    form.appendChild(region);
    box.appendChild(form);

    function update() {
      var chosen = form.querySelector('input[name="' + tableName + '"]:checked');
      var table = chosen ? thresholds.filter(function (t) { return t.population === chosen.value; })[0] : null;
      inputs.forEach(function (entry) {
        entry.label.textContent = (table && table.population === "juvenile" && entry.measure.juvenile_label) || entry.measure.label;
      });
      var errors = [];
      if (!table) errors.push("Choose the adult or the juvenile table: the thresholds differ.");
      var ageText = form.querySelector("#" + ageId).value.trim();
      var age = Number(ageText);
      if (ageText === "") errors.push("Enter the age at assessment.");
      else if (!isFinite(age) || age < 0 || age > 120) errors.push("The age must be a number of years from 0 to 120.");
      else if (table && table.population === "adult" && age < 18) {
        errors.push("The adult thresholds are for adults; for a patient under 18 with juvenile dermatomyositis choose the juvenile table.");
      }
      var changes = inputs.map(function (entry) {
        var text = entry.input.value.trim(), name = entry.label.textContent;
        if (text === "") { errors.push("Enter the change of " + name + " (0 if it did not change)."); return null; }
        var value = Number(text);
        if (!isFinite(value)) { errors.push("The change of " + name + " is not a number."); return null; }
        if (value > 100) { errors.push("The change of " + name + " is above 100%: an improvement cannot exceed 100%."); return null; }
        return value;
      });
      if (errors.length) { showResult(region, errors, []); return; }

      var total = 0;
      var list = el("table", { "class": "calculator-breakdown" }, [
        el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "Measure" }), el("th", { scope: "col", text: "Change" }), el("th", { scope: "col", text: "Points" })])]),
      ]);
      var body = el("tbody");
      inputs.forEach(function (entry, i) {
        var points = pointsFor(entry.measure, changes[i]);
        total += points;
        body.appendChild(el("tr", { "data-measure": entry.measure.id }, [
          el("th", { scope: "row", text: entry.label.textContent }),
          el("td", { text: formatPoints(changes[i]) + "%" }),
          el("td", { "class": "calculator-points", text: formatPoints(points) }),
        ]));
      });
      list.appendChild(body);
      total = Math.round(total * 100) / 100;
      var category = "No improvement";
      if (total >= table.major) category = "Major improvement";
      else if (total >= table.moderate) category = "Moderate improvement";
      else if (total >= table.minimal) category = "Minimal improvement";
      var cites = el("span", {});
      (table.cite || []).forEach(function (k, i) { if (i) cites.appendChild(document.createTextNode("; ")); cites.appendChild(citationLink(k)); });
      var notes = [];
      if (table.population === "juvenile" && age >= 18) notes.push(["note", "Note", "The juvenile thresholds were developed for juvenile dermatomyositis; the patient is 18 or older."]);
      showResult(region, [], [
        ["breakdown", "Points per measure", list],
        ["total", "Total improvement score", formatPoints(total) + " of 100"],
        ["category", "Response", category],
        ["thresholds", "Thresholds used", table.label + ": minimal " + table.minimal + ", moderate " + table.moderate + ", major " + table.major + " or more"],
        ["source", "Source", cites],
      ].concat(notes));
    }
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }

  var KINDS = { classification: setUpClassification, response: setUpResponse };

  function setUp(box) {
    if (box.dataset.ready) return;
    var script = box.querySelector("script.calculator-data");
    var build = KINDS[box.dataset.calculator];
    if (!script || !build) return;
    box.dataset.ready = "1";
    var fallback = box.querySelector(".calculator-nojs");
    if (fallback) fallback.hidden = true;
    build(box, JSON.parse(script.textContent));
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("div.handbook-calculator"), setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
