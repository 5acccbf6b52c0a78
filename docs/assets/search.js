// Search highlighting that helps the reader (generators/search.py does the ranking).
// Material highlights every query word, also as the start of longer words and inside them:
// "CAR T" marked every letter "t" on the page. Here single letters and stop words are never
// highlighted, short words only as whole words, and the result links carry only the words
// worth highlighting on the page they open.
// Loaded in <head>, before Material's bundle starts its search worker: the query the reader typed
// is sent to the worker with stop words left out, single letters as whole words only ("CAR T": the
// letter T, not every word starting with t), and a word typed in full counting more than a longer
// word it begins ("car" finds CAR before cardiac). Material makes every word a prefix otherwise.
(function () {
  "use strict";
  // lunr's English stop words (the index leaves them out), and words of questions
  var STOP = new Set(("a able about across after all almost also am among an and any are as at be because been but by can " +
    "cannot could dear did do does either else ever every for from get got had has have he her hers him his how however i if " +
    "in into is it its just least let like likely may me might most must my neither no nor not of off often on only or other " +
    "our own rather said say says she should since so some than that the their them then there these they this tis to too " +
    "twas us wants was we were what when where which while who whom why will with would yet you your").split(" "));

  function worth(term) {
    term = term.toLowerCase();
    return term.length > 1 && !STOP.has(term);
  }

  var SYNTAX = /[:^~*"]|^[+-]/;
  var SPLIT = /[\s\-,;!?=\[\]()"\/]+|\.(?!\d)/;

  function rewrite(query) {
    var out = [];
    query.trim().split(/\s+/).forEach(function (word) {
      if (SYNTAX.test(word)) { out.push(word); return; }  // the reader's own search syntax stays as typed
      word.split(SPLIT).forEach(function (part) {
        part = part.toLowerCase();
        if (!part || STOP.has(part)) return;
        if (part.length === 1) out.push(part + "^1");  // a term with a boost is matched whole, not as a prefix
        else out.push(part + "^10", part);
      });
    });
    return out.length ? out.join(" ") : query;
  }

  var Native = window.Worker;
  if (Native) {
    var Wrapped = function (url, options) {
      var worker = new Native(url, options);
      if (/workers\/search\./.test(String(url))) {
        var post = worker.postMessage.bind(worker);
        worker.postMessage = function (message, transfer) {
          if (message && message.type === 2 && typeof message.data === "string")  // 2: a query
            message = { type: 2, data: rewrite(message.data) };
          return transfer === undefined ? post(message) : post(message, transfer);
        };
      }
      return worker;
    };
    Wrapped.prototype = Native.prototype;
    window.Worker = Wrapped;
  }
  window.handbookSearchQuery = rewrite;  // for tests

  function queryTerms() {
    var input = document.querySelector(".md-search__input");
    if (!input) return [];
    return input.value.toLowerCase().split(/[\s\-,:;!?=\[\]()"\/*+~^]+/).filter(worth);
  }

  function unwrap(mark) {
    var parent = mark.parentNode;
    if (!parent) return;
    while (mark.firstChild) parent.insertBefore(mark.firstChild, mark);
    parent.removeChild(mark);
    parent.normalize();
  }

  // A mark on the page is kept when its word is worth it and, for words of three letters or
  // fewer, when it is a whole word ("car" in "cardiac" is not).
  function keepOnPage(mark) {
    var text = mark.textContent.trim();
    if (!worth(text)) return false;
    var before = mark.previousSibling && mark.previousSibling.nodeType === 3 ? mark.previousSibling.data : "";
    var after = mark.nextSibling && mark.nextSibling.nodeType === 3 ? mark.nextSibling.data : "";
    if (/[\w\u00C0-\u024F]$/.test(before)) return false;
    if (text.length <= 3 && /^[\w\u00C0-\u024F]/.test(after)) return false;
    return true;
  }

  function cleanPage(root) {
    root.querySelectorAll("mark[data-md-highlight]").forEach(function (mark) {
      if (!keepOnPage(mark)) unwrap(mark);
    });
  }

  // In the result list: marks that start with none of the typed words worth highlighting go,
  // and each result link asks the page it opens to highlight only those words.
  function cleanResults(list) {
    var terms = queryTerms();
    list.querySelectorAll("mark").forEach(function (mark) {
      var text = mark.textContent.toLowerCase();
      if (!terms.some(function (t) { return text.indexOf(t) === 0; })) unwrap(mark);
    });
    list.querySelectorAll("a.md-search-result__link").forEach(function (link) {
      var url = new URL(link.href);
      var h = url.searchParams.get("h");
      if (h === null) return;
      var kept = h.split(/\s+/).filter(worth);
      if (kept.length) url.searchParams.set("h", kept.join(" "));
      else url.searchParams.delete("h");
      if (url.href !== link.href) link.href = url.href;
    });
  }

  function watch(selector, clean) {
    var root = document.querySelector(selector);
    if (!root) return;
    var busy = false;
    new MutationObserver(function () {
      if (busy) return;
      busy = true;
      try { clean(root); } finally { busy = false; }
    }).observe(root, { childList: true, subtree: true });
    clean(root);
  }

  function start() {
    watch(".md-search-result__list", cleanResults);
    watch(".md-content", cleanPage);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
