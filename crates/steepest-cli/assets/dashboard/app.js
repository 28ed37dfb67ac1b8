// Steepest dashboard: the runs table, overlaid curves, configuration differences and each
// run's page. With window.STEEPEST_DATA (a report) it shows that data and fetches nothing;
// without it, it reads the dashboard server's API every second and updates in place.
(function () {
  'use strict';
  const DATA = window.STEEPEST_DATA;
  const LIVE = !DATA;
  const POLL_MS = 1000;
  const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be185d',
    '#4d7c0f', '#7c2d12', '#1e3a8a', '#b45309', '#0f766e', '#6d28d9', '#991b1b', '#15803d'];
  const state = {
    runs: [], details: {}, selected: new Set(), first: true, signature: '',
    charts: [], runCharts: [], logscale: false, smoothing: 0, view: 'list', busy: false,
  };
  // For tests and for the curious: load time and what is on screen.
  const hook = window.steepest = { loadedAt: performance.now(), readyAt: null, refreshes: 0, state: state };

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c != null) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function fmt(v) {
    if (v == null || !isFinite(v)) return '\u2013';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
    return (+v.toPrecision(5)).toString();
  }
  function duration(s) {
    if (s == null || !isFinite(s)) return '\u2013';
    if (s < 1) return (s * 1000).toFixed(0) + ' ms';
    if (s < 120) return s.toFixed(1) + ' s';
    if (s < 7200) return (s / 60).toFixed(1) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  function colorOf(id) {
    const i = state.runs.findIndex((r) => r.id === id);
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
  }

  // ---- data -------------------------------------------------------------------------------
  const api = {
    async runs() {
      if (!LIVE) return { root: DATA.root, runs: DATA.runs, live: false };
      const r = await fetch('api/runs', { cache: 'no-store' });
      if (!r.ok) throw new Error('the server answered ' + r.status);
      return r.json();
    },
    async run(id) {
      if (!LIVE) return DATA.runs.find((r) => r.id === id) || null;
      const r = await fetch('api/run?id=' + encodeURIComponent(id), { cache: 'no-store' });
      if (r.status === 404) return null;
      if (!r.ok) throw new Error('the server answered ' + r.status);
      return r.json();
    },
    picture(run, name) {
      if (!LIVE) return (run.picture_data || {})[name] || null;
      return 'api/file?id=' + encodeURIComponent(run.id) + '&name=' + encodeURIComponent(name);
    },
  };

  async function details(ids) {
    const wanted = ids.filter((id) => {
      const run = state.runs.find((r) => r.id === id);
      const have = state.details[id];
      return run && (!have || have.stamp !== run.stamp);
    });
    const got = await Promise.all(wanted.map((id) => api.run(id)));
    got.forEach((d, i) => {
      if (!d) return;
      state.details[wanted[i]] = d;
      // A run that grew between the listing and its details: the listing shows the newer count.
      const run = state.runs.find((r) => r.id === wanted[i]);
      if (run && d.metrics && d.metrics.rows > run.rows) run.rows = d.metrics.rows;
    });
  }

  // ---- curves -----------------------------------------------------------------------------
  const ORDER = ['train_loss', 'val_loss'];
  function curveKeys(list) {
    const keys = new Set();
    for (const d of list) {
      const m = d.metrics;
      if (!m) continue;
      m.columns.forEach((c, i) => {
        if (c === 'epoch' || c === 'seconds') return;
        if (m.data[i].some((v) => v != null)) keys.add(c);
      });
    }
    const rank = (k) => {
      const i = ORDER.indexOf(k);
      if (i >= 0) return i;
      if (k.startsWith('val_')) return 2;
      if (k === 'lr') return 3;
      return 4;
    };
    return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }
  function smooth(values, w) {
    if (!w) return values;
    let s = 0, n = 0;
    return values.map((v) => {
      if (v == null) return v;
      n += 1;
      s = w * s + (1 - w) * v;
      return s / (1 - Math.pow(w, n));
    });
  }
  function series(d, key) {
    const m = d.metrics;
    if (!m) return null;
    const xi = m.columns.indexOf('epoch'), yi = m.columns.indexOf(key);
    if (yi < 0) return null;
    const xs = [], ys = [];
    m.data[yi].forEach((v, i) => {
      if (v == null) return;
      xs.push(xi >= 0 && m.data[xi][i] != null ? m.data[xi][i] : i + 1);
      ys.push(v);
    });
    return { xs, ys: key === 'lr' ? ys : smooth(ys, state.smoothing) };
  }
  // uPlot wants one x array: the union of the runs' epochs, each run null where it has none.
  function chartData(list, key) {
    const per = list.map((d) => series(d, key));
    const xs = [...new Set(per.flatMap((s) => (s ? s.xs : [])))].sort((a, b) => a - b);
    const at = new Map(xs.map((x, i) => [x, i]));
    const ys = per.map((s) => {
      const y = new Array(xs.length).fill(null);
      if (s) s.xs.forEach((x, i) => {
        const v = s.ys[i];
        y[at.get(x)] = state.logscale && !(v > 0) ? null : v;
      });
      return y;
    });
    const points = {};
    list.forEach((d, i) => { points[d.id] = per[i] ? per[i].xs.length : 0; });
    return { data: [xs, ...ys], points };
  }
  function makeChart(box, list, key, width) {
    const { data, points } = chartData(list, key);
    const opts = {
      width: width, height: 240,
      scales: { x: { time: false }, y: { distr: state.logscale ? 3 : 1 } },
      axes: [{ label: 'epoch' }, { size: 64, values: (u, vals) => vals.map(fmt) }],
      series: [{ label: 'epoch' }].concat(list.map((d) => ({
        label: d.name || d.id, stroke: colorOf(d.id), width: 1.5, spanGaps: true,
        value: (u, v) => fmt(v),
      }))),
      cursor: { drag: { x: true, y: false } },
      legend: { live: true },
    };
    box.dataset.points = JSON.stringify(points);
    return { key, plot: new uPlot(opts, data, box.querySelector('.plot')), box, list };
  }
  function drawCharts(container, list, previous) {
    const keys = curveKeys(list);
    const signature = JSON.stringify([keys, list.map((d) => d.id), state.logscale]);
    if (previous.signature === signature && previous.charts.length) {
      for (const c of previous.charts) {
        const { data, points } = chartData(list, c.key);
        c.plot.setData(data);
        c.box.dataset.points = JSON.stringify(points);
      }
      return previous;
    }
    previous.charts.forEach((c) => c.plot.destroy());
    container.replaceChildren();
    const width = Math.max(360, Math.min(720, (container.clientWidth || 900) / (keys.length > 1 ? 2 : 1) - 40));
    const charts = keys.map((key) => {
      const box = el('div', { class: 'chart', 'data-key': key }, el('h3', { text: key.replace(/_/g, ' ') }), el('div', { class: 'plot' }));
      container.append(box);
      return makeChart(box, list, key, width);
    });
    return { signature, charts };
  }
  let listCharts = { signature: '', charts: [] };
  let runCharts = { signature: '', charts: [] };

  // ---- the runs table ---------------------------------------------------------------------
  function stateBadge(s) { return el('span', { class: 'state ' + s, text: s }); }
  function renderTable() {
    const body = $('runs').querySelector('tbody');
    body.replaceChildren(...state.runs.map((r) => {
      const sel = state.selected.has(r.id);
      const box = el('input', { type: 'checkbox', 'aria-label': 'select ' + r.id });
      box.checked = sel;
      box.addEventListener('change', () => {
        if (box.checked) state.selected.add(r.id); else state.selected.delete(r.id);
        update();
      });
      const best = r.best ? r.best.metric + ' ' + fmt(r.best.value) + ' @' + r.best.epoch : '\u2013';
      const test = r.test ? r.test.metric + ' ' + fmt(r.test.value) : '\u2013';
      const epochs = r.epochs ? r.epoch + '/' + r.epochs : String(r.epoch);
      const name = el('td', {}, el('span', { class: 'swatch', style: 'background:' + (sel ? colorOf(r.id) : 'transparent') }),
        el('a', { href: '#run/' + encodeURIComponent(r.id), text: r.id }));
      if (r.errors && r.errors.length) name.append(el('span', { class: 'errors', title: r.errors.join('\n'), text: ' \u26a0 ' + r.errors.length }));
      return el('tr', { class: 'run' + (sel ? ' selected' : ''), 'data-id': r.id, 'data-state': r.state, 'data-rows': r.rows },
        el('td', {}, box), name, el('td', { text: r.model || '\u2013' }), el('td', { text: r.data || '\u2013' }),
        el('td', { text: r.optimizer || '\u2013' }), el('td', {}, stateBadge(r.state)),
        el('td', { class: 'num', text: epochs }), el('td', { class: 'num', text: best }),
        el('td', { class: 'num', text: test }), el('td', { class: 'num', text: duration(r.seconds) }));
    }));
    $('empty').hidden = state.runs.length > 0;
  }

  function renderDiff() {
    const list = selectedDetails();
    const table = $('diff');
    const all = $('diff-all').checked;
    const keys = [...new Set(list.flatMap((d) => Object.keys(d.config || {})))].sort();
    const value = (d, k) => (d.config && k in d.config ? d.config[k] : '\u2013');
    const rows = keys.filter((k) => all || new Set(list.map((d) => value(d, k))).size > 1);
    const head = el('tr', {}, el('th', { text: 'setting' }), ...list.map((d) => el('th', {}, el('span', { class: 'swatch', style: 'background:' + colorOf(d.id) }), d.id)));
    table.replaceChildren(head, ...rows.map((k) => {
      const differs = new Set(list.map((d) => value(d, k))).size > 1;
      return el('tr', {}, el('td', { text: k }), ...list.map((d) => el('td', { class: differs ? 'differs' : null, text: value(d, k) })));
    }));
    if (!rows.length) table.replaceChildren(el('tr', {}, el('td', { class: 'muted', text: list.length < 2 ? 'select two or more runs' : 'the selected runs have the same settings' })));
  }

  function selectedDetails() {
    return state.runs.filter((r) => state.selected.has(r.id) && state.details[r.id]).map((r) => state.details[r.id]);
  }

  // ---- one run's page ---------------------------------------------------------------------
  function kvTable(obj) {
    const t = el('table', { class: 'kv' });
    for (const k of Object.keys(obj || {}).sort()) {
      const v = obj[k];
      t.append(el('tr', {}, el('td', { text: k }), el('td', { class: typeof v === 'number' ? 'num' : null, text: typeof v === 'number' ? fmt(v) : (v == null ? '\u2013' : String(v)) })));
    }
    return t;
  }
  function confusionTable(c) {
    const t = el('table', { class: 'confusion', id: 'confusion' });
    t.append(el('tr', {}, el('th', { text: 'true \\ predicted' }), ...c.classes.map((n) => el('th', { text: n }))));
    c.counts.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      t.append(el('tr', {}, el('th', { text: c.classes[i] }), ...row.map((n, j) => {
        const share = n / total;
        const hue = i === j ? '37,99,235' : '220,38,38';
        return el('td', { class: i === j ? 'diag' : null, style: 'background: rgba(' + hue + ',' + (0.08 + 0.6 * share).toFixed(3) + ')', title: (100 * share).toFixed(1) + '% of ' + c.classes[i], text: n });
      })));
    });
    return t;
  }
  async function renderRun(id) {
    const view = $('run-view');
    let d;
    try { d = await api.run(id); } catch (e) { problem(e); return; }
    if (!d) { view.replaceChildren(el('p', {}, el('a', { href: '#', text: '\u2190 all runs' })), el('p', { class: 'problem', text: 'No run ' + id + ' here.' })); return; }
    state.details[id] = d;
    if (view.dataset.id === id && view.dataset.stamp === d.stamp) return;
    view.dataset.id = id;
    view.dataset.stamp = d.stamp;
    const charts = el('div', { class: 'charts', id: 'run-charts' });
    const parts = [
      el('p', {}, el('a', { href: '#', text: '\u2190 all runs' })),
      el('h2', {}, d.id + ' ', stateBadge(d.state)),
      el('div', { class: 'meta' },
        el('span', { text: 'model ' + (d.model || '\u2013') }), el('span', { text: 'data ' + (d.data || '\u2013') }),
        el('span', { text: 'optimizer ' + (d.optimizer || '\u2013') }),
        el('span', { text: 'epochs ' + (d.epochs ? d.epoch + '/' + d.epochs : d.epoch) }),
        el('span', { text: 'time ' + duration(d.seconds) })),
    ];
    if (d.message) parts.push(el('p', { class: 'problem', text: d.message }));
    if (d.errors && d.errors.length) parts.push(el('ul', { class: 'errors' }, ...d.errors.map((e) => el('li', { text: e }))));
    if (d.metrics && d.metrics.shown < d.metrics.rows) parts.push(el('p', { class: 'muted', text: 'curves show ' + d.metrics.shown + ' of ' + d.metrics.rows + ' epochs (evenly spaced, with the last)' }));
    parts.push(el('h2', { text: 'Curves' }), charts);
    if (d.final_metrics) parts.push(el('h2', { text: 'Final metrics (test rows)' }), kvTable(d.final_metrics));
    if (d.confusion && d.confusion.classes) parts.push(el('h2', { text: 'Confusion matrix' }), confusionTable(d.confusion));
    const pics = (d.pictures || []).map((name) => {
      const src = api.picture(d, name);
      return src ? el('figure', {}, el('img', { src: src, alt: name, loading: 'lazy' }), el('figcaption', { text: name })) : null;
    }).filter(Boolean);
    if (pics.length) parts.push(el('h2', { text: 'Pictures' }), el('div', { class: 'pictures' }, ...pics));
    parts.push(el('h2', { text: 'Configuration' }), d.config ? kvTable(d.config) : el('p', { class: 'muted', text: 'no config.toml' }));
    runCharts.charts.forEach((c) => c.plot.destroy());
    runCharts = { signature: '', charts: [] };
    view.replaceChildren(...parts);
    runCharts = drawCharts(charts, [d], runCharts);
  }

  // ---- the page ---------------------------------------------------------------------------
  function problem(e) {
    const p = $('problem');
    p.hidden = !e;
    p.textContent = e ? String(e.message || e) + (LIVE ? ' (retrying)' : '') : '';
  }
  function route() {
    const h = location.hash;
    const m = h.match(/^#run\/(.+)$/);
    state.view = m ? decodeURIComponent(m[1]) : 'list';
    $('list-view').hidden = state.view !== 'list';
    $('run-view').hidden = state.view === 'list';
    if (state.view !== 'list') renderRun(state.view);
    else update();
  }
  async function update() {
    await details([...state.selected]);
    renderTable();
    if (state.view === 'list') {
      listCharts = drawCharts($('charts'), selectedDetails(), listCharts);
      renderDiff();
    }
  }
  async function refresh() {
    if (state.busy) return;
    state.busy = true;
    try {
      const got = await api.runs();
      $('root').textContent = got.root + ' \u00b7 ' + got.runs.length + ' runs';
      state.runs = got.runs;
      if (state.first) {
        const recent = state.runs.slice().sort((a, b) => (b.updated || 0) - (a.updated || 0) || b.id.localeCompare(a.id));
        (state.runs.length <= 10 ? state.runs : recent.slice(0, 5)).forEach((r) => state.selected.add(r.id));
      }
      const ids = new Set(state.runs.map((r) => r.id));
      [...state.selected].forEach((id) => { if (!ids.has(id)) state.selected.delete(id); });
      if (state.view === 'list') await update();
      else { renderTable(); await renderRun(state.view); }
      problem(null);
      hook.refreshes += 1;
      if (state.first) {
        state.first = false;
        hook.readyAt = performance.now();
        document.body.dataset.ready = '1';
      }
    } catch (e) {
      problem(e);
    } finally {
      state.busy = false;
    }
  }

  $('select-all').addEventListener('click', () => { state.runs.forEach((r) => state.selected.add(r.id)); update(); });
  $('select-none').addEventListener('click', () => { state.selected.clear(); update(); });
  $('logscale').addEventListener('change', (e) => { state.logscale = e.target.checked; listCharts.signature = ''; runCharts.signature = ''; update(); if (state.view !== 'list') { $('run-view').dataset.stamp = ''; renderRun(state.view); } });
  $('smoothing').addEventListener('input', (e) => {
    state.smoothing = +e.target.value;
    $('smoothing-value').textContent = state.smoothing.toFixed(2);
    update();
  });
  $('diff-all').addEventListener('change', renderDiff);
  window.addEventListener('hashchange', route);
  window.addEventListener('resize', () => { listCharts.signature = ''; update(); });
  $('live').hidden = !LIVE;
  if (!LIVE) document.title = 'Steepest report: ' + DATA.root;
  const m = location.hash.match(/^#run\/(.+)$/);
  state.view = m ? decodeURIComponent(m[1]) : 'list';
  $('list-view').hidden = state.view !== 'list';
  $('run-view').hidden = state.view === 'list';
  refresh();
  if (LIVE) setInterval(refresh, POLL_MS);
})();
