// SPIKE (bench/search-scale.md): Material's search box answered by Pagefind instead of lunr.
// Appended to assets/search.js in a copy of a built site by bench/search_scale.py; not part of the build.
// Material talks to its search worker by messages (0 setup, 1 ready, 2 query, 3 result); this
// stands in for that worker over http(s), so the box, the result list and its markup stay Material's
// own, while Pagefind loads only the index chunks and page fragments a query needs.
(function () {
  "use strict";
  if (location.protocol === "file:") return;  // the offline copy keeps lunr (Pagefind needs fetch)
  var script = document.currentScript;
  var root = new URL("..", script.src);  // assets/search.js -> the site root
  var FETCH = 10;  // results whose fragments are loaded to re-rank and show (Material shows 10 first)
  // Title (t4, t3, ...) and keys (k4, k3, ...) by page boost, as bench/search_scale.py writes them into meta fields.
  var METAWEIGHTS = { title: 0, boost: 0, t4: 40, k4: 40, t3: 30, k3: 30, t2: 20, k2: 20, t1: 10, k1: 10, t03: 3, k03: 3, t02: 2, k02: 2 };

  // Loaded with the page (not on the first key): Pagefind's script, worker, wasm and page list.
  // pageLength 0: long pages are not penalised (as lunr with b(0), which Material uses).
  var pagefind = import(new URL("pagefind/pagefind.js", root).href).then(function (pf) {
    return pf.options({ baseUrl: root.pathname, ranking: { metaWeights: METAWEIGHTS, pageLength: 0 } }).then(function () { pf.init(); return pf; });
  });

  // The words worth searching for: search.js's rewrite for lunr ("dose^10 dose t^1") back to words.
  function plain(query) {
    var words = [];
    window.handbookSearchQuery(query).split(/\s+/).forEach(function (t) {
      var w = /\^1$/.test(t) ? t.slice(0, -2) : /\^/.test(t) ? "" : t;
      if (w && words.indexOf(w) < 0) words.push(w);
    });
    return words.join(" ");
  }

  // Second stage, as lunr's title weight: how often the typed words occur in the page's title and
  // keys (the meta fields t* and k*). A page called what the reader typed beats one that names a part of it.
  var COVERAGE = 1000;
  function named(meta, text) {
    var words = [];
    Object.keys(meta).forEach(function (k) { if (/^[tk]\d+$/.test(k)) words = words.concat(meta[k].split(" ")); });
    var n = 0;
    text.toLowerCase().split(/\s+/).forEach(function (q) {
      if (!q) return;
      words.forEach(function (w) { if (w === q) n += 1; });
    });
    return n;
  }

  function FakeWorker() {
    this._target = document.createElement("span");
    this._query = 0;
  }
  FakeWorker.prototype.addEventListener = function (t, f, o) { this._target.addEventListener(t, f, o); };
  FakeWorker.prototype.removeEventListener = function (t, f, o) { this._target.removeEventListener(t, f, o); };
  FakeWorker.prototype.terminate = function () {};
  FakeWorker.prototype._reply = function (data) {
    var event = new MessageEvent("message", { data: data });
    if (this.onmessage) this.onmessage(event);
    this._target.dispatchEvent(event);
  };
  FakeWorker.prototype.postMessage = function (message) {
    var self = this;
    if (message.type === 0) { pagefind.then(function () { self._reply({ type: 1 }); }); return; }
    if (message.type !== 2) return;
    var id = ++self._query;
    var text = plain(message.data);
    pagefind
      .then(function (pf) { return pf.search(text); })
      .then(function (search) {
        var top = (search && search.results ? search.results : []).slice(0, FETCH);
        return Promise.all(top.map(function (r) { return r.data().then(function (d) { return [r, d]; }); }));
      })
      .then(function (pairs) {
        if (id !== self._query) return;  // a later key already asked again
        var terms = {};
        text.split(/\s+/).forEach(function (t) { if (t) terms[t.toLowerCase()] = true; });
        var items = pairs.map(function (pair) {
          var r = pair[0], d = pair[1];
          var loc = d.url.indexOf(root.pathname) === 0 ? d.url.slice(root.pathname.length) : d.url;
          var boost = parseFloat(d.meta.boost) || 1;
          var score = (COVERAGE * named(d.meta, text) + r.score) * boost;
          var group = [{ location: loc, title: d.meta.title || loc, text: d.excerpt, score: score, terms: terms }];
          (d.sub_results || []).forEach(function (s) {
            if (s.url === d.url) return;
            var sl = s.url.indexOf(root.pathname) === 0 ? s.url.slice(root.pathname.length) : s.url;
            group.push({ location: sl, title: s.title, text: s.excerpt, score: score / 2, terms: terms });
          });
          return group;
        });
        items.sort(function (a, b) { return b[0].score - a[0].score; });
        self._reply({ type: 3, data: { items: items } });
      });
  };

  var Previous = window.Worker;
  window.Worker = function (url, options) {
    if (/workers\/search\./.test(String(url))) return new FakeWorker();
    return new Previous(url, options);
  };
  window.Worker.prototype = Previous.prototype;
})();
