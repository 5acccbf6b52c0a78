// Sortable, filterable tables for <div class="explorer">: no external script, no network.
// Without JavaScript the table is still complete and readable.
(function () {
  "use strict";

  function cellText(row, index) {
    var cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && /^[\d.]/.test(a) && /^[\d.]/.test(b)) return x - y;
    return a.localeCompare(b, undefined, { sensitivity: "base", numeric: true });
  }

  function setUp(box) {
    var table = box.querySelector("table");
    if (!table || box.dataset.ready) return;
    box.dataset.ready = "1";
    var body = table.tBodies[0];
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var rows = Array.prototype.slice.call(body.rows);
    var wanted = (box.dataset.filters || "").split(",").map(function (s) { return s.trim(); });
    // Columns listing several values ("Dermatomyositis, Polymyositis"): the menu offers each value,
    // and a row matches when the cell lists it.
    var multi = (box.dataset.multi || "").split(",").map(function (s) { return s.trim(); });
    function valuesOf(row, index, isMulti) {
      var text = cellText(row, index);
      return isMulti ? text.split(",").map(function (v) { return v.trim(); }).filter(Boolean) : [text];
    }

    var controls = document.createElement("div");
    controls.className = "explorer-controls";
    // A visible label, not a placeholder alone: readers and screen readers see what the box does.
    var label = document.createElement("label");
    var search = document.createElement("input");
    search.type = "search";
    search.id = "explorer-filter-" + document.querySelectorAll(".explorer-controls").length;
    label.htmlFor = search.id;
    label.textContent = "Filter the table";
    search.placeholder = "Type a word…";
    controls.appendChild(label);
    controls.appendChild(search);

    var selects = [];
    headers.forEach(function (th, index) {
      var name = th.textContent.trim();
      if (wanted.indexOf(name) === -1) return;
      var values = {};
      var isMulti = multi.indexOf(name) !== -1;
      rows.forEach(function (r) { valuesOf(r, index, isMulti).forEach(function (v) { values[v] = true; }); });
      var select = document.createElement("select");
      select.setAttribute("aria-label", "Filter by " + name);
      select.dataset.column = index;
      if (isMulti) select.dataset.multi = "1";
      var all = document.createElement("option");
      all.value = "";
      all.textContent = name + ": all";
      select.appendChild(all);
      Object.keys(values).sort(compare).forEach(function (v) {
        var option = document.createElement("option");
        option.value = v;
        option.textContent = v;
        select.appendChild(option);
      });
      controls.appendChild(select);
      selects.push(select);
    });
    var count = document.createElement("span");
    count.className = "explorer-count";
    count.setAttribute("aria-live", "polite");
    controls.appendChild(count);
    box.insertBefore(controls, box.firstChild);

    function apply() {
      var needle = search.value.trim().toLowerCase();
      var shown = 0;
      rows.forEach(function (row) {
        var ok = !needle || row.textContent.toLowerCase().indexOf(needle) !== -1;
        selects.forEach(function (s) {
          if (s.value && valuesOf(row, +s.dataset.column, !!s.dataset.multi).indexOf(s.value) === -1) ok = false;
        });
        row.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + " of " + rows.length + " shown";
    }
    search.addEventListener("input", apply);
    selects.forEach(function (s) { s.addEventListener("change", apply); });

    headers.forEach(function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "explorer-sort";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var order = compare(cellText(a, index), cellText(b, index));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("div.explorer"), setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
