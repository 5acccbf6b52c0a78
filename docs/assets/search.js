// Search for clinical questions in Material's own search box (generators/search.py does the ranking
// of the index; generators/search_pagefind.py builds the served site's index).
//
// Where the answers come from: on the served site (http(s), with a pagefind/ folder, marked by
// overrides/main.html with data-pagefind) Pagefind answers instead of Material's lunr worker: this
// script stands in for that worker (its messages: 0 set-up, 1 ready, 2 query, 3 result), so the box,
// the result list, its markup and keyboard use stay Material's, while Pagefind loads only the index
// chunks and page fragments a query needs. The first results are titled from small result cards
// (generators/search_pagefind.py); the excerpts and sections follow from the pages' fragments. If
// pagefind.js cannot be loaded, Material's own worker answers (with the full index, when the site has
// one). The offline copy (file://, where fetch is refused) and make serve have no data-pagefind:
// Material's lunr search with its index, as built.
//
// Highlighting that helps the reader: Material highlights every query word, also as the start of
// longer words and inside them: "CAR T" marked every letter "t" on the page. Here single letters and
// stop words are never highlighted, short words only as whole words, and the result links carry only
// the words worth highlighting on the page they open.
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

  // The words worth searching for, as Pagefind takes them: the rewrite for lunr ("dose^10 dose t^1") back to words.
  function plainWords(query) {
    var words = [];
    rewrite(query).split(/\s+/).forEach(function (t) {
      var w = /\^1$/.test(t) ? t.slice(0, -2) : /\^/.test(t) ? "" : t;
      if (w && !SYNTAX.test(w) && words.indexOf(w) < 0) words.push(w);
    });
    return words;
  }

  var Native = window.Worker;

  // Material's own search worker, with the reader's query rewritten for lunr.
  function lunrWorker(url, options) {
    var worker = new Native(url, options);
    var post = worker.postMessage.bind(worker);
    worker.postMessage = function (message, transfer) {
      if (message && message.type === 2 && typeof message.data === "string")  // 2: a query
        message = { type: 2, data: rewrite(message.data) };
      return transfer === undefined ? post(message) : post(message, transfer);
    };
    return worker;
  }

  // --- Pagefind behind Material's search box (the served site) ----------------------------------

  var script = document.currentScript;
  var pagefindSrc = script && location.protocol !== "file:" && script.getAttribute("data-pagefind");
  var FETCH = 10;  // results whose fragments are loaded, ranked again and shown (Material shows 10 first)
  var FIRST = 5;  // shown as soon as their fragments are in (a screenful), then all FETCH, ranked again
  var COVERAGE = 1000;  // a typed word in the page's title or keys, as lunr's title weight (generators/search.py)
  var TITLED = 100;
  // A query typed as a question ("when should IVIG be used", "which drug first?") ranks the clinical
  // question pages first; a few words typed ("IVIG") find the therapy or topic page as before.
  var QUESTION_LIKE = /^\s*(how|which|what|when|why|who|should|is|are|does|do|can|will)\b|\?\s*$/i;
  var QUESTION_BOOST = 8;  // the share of the page's title the reader typed: between pages naming the words alike
  var pagefind = null;  // a promise of the module, started now: the reader should not wait for it
  var siteRoot = null;
  if (pagefindSrc && Native) {
    var moduleUrl = new URL(pagefindSrc, document.baseURI);
    siteRoot = new URL("..", moduleUrl);  // pagefind/pagefind.js -> the site root
    pagefind = import(moduleUrl.href).then(function (pf) {
      // pageLength 0: long pages are not penalised (as lunr with b(0), which Material uses).
      // window.handbookPagefindOptions: Pagefind options for measuring (bench/search_speed.py).
      var options = { baseUrl: siteRoot.pathname, excerptLength: 24, ranking: { pageLength: 0 } };
      Object.keys(window.handbookPagefindOptions || {}).forEach(function (k) { options[k] = window.handbookPagefindOptions[k]; });
      return pf.options(options)
        .then(function () { return pf.init(); })
        .then(function () { return pf; });
    });
    pagefind.catch(function () {});  // handled where it is used: Material's worker takes over
  }

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function relative(url) {  // Material locates results relative to the site root
    return url.indexOf(siteRoot.pathname) === 0 ? url.slice(siteRoot.pathname.length) : url.replace(/^\//, "");
  }

  // How much of what the reader typed names this page: each typed word found among the words of its
  // title and keys (meta fields t* and k*, by page boost: generators/search_pagefind.py), weighted by
  // how rare the word is in the whole handbook. "tofacitinib dermatomyositis" is the tofacitinib page:
  // nearly every page names dermatomyositis, few tofacitinib.
  function named(meta, words, idf) {
    var own = [];
    Object.keys(meta).forEach(function (k) { if (/^[tk][\d_]+$/.test(k)) own = own.concat(meta[k].split(" ")); });
    var n = 0;
    words.forEach(function (q) {
      own.forEach(function (w) { if (w === q) n += idf[q]; });
    });
    return n;
  }

  // How much of the page's title is what the reader typed (stop words aside): "interstitial lung
  // disease" is the page "Interstitial lung disease in myositis" before "... in antisynthetase syndrome".
  function titled(meta, words) {
    var key = Object.keys(meta).filter(function (k) { return /^t[\d_]+$/.test(k); })[0];
    var own = (key ? meta[key] : "").split(" ").filter(function (w) { return w && !STOP.has(w); });
    if (!own.length) return 0;
    return own.filter(function (w) { return words.indexOf(w) >= 0; }).length / own.length;
  }

  // Material's result group for a page: the page, then its sections (Pagefind's sub-results),
  // best first by how many of the matches fall in them.
  function group(d, score, terms) {
    var located = function (s) {
      return (s.weighted_locations || []).reduce(function (sum, l) { return sum + (l.balanced_score || 0); }, 0);
    };
    var page = { location: relative(d.url), title: escapeHtml(d.meta.title || d.url), text: d.excerpt, terms: terms, local: 0 };
    var items = [];
    (d.sub_results || []).forEach(function (s) {
      if (s.url === d.url || (s.anchor && /^h1$/i.test(s.anchor.element))) { page.local += located(s); return; }
      items.push({ location: relative(s.url), title: escapeHtml(s.title), text: s.excerpt, terms: terms, local: located(s) });
    });
    items.push(page);
    items.sort(function (a, b) { return b.local - a.local; });
    var top = items[0].local || 1;
    items.forEach(function (item) { item.score = score * item.local / top; delete item.local; });
    return items;
  }

  function PagefindWorker(url, options) {
    this._url = url;
    this._options = options;
    this._events = document.createDocumentFragment();  // an EventTarget for Material's listeners
    this._query = 0;
    this._fallback = null;
    this._pending = [];
    this._setup = null;
    this._fallbackReady = false;
    this._config = {};
    this._pages = 1;
    this._df = {};
    this._cardsUrl = null;  // config.pagefind.cards: null when the site has no result cards
    this._cards = null;  // a promise of them, once the reader opens the search box
    var self = this;
    pagefind.then(null, function (error) {
      if (window.console) console.warn("Pagefind could not be loaded; Material's search answers instead.", error);
      self._useFallback();
    });
  }
  PagefindWorker.prototype.addEventListener = function (t, f, o) { this._events.addEventListener(t, f, o); };
  PagefindWorker.prototype.removeEventListener = function (t, f, o) { this._events.removeEventListener(t, f, o); };
  PagefindWorker.prototype.dispatchEvent = function (event) { return this._events.dispatchEvent(event); };
  PagefindWorker.prototype.terminate = function () { if (this._fallback) this._fallback.terminate(); };
  PagefindWorker.prototype._reply = function (data) {
    var event = new MessageEvent("message", { data: data });
    if (this.onmessage) this.onmessage(event);
    this._events.dispatchEvent(event);
  };
  // Material's worker answers instead (pagefind.js could not be loaded). On the served site its
  // set-up holds only the configuration: the full index it names (config.pagefind.fullIndex, kept by
  // generators/search_pagefind.py) is fetched first, and messages wait until the worker has it.
  PagefindWorker.prototype._useFallback = function () {
    if (this._fallback) return;
    var self = this;
    var worker = (this._fallback = lunrWorker(this._url, this._options));
    worker.addEventListener("message", function (event) { self._reply(event.data); });
    worker.addEventListener("error", function (event) { if (self.onerror) self.onerror(event); });
    if (this._setup) this._fallbackSetup(this._setup);
    else this._fallbackReady = true;
  };
  PagefindWorker.prototype._fallbackSetup = function (message) {
    var self = this;
    var data = message.data || {};
    var flush = function (setup) {
      self._fallback.postMessage(setup);
      self._fallbackReady = true;
      self._pending.forEach(function (m) { self._fallback.postMessage(m); });
      self._pending = [];
    };
    this._fallbackReady = false;
    var full = data.config && data.config.pagefind && data.config.pagefind.fullIndex;
    if (!full || (data.docs && data.docs.length)) { flush(message); return; }
    fetch(new URL(full, siteRoot).href)
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (index) { flush({ type: 0, data: Object.assign({}, data, { config: index.config, docs: index.docs }) }); })
      .catch(function () { flush(message); });
  };
  PagefindWorker.prototype.postMessage = function (message) {
    var self = this;
    if (this._fallback) {
      if (message && message.type === 0) this._fallbackSetup(message);
      else if (this._fallbackReady) this._fallback.postMessage(message);
      else this._pending.push(message);
      return;
    }
    if (!message) return;
    if (message.type === 0) {  // set-up: Material's index, on the served site only its configuration
      this._setup = message;
      var config = (message.data && message.data.config && message.data.config.pagefind) || {};
      this._pages = config.pages || 1;
      if (config.cards) {
        this._cardsUrl = new URL(config.cards, siteRoot).href;
        // loaded when the reader opens the search box (a click, a tap or "/" focuses it), not by
        // every page: by the time a word is typed they are in
        var opened = function (event) {
          if (self._fallback) return;  // Material's own search answers: no cards needed
          if (event.target && event.target.matches && event.target.matches(".md-search__input")) self._loadCards();
        };
        document.addEventListener("focusin", opened);
        if (document.activeElement) opened({ target: document.activeElement });
      }
      pagefind
        .then(function (pf) { return config.metaWeights ? pf.options({ ranking: { pageLength: 0, metaWeights: config.metaWeights } }) : null; })
        .then(function () { if (!self._fallback) self._reply({ type: 1 }); }, function () {});
      return;
    }
    if (message.type !== 2) { this._pending.push(message); return; }
    var id = ++this._query;
    this._search(String(message.data), function (data) {
      if (id !== self._query || self._fallback) return false;  // a later key asked again
      self._reply({ type: 3, data: { items: data.items } });
      self._count(data.total, data.items.length);
      return true;
    }).then(null, function (error) {
      if (window.console) console.error("Search failed:", error);
    });
  };

  // How rare each word is in the whole handbook (pages containing it): one search per word; its
  // index chunks are loaded already.
  PagefindWorker.prototype._rarity = function (pf, words) {
    var self = this;
    var idf = {};
    if (words.length < 2) {  // one word: the same for every page
      words.forEach(function (w) { idf[w] = 1; });
      return Promise.resolve(idf);
    }
    return Promise.all(words.map(function (w) {
      if (self._df[w] !== undefined) return self._df[w];
      return pf.search(w).then(function (s) { return (self._df[w] = s && s.results ? s.results.length : 0); });
    })).then(function (counts) {
      words.forEach(function (w, i) { idf[w] = Math.log(1 + self._pages / Math.max(counts[i], 1)); });
      return idf;
    });
  };

  // The result cards (generators/search_pagefind.py, write_cards): each page's URL, title, boost and
  // title and key words, without its text, in one file: the first list is drawn as soon as Pagefind
  // has searched, not after five pages' whole text. If the file cannot be loaded, results wait for
  // their fragments instead.
  PagefindWorker.prototype._loadCards = function () {
    if (!this._cards && this._cardsUrl) {
      this._cards = fetch(this._cardsUrl)
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .catch(function (error) {
          if (window.console) console.warn("The result cards could not be loaded; results wait for their pages.", error);
          return {};
        });
    }
    return this._cards;
  };
  PagefindWorker.prototype._cardsOf = function (results) {
    return this._loadCards().then(function (cards) {
      return Promise.all(results.map(function (r) {
        var card = cards[r.id];
        return card ? { url: card.url, meta: card.meta, excerpt: "", sub_results: [] } : r.data();
      }));
    });
  };

  // Searches, and shows the results in two steps: the first FIRST from the result cards (titles, no
  // excerpts) or, on a site without cards, as soon as their fragments are loaded; then all FETCH with
  // their excerpts and sections. Each step ranks what it has; the page a reader is looking for is
  // among Pagefind's first three in every question of the bank (tests/search/questions.yaml), so the
  // first hit does not change between the steps. `show` returns false once a newer query was typed.
  // A reader who has moved onto a result with the arrow keys keeps the first list.
  PagefindWorker.prototype._search = function (query, show) {
    var self = this;
    var words = plainWords(query);
    if (!words.length) { show({ items: [], total: 0 }); return Promise.resolve(); }
    var terms = {};
    words.forEach(function (w) { terms[w] = true; });
    return pagefind.then(function (pf) {
      return pf.search(words.join(" ")).then(function (search) {
        var results = (search && search.results) || [];
        var rarity = self._rarity(pf, words);
        var load = function (from, to) {
          return Promise.all(results.slice(from, to).map(function (r) { return r.data(); }));
        };
        var cards = !!self._cardsUrl;
        var first = cards ? self._cardsOf(results.slice(0, FIRST)) : load(0, FIRST);
        var rank = function (pages, idf) {
          // Pagefind's score, then how much of what was typed names the page, times the page's boost
          var asked = QUESTION_LIKE.test(query);
          var ranked = pages.map(function (d, i) {
            var boost = parseFloat(d.meta.boost) || 1;
            if (asked && /\/questions\/[^/]+\/?$/.test(d.url || "")) boost *= QUESTION_BOOST;
            var score = COVERAGE * named(d.meta, words, idf) + TITLED * titled(d.meta, words) + results[i].score;
            return { d: d, i: i, score: score * boost };
          });
          ranked.sort(function (a, b) { return b.score - a.score || a.i - b.i; });
          return { items: ranked.map(function (r) { return group(r.d, r.score, terms); }), total: results.length };
        };
        return Promise.all([first, rarity]).then(function (shown) {
          if (!show(rank(shown[0], shown[1])) || (!cards && results.length <= FIRST)) return;
          return load(cards ? 0 : FIRST, FETCH).then(function (rest) {
            // not while the reader is on a result (arrow keys): showing the list again would lose their place
            var active = document.activeElement;
            if (active && active.closest && active.closest(".md-search-result")) return;
            show(rank(cards ? rest : shown[0].concat(rest), shown[1]));
          });
        });
      });
    });
  };

  // Material counts the results it was given (the ones loaded); the reader is told how many matched.
  PagefindWorker.prototype._count = function (total, shown) {
    var meta = document.querySelector(".md-search-result__meta");
    var config = document.getElementById("__config");
    if (!meta || !config || total <= shown) return;
    var translations = JSON.parse(config.textContent).translations || {};
    var text = translations["search.result.other"];
    if (text) meta.textContent = text.replace("#", total.toLocaleString("en"));
  };

  if (Native) {
    var Wrapped = function (url, options) {
      if (!/workers\/search\./.test(String(url))) return new Native(url, options);
      return pagefind ? new PagefindWorker(url, options) : lunrWorker(url, options);
    };
    Wrapped.prototype = Native.prototype;
    window.Worker = Wrapped;
  }
  window.handbookSearchQuery = rewrite;  // for tests
  window.handbookSearchWords = plainWords;

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
