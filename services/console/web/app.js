/* routerd-dpi-console page: fetches /api/v1/* in parallel and renders each section.
 * Data comes from packets (hostnames, SNIs) and is attacker-influenced: it only ever reaches
 * the DOM through textContent / createTextNode and data-* attributes, never innerHTML. */
'use strict';

(function () {
	var PAGE = 50;
	var SOURCES = ['ndpi-agent', 'builtin-payload', 'dns-cache', 'sni-cache', 'port-fallback',
		       'unidentified'];
	var SOURCE_INFO = {
		'ndpi-agent': ['nDPI', 'identified by nDPI (routerd-ndpi-agent)'],
		'builtin-payload': ['built-in', 'identified by the built-in payload parsers'],
		'dns-cache': ['DNS cache', 'named from a DNS answer the client received'],
		'sni-cache': ['SNI cache', 'named from a TLS SNI seen for that server'],
		'port-fallback': ['port guess', 'guessed from the port only (not authoritative)'],
		'unidentified': ['unidentified', 'no classification'],
		'unknown': ['unidentified', 'no classification']
	};
	var WINDOWS = {'1h': 1, '24h': 1, '7d': 1};

	var state = {
		since: '24h',
		flows: {source: '', app: '', client: '', q: '', offset: 0},
		fwOffset: 0,
		gen: 0
	};

	function $(id) { return document.getElementById(id); }

	/* el('td', {class: 'num', 'data-value': 3}, 'text', node, ...): children that are not
	 * nodes become text nodes; attributes go through setAttribute (never on*, never href/src). */
	function el(tag, attrs) {
		var e = document.createElement(tag);
		var k, i, c;

		if (attrs)
			for (k in attrs)
				if (attrs[k] !== null && attrs[k] !== undefined)
					e.setAttribute(k, String(attrs[k]));
		for (i = 2; i < arguments.length; i++) {
			c = arguments[i];
			if (c === null || c === undefined)
				continue;
			e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
		}
		return e;
	}

	var SVGNS = 'http://www.w3.org/2000/svg';
	function svg(tag, attrs) {
		var e = document.createElementNS(SVGNS, tag);
		var k;

		for (k in attrs)
			e.setAttribute(k, String(attrs[k]));
		return e;
	}

	function clear(e) {
		while (e.firstChild)
			e.removeChild(e.firstChild);
		return e;
	}

	function num(v) {
		return typeof v === 'number' && isFinite(v) ? v : 0;
	}

	function fmtBytes(v) {
		var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
		var i = 0;

		v = num(v);
		while (Math.abs(v) >= 1024 && i < u.length - 1) {
			v /= 1024;
			i++;
		}
		return (i === 0 ? String(v) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)) + ' ' + u[i];
	}

	function fmtInt(v) {
		return String(Math.round(num(v))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
	}

	function fmtPct(f) {
		return (num(f) * 100).toFixed(1) + '%';
	}

	/* RFC3339 -> "YYYY-MM-DD HH:MM:SS" (UTC, as sent). */
	function fmtTime(ts) {
		if (typeof ts !== 'string' || ts.length < 19)
			return '\u2013';
		return ts.slice(0, 10) + ' ' + ts.slice(11, 19);
	}

	function setNum(id, v, text) {
		var e = $(id);

		if (!e)
			return;
		e.setAttribute('data-value', String(num(v)));
		e.textContent = text !== undefined ? text : fmtInt(v);
	}

	function setTime(id, ts) {
		var e = $(id);

		e.setAttribute('data-value', ts || '');
		e.textContent = fmtTime(ts);
	}

	function sourceKey(s) {
		if (!s || s === 'builtin' || s === 'unknown')
			return 'unknown';
		return SOURCE_INFO.hasOwnProperty(s) ? s : 'other';
	}

	function badge(text, cls, title) {
		return el('span', {'class': 'badge ' + cls, title: title}, text);
	}

	function sourceBadge(s, guessed) {
		var k = sourceKey(s);
		var label = SOURCE_INFO[k] ? SOURCE_INFO[k][0] : String(s);
		var b = badge(label, 'src-' + k, s ? String(s) : 'no source');

		b.setAttribute('data-source', s ? String(s) : '');
		if (guessed)
			b.appendChild(el('span', {'class': 'guess'}, ' (guess)'));
		return b;
	}

	function numCell(v, text) {
		return el('td', {'class': 'num', 'data-value': num(v)}, text !== undefined ? text : fmtInt(v));
	}

	function bytesCell(v) {
		return numCell(v, fmtBytes(v));
	}

	function addrPort(a, p) {
		if (!a)
			return '\u2013';
		if (!p)
			return String(a);
		return String(a).indexOf(':') >= 0 ? '[' + a + ']:' + p : a + ':' + p;
	}

	/* ---- fetching ---------------------------------------------------------- */

	function qs(params) {
		var out = [];
		var k;

		for (k in params)
			if (params[k] !== '' && params[k] !== null && params[k] !== undefined)
				out.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(params[k])));
		return out.length ? '?' + out.join('&') : '';
	}

	/* Resolves to the parsed JSON, or to {errors: [...]} on a network/HTTP/parse failure, so
	 * one failing endpoint never blanks the whole page. */
	function getJSON(path, params) {
		var url = 'api/v1/' + path + qs(params);

		return fetch(url, {cache: 'no-store', credentials: 'same-origin'})
			.then(function (r) {
				return r.json().catch(function () { return {}; }).then(function (j) {
					if (!j || typeof j !== 'object')
						j = {};
					if (!Array.isArray(j.errors))
						j.errors = [];
					if (!r.ok)
						j.errors.push(path + ': HTTP ' + r.status +
							      (j.error ? ': ' + j.error : ''));
					j._ok = r.ok;
					return j;
				});
			}, function (e) {
				return {_ok: false, errors: [path + ': ' + (e && e.message ? e.message : 'fetch failed')]};
			});
	}

	var sectionErrors = {};

	function showErrors(section, errs) {
		var list = $('error-list');
		var all = [];
		var seen = {};
		var k;

		sectionErrors[section] = errs || [];
		for (k in sectionErrors)
			sectionErrors[k].forEach(function (m) {
				m = String(m);
				if (!seen[m]) {
					seen[m] = 1;
					all.push(m);
				}
			});
		clear(list);
		all.forEach(function (m) { list.appendChild(el('li', null, m)); });
		$('errors').hidden = all.length === 0;
		$('errors').setAttribute('data-count', String(all.length));
	}

	/* ---- overview: source ratios ------------------------------------------- */

	function renderRatioBar(bar, fracs, counts, what) {
		clear(bar);
		SOURCES.forEach(function (k) {
			var f = num(fracs[k]);
			var seg;

			if (f <= 0)
				return;
			seg = el('div', {'class': 'seg src-' + k, 'data-source': k, 'data-value': f,
				title: SOURCE_INFO[k][0] + ': ' + fmtPct(f) + ' of ' + what});
			seg.style.width = (f * 100) + '%';
			if (f >= 0.06)
				seg.appendChild(document.createTextNode(SOURCE_INFO[k][0] + ' ' + fmtPct(f)));
			bar.appendChild(seg);
		});
		if (!bar.firstChild)
			bar.appendChild(el('div', {'class': 'seg empty'}, 'no flows in the window'));
	}

	function renderOverview(s) {
		var r = s.sourceRatios || {};
		var byFlows = r.byFlows || {};
		var byBytes = r.byBytes || {};
		var flows = r.flows || {};
		var bytes = r.bytes || {};
		var tb = clear($('ratio-legend').tBodies[0]);
		var idf = 0, idb = 0;

		setNum('summary-flows', s.flows);
		setNum('summary-bytes', s.bytes, fmtBytes(s.bytes));
		['ndpi-agent', 'builtin-payload', 'dns-cache', 'sni-cache'].forEach(function (k) {
			idf += num(byFlows[k]);
			idb += num(byBytes[k]);
		});
		setNum('identified-flows', idf, fmtPct(idf));
		setNum('identified-bytes', idb, fmtPct(idb));
		renderRatioBar($('ratio-bar-flows'), byFlows, flows, 'flows');
		renderRatioBar($('ratio-bar-bytes'), byBytes, bytes, 'bytes');
		SOURCES.forEach(function (k) {
			tb.appendChild(el('tr', {'data-source': k},
				el('td', null, el('span', {'class': 'swatch src-' + k}), ' ' + SOURCE_INFO[k][0]),
				el('td', {'class': 'meta'}, SOURCE_INFO[k][1]),
				numCell(flows[k]),
				el('td', {'class': 'num', id: 'ratio-' + k, 'data-value': num(byFlows[k])}, fmtPct(byFlows[k])),
				bytesCell(bytes[k]),
				el('td', {'class': 'num', id: 'ratio-bytes-' + k, 'data-value': num(byBytes[k])}, fmtPct(byBytes[k]))));
		});
	}

	/* ---- health ------------------------------------------------------------ */

	function dl(card, rows) {
		var d = clear(card.querySelector('dl'));

		rows.forEach(function (r) {
			var dd = el('dd', {'data-key': r[0]}, r[1] === null || r[1] === undefined ? '\u2013' : r[1]);

			if (r[2] !== undefined)
				dd.setAttribute('data-value', String(r[2]));
			if (r[3])
				dd.className = r[3];
			d.appendChild(el('dt', null, r[0]));
			d.appendChild(dd);
		});
	}

	function healthCard(id, h, rows) {
		var card = $(id);
		var ok = !!(h && h.reachable);

		card.setAttribute('data-reachable', ok ? 'true' : 'false');
		card.className = 'card ' + (ok ? 'ok' : 'bad');
		rows.unshift(['status', ok ? 'reachable' : 'unreachable', ok, ok ? 'good' : 'warn']);
		if (h && h.error)
			rows.push(['error', String(h.error), undefined, 'warn']);
		rows.push(['checked', fmtTime(h && h.checkedAt)]);
		dl(card, rows);
	}

	function renderHealth(s) {
		var d = s.dpi || {};
		var c = d.classifier || {};
		var a = d.agent || {};
		var l = d.logger || {};
		var n = s.nflog || {};
		var breaker = c.breaker ? String(c.breaker) + (c.reason ? ' (' + c.reason + ')' : '') : null;

		healthCard('health-classifier', c, [
			['engine', c.engine],
			['active engine', c.activeEngine],
			['breaker', breaker, c.breaker || '', c.breaker && c.breaker !== 'closed' ? 'warn' : ''],
			['requests', fmtInt(c.requests), num(c.requests)],
			['errors', fmtInt(c.errors), num(c.errors), num(c.errors) ? 'warn' : ''],
			['timeouts', fmtInt(c.timeouts), num(c.timeouts)],
			['timeout rate', (num(c.timeoutRate) * 100).toFixed(2) + '%', num(c.timeoutRate),
				num(c.timeoutRate) > 0.01 ? 'warn' : '']
		]);
		healthCard('health-agent', a, [
			['libndpi', a.libndpiLoaded ? 'loaded' + (a.libndpiVersion ? ' ' + a.libndpiVersion : '') :
				'not loaded', !!a.libndpiLoaded, a.libndpiLoaded ? 'good' : 'warn'],
			['flows', fmtInt(a.flows), num(a.flows)],
			['errors', fmtInt(a.errors), num(a.errors), num(a.errors) ? 'warn' : '']
		].concat(a.reason ? [['reason', String(a.reason)]] : []));
		healthCard('health-logger', l, [
			['NFLOG packets', fmtInt(n.packets), num(n.packets)],
			['lost', fmtInt(n.lost), num(n.lost), num(n.lost) ? 'warn' : ''],
			['seq gaps', fmtInt(n.seqGaps), num(n.seqGaps), num(n.seqGaps) ? 'warn' : ''],
			['ENOBUFS', fmtInt(n.enobufs), num(n.enobufs), num(n.enobufs) ? 'warn' : ''],
			['truncated', fmtInt(n.truncated), num(n.truncated)]
		]);
	}

	/* ---- top lists --------------------------------------------------------- */

	function renderTop(id, rows, keyName, attr) {
		var tb = clear($(id).tBodies[0]);

		(rows || []).forEach(function (r) {
			var tr = el('tr', null, el('td', {'class': 'key'}, r[keyName] === null ? '\u2013' : r[keyName]));

			tr.setAttribute(attr, r[keyName] === null || r[keyName] === undefined ? '' : String(r[keyName]));
			if (keyName === 'client') {
				tr.firstChild.textContent = '';
				tr.firstChild.appendChild(clientLink(r.client));
				tr.appendChild(numCell(r.flows));
				tr.appendChild(bytesCell(r.bytesIn));
				tr.appendChild(bytesCell(r.bytesOut));
			} else {
				tr.appendChild(numCell(r.flows));
				tr.appendChild(bytesCell(r.bytes));
			}
			tb.appendChild(tr);
		});
		if (!tb.firstChild)
			tb.appendChild(el('tr', {'class': 'empty'}, el('td', {colspan: 4}, 'none')));
	}

	function renderSummary(s) {
		setTime('generated-at', s.generatedAt);
		setTime('window-since', s.since);
		setTime('window-until', s.until);
		renderOverview(s);
		renderHealth(s);
		renderTop('top-apps', s.topApps, 'app', 'data-app');
		renderTop('top-domains', s.topDomains, 'domain', 'data-domain');
		renderTop('top-providers', s.topProviders, 'provider', 'data-provider');
		renderTop('top-talkers', s.topTalkers, 'client', 'data-client');
		var f = s.firewall || {};
		setNum('fw-denies', f.denies);
		setNum('fw-cache-hits', f.cacheHits);
		setNum('fw-orphan-returns', f.orphanReturns);
		setNum('fw-true-suspicious', f.trueSuspicious);
	}

	/* ---- flows ------------------------------------------------------------- */

	function clientLink(addr) {
		var b = el('button', {type: 'button', 'class': 'link', 'data-filter-client': addr,
			title: 'show the flows of ' + addr}, addr);

		b.addEventListener('click', function () {
			state.flows = {source: '', app: '', client: String(addr), q: '', offset: 0};
			syncForm();
			loadFlows().then(function () {
				$('flows').scrollIntoView();
			});
		});
		return b;
	}

	function renderFlows(j) {
		var tb = clear($('flows-table').tBodies[0]);
		var flows = Array.isArray(j.flows) ? j.flows : [];
		var total = num(j.total);
		var off = num(j.offset);

		flows.forEach(function (f) {
			var peer = el('td', {'class': 'peer'}, addrPort(f.peerAddress, f.peerPort));
			var host = f.resolvedHostname || f.tlsSNI || f.httpHost || f.dnsQuery;
			var conf = f.appConfidence !== undefined && f.appConfidence !== null ? f.appConfidence : null;
			var app = el('td', {'class': 'app'}, f.appName || '\u2013');

			if (host)
				peer.appendChild(el('div', {'class': 'host', 'data-host': host}, host));
			if (f.appCategory)
				app.appendChild(el('div', {'class': 'meta'}, f.appCategory));
			tb.appendChild(el('tr', {'data-flow-key': f.flowKey || '', 'data-client': f.clientAddress || '',
					'data-source': f.source || ''},
				el('td', {'class': 'time', 'data-value': f.tsStarted || ''}, fmtTime(f.tsStarted)),
				el('td', {'class': 'client'}, addrPort(f.clientAddress, f.clientPort)),
				peer,
				el('td', {'class': 'proto', title: 'transport ' + (f.protocol || '?')},
					f.displayProtocol || f.protocol || '\u2013'),
				el('td', {'class': 'provider'}, f.provider || '\u2013'),
				app,
				el('td', null, sourceBadge(f.source, f.guessed)),
				el('td', {'class': 'num', 'data-value': conf === null ? '' : conf,
					title: f.confidence ? 'confidence ' + f.confidence : null},
					conf === null ? (f.confidence || '\u2013') : String(conf)),
				bytesCell(f.bytesIn),
				bytesCell(f.bytesOut)));
		});
		if (!flows.length)
			tb.appendChild(el('tr', {'class': 'empty'}, el('td', {colspan: 10}, 'no flows match')));
		setNum('flows-total', total);
		$('flows-range').setAttribute('data-offset', String(off));
		$('flows-range').setAttribute('data-count', String(flows.length));
		$('flows-range').textContent = flows.length ? (off + 1) + '\u2013' + (off + flows.length) : '0';
		$('flows-prev').disabled = off <= 0;
		$('flows-next').disabled = off + flows.length >= total;
	}

	function loadFlows() {
		var g = ++state.flowGen;
		var f = state.flows;

		writeHash();
		return getJSON('traffic-flows', {since: state.since, source: f.source, app: f.app,
			client: f.client, q: f.q, limit: PAGE, offset: f.offset}).then(function (j) {
			if (g !== state.flowGen)
				return;
			showErrors('flows', j.errors);
			renderFlows(j);
		});
	}
	state.flowGen = 0;

	/* ---- clients ----------------------------------------------------------- */

	var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1',
		       '#ff9da7', '#9c755f'];
	var OTHER_APP = '#c7b8a8', REST = '#9aa0a6';
	var appColors = {};

	/* The nine apps with the most bytes across all charts get their own colour. */
	function assignAppColors(clients) {
		var tot = {};
		var apps;

		clients.forEach(function (c) {
			(Array.isArray(c.hourly) ? c.hourly : []).forEach(function (h) {
				(Array.isArray(h.topApps) ? h.topApps : []).forEach(function (a) {
					var k = String(a.app);
					tot[k] = (tot[k] || 0) + num(a.bytes);
				});
			});
		});
		apps = Object.keys(tot).sort(function (a, b) { return tot[b] - tot[a]; });
		appColors = {};
		apps.slice(0, PALETTE.length).forEach(function (a, i) { appColors[a] = PALETTE[i]; });
		return {top: apps.slice(0, PALETTE.length), more: apps.length > PALETTE.length};
	}

	function appColor(app) {
		return appColors.hasOwnProperty(app) ? appColors[app] : OTHER_APP;
	}

	function swatch(color) {
		var s = el('span', {'class': 'swatch'});

		s.style.background = color;
		return s;
	}

	function renderChartLegend(a) {
		var lg = clear($('hourly-legend'));

		a.top.forEach(function (app) {
			lg.appendChild(el('span', {'data-app': app}, swatch(appColors[app]), app));
		});
		if (a.more)
			lg.appendChild(el('span', null, swatch(OTHER_APP), 'other apps'));
		lg.appendChild(el('span', null, swatch(REST), 'rest of the hour'));
	}

	/* 24 bars, one per hour (oldest left), stacked by the hour's top apps, the rest grey. One
	 * <path> per colour keeps the DOM small (50 clients would otherwise be ~6000 nodes); the
	 * per-hour numbers sit in data-values and in a tooltip (see chartTip). */
	var CW = 264, CH = 56, BW = 11;
	var chartHours = typeof WeakMap === 'function' ? new WeakMap() : null;

	function hourlyChart(hours) {
		var s = svg('svg', {width: CW, height: CH + 1, viewBox: '0 0 ' + CW + ' ' + (CH + 1),
			'class': 'hourly', role: 'img'});
		var paths = {};
		var order = [];
		var max = 1;

		function bar(color, x, y, h) {
			if (!paths[color]) {
				paths[color] = [];
				order.push(color);
			}
			paths[color].push('M' + (x + 1) + ' ' + y.toFixed(2) + 'h' + (BW - 2) + 'v' + h.toFixed(2) +
					  'h-' + (BW - 2) + 'z');
		}

		hours = Array.isArray(hours) ? hours : [];
		s.setAttribute('data-bars', String(hours.length));
		s.setAttribute('data-values', hours.map(function (h) { return num(h.bytes); }).join(','));
		hours.forEach(function (h) { max = Math.max(max, num(h.bytes)); });
		hours.forEach(function (h, i) {
			var x = i * BW, y = CH, total = num(h.bytes), rest = total;

			(Array.isArray(h.topApps) ? h.topApps : []).forEach(function (a) {
				var b = Math.min(num(a.bytes), rest);
				var hgt = b / max * CH;

				if (hgt <= 0)
					return;
				rest -= b;
				y -= hgt;
				bar(appColor(String(a.app)), x, y, hgt);
			});
			if (rest > 0) {
				y -= rest / max * CH;
				bar(REST, x, y, rest / max * CH);
			}
			if (total > 0 && y > CH - 1) /* keep non-empty hours visible */
				bar(REST, x, CH - 1, 1);
		});
		order.forEach(function (c) {
			s.appendChild(svg('path', {d: paths[c].join(''), fill: c}));
		});
		s.appendChild(svg('line', {x1: 0, y1: CH + 0.5, x2: CW, y2: CH + 0.5, 'class': 'axis'}));
		if (chartHours)
			chartHours.set(s, hours);
		return s;
	}

	/* Hour labels once, in the column header (every client chart covers the same 24 hours). */
	function renderHourAxis(hours) {
		var th = clear($('hourly-axis'));
		var s = svg('svg', {width: CW, height: 11, viewBox: '0 0 ' + CW + ' 11', 'class': 'hourly'});

		(Array.isArray(hours) ? hours : []).forEach(function (h, i) {
			var t;

			if (i % 3 || typeof h.hour !== 'string')
				return;
			t = svg('text', {x: i * BW + 1, y: 10, 'class': 'hour-label'});
			t.textContent = h.hour.slice(11, 13);
			s.appendChild(t);
		});
		th.appendChild(s);
	}

	/* One tooltip for all charts: the hour under the pointer, its bytes, flows and top apps. */
	function chartTip(ev) {
		var tip = $('chart-tip');
		var s = ev.target && ev.target.closest ? ev.target.closest('svg.hourly') : null;
		var hours = s && chartHours ? chartHours.get(s) : null;
		var r, i, h, x, y;

		if (!hours) {
			tip.hidden = true;
			return;
		}
		r = s.getBoundingClientRect();
		i = Math.floor((ev.clientX - r.left) / (r.width / CW) / BW);
		h = hours[i];
		if (!h) {
			tip.hidden = true;
			return;
		}
		tip.textContent = fmtTime(h.hour).slice(11, 16) + 'Z: ' + fmtBytes(h.bytes) + ', ' + fmtInt(h.flows) +
			' flows' + ((h.topApps || []).length ? ' (' + h.topApps.map(function (a) {
				return String(a.app) + ' ' + fmtBytes(a.bytes);
			}).join(', ') + ')' : '');
		/* measured at the top left (unsqueezed), then kept inside the viewport: the charts are
		 * the rightmost column, so the newest hours would push the tip off the right edge */
		tip.style.left = tip.style.top = '0px';
		tip.hidden = false;
		x = ev.clientX + 12;
		y = ev.clientY + 12;
		if (x + tip.offsetWidth > document.documentElement.clientWidth)
			x = Math.max(0, ev.clientX - 12 - tip.offsetWidth);
		if (y + tip.offsetHeight > document.documentElement.clientHeight)
			y = Math.max(0, ev.clientY - 12 - tip.offsetHeight);
		tip.style.left = x + 'px';
		tip.style.top = y + 'px';
	}

	function renderClients(j) {
		var tb = clear($('clients-table').tBodies[0]);
		var cl = Array.isArray(j.clients) ? j.clients : [];

		setNum('client-count', cl.length);
		renderChartLegend(assignAppColors(cl));
		renderHourAxis(cl.length ? cl[0].hourly : []);
		cl.forEach(function (c) {
			var mix = el('td', {'class': 'mix'});
			var last = el('td', {'class': 'last'});
			var act = String(c.primaryActivity || 'mixed');

			(Array.isArray(c.protocolMix) ? c.protocolMix : []).forEach(function (p) {
				mix.appendChild(el('span', {'class': 'mixitem', 'data-protocol': p.protocol,
					'data-value': num(p.share), title: fmtInt(p.flows) + ' flows, ' + fmtBytes(p.bytes)},
					String(p.protocol) + ' ' + fmtPct(p.share)));
			});
			if (c.lastProtocol)
				last.appendChild(el('span', {'class': 'proto'}, c.lastProtocol));
			if (c.lastDetail)
				last.appendChild(el('span', {'class': 'detail'}, ' ' + c.lastDetail));
			last.appendChild(el('div', {'class': 'meta', 'data-value': c.lastSeen || ''}, fmtTime(c.lastSeen)));
			tb.appendChild(el('tr', {'data-client': c.client},
				el('td', {'class': 'key'}, clientLink(c.client)),
				numCell(c.flows),
				bytesCell(c.bytesIn),
				bytesCell(c.bytesOut),
				el('td', null, el('span', {'class': 'badge act act-' +
					(/^(web-heavy|resolver-only|iot-telemetry|mixed)$/.test(act) ? act : 'mixed'),
					'data-activity': act}, act)),
				mix,
				last,
				el('td', {'class': 'chart'}, hourlyChart(c.hourly))));
		});
		if (!cl.length)
			tb.appendChild(el('tr', {'class': 'empty'}, el('td', {colspan: 8}, 'no clients in the window')));
	}

	/* ---- firewall ---------------------------------------------------------- */

	function renderFirewall(j) {
		var tb = clear($('fw-table').tBodies[0]);
		var logs = Array.isArray(j.logs) ? j.logs : [];
		var total = num(j.total);
		var off = num(j.offset);

		logs.forEach(function (l) {
			var names = el('td', {'class': 'host'});
			var flags = el('td', {'class': 'hint'});
			var corr = el('td');

			[['SNI', l.dpiTlsSni], ['host', l.dpiHttpHost], ['query', l.dpiDnsQuery]].forEach(function (p) {
				if (p[1])
					names.appendChild(el('div', {'data-kind': p[0]}, p[0] + ': ' + p[1]));
			});
			if (l.cacheHit)
				flags.appendChild(badge('cache hit', 'cachehit', l.hint || 'matched a prior classified flow'));
			if (l.hint && !l.cacheHit)
				flags.appendChild(el('span', {'class': 'meta'}, l.hint));
			if (l.correlation === 'orphan_return' || l.correlation === 'true_suspicious') {
				corr.appendChild(badge(l.correlation === 'orphan_return' ? 'orphan return' : 'suspicious',
					'corr-' + l.correlation, l.correlation));
			} else if (l.correlation) {
				corr.appendChild(badge(l.correlation, 'corr-other'));
			}
			if (l.correlationDetail)
				corr.appendChild(el('div', {'class': 'meta'}, l.correlationDetail));
			if (l.expiredAgeSeconds !== null && l.expiredAgeSeconds !== undefined)
				corr.appendChild(el('div', {'class': 'meta'}, 'conntrack expired ' + fmtInt(l.expiredAgeSeconds) +
					' s before' + (l.expiredBytes ? ', ' + fmtBytes(l.expiredBytes) : '')));
			tb.appendChild(el('tr', {'data-log-id': l.id, 'data-correlation': l.correlation || '',
					'data-cache-hit': l.cacheHit ? 'true' : 'false'},
				el('td', {'class': 'time', 'data-value': l.ts || ''}, fmtTime(l.ts)),
				el('td', null, l.action || '\u2013'),
				el('td', null, l.ruleName || '\u2013',
					l.zoneFrom || l.zoneTo ? el('div', {'class': 'meta'},
						(l.zoneFrom || '?') + ' \u2192 ' + (l.zoneTo || '?')) : null),
				el('td', null, addrPort(l.srcAddress, l.srcPort),
					l.inIface ? el('div', {'class': 'meta'}, 'in ' + l.inIface) : null),
				el('td', null, addrPort(l.dstAddress, l.dstPort),
					l.outIface ? el('div', {'class': 'meta'}, 'out ' + l.outIface) : null),
				el('td', null, l.protocol || '\u2013', l.tcpFlags ? el('div', {'class': 'meta'}, l.tcpFlags) : null),
				el('td', null, l.dpiApp || '\u2013', l.dpiCategory ? el('div', {'class': 'meta'}, l.dpiCategory) : null),
				names,
				el('td', null, l.dpiApp || l.dpiSource ? sourceBadge(l.dpiSource, false) : '\u2013',
					l.dpiConfidence !== null && l.dpiConfidence !== undefined ?
						el('div', {'class': 'meta'}, 'confidence ' + l.dpiConfidence) : null),
				flags,
				corr));
		});
		if (!logs.length)
			tb.appendChild(el('tr', {'class': 'empty'}, el('td', {colspan: 11}, 'no denies in the window')));
		setNum('fw-total', total);
		$('fw-range').setAttribute('data-offset', String(off));
		$('fw-range').setAttribute('data-count', String(logs.length));
		$('fw-range').textContent = logs.length ? (off + 1) + '\u2013' + (off + logs.length) : '0';
		$('fw-prev').disabled = off <= 0;
		$('fw-next').disabled = off + logs.length >= total;
	}

	function fwParams() {
		return {since: state.since, action: 'deny', limit: PAGE, offset: state.fwOffset};
	}

	function loadFirewall() {
		var g = ++state.fwGen;

		return getJSON('firewall-logs', fwParams()).then(function (j) {
			if (g !== state.fwGen)
				return;
			showErrors('firewall', j.errors);
			renderFirewall(j);
		});
	}
	state.fwGen = 0;

	/* ---- state <-> URL fragment (so a view can be bookmarked / loaded by a test) ---- */

	function readHash() {
		var h = location.hash.replace(/^#/, '');

		h.split('&').forEach(function (kv) {
			var i = kv.indexOf('=');
			var k, v;

			if (i <= 0)
				return;
			k = decodeURIComponent(kv.slice(0, i));
			try {
				v = decodeURIComponent(kv.slice(i + 1).replace(/\+/g, ' '));
			} catch (e) {
				return;
			}
			if (k === 'since' && WINDOWS[v])
				state.since = v;
			else if (k === 'offset' && /^\d{1,9}$/.test(v))
				state.flows.offset = parseInt(v, 10);
			else if (k === 'source' || k === 'app' || k === 'client' || k === 'q')
				state.flows[k] = v;
		});
	}

	function writeHash() {
		var f = state.flows;
		var h = qs({since: state.since === '24h' ? '' : state.since, source: f.source, app: f.app,
			client: f.client, q: f.q, offset: f.offset || ''}).replace(/^\?/, '');

		if (history.replaceState)
			history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
	}

	function syncForm() {
		$('filter-source').value = state.flows.source;
		$('filter-app').value = state.flows.app;
		$('filter-client').value = state.flows.client;
		$('filter-q').value = state.flows.q;
		$('window-select').value = state.since;
	}

	/* ---- everything -------------------------------------------------------- */

	function loadAll() {
		var g = ++state.gen;
		var t0 = Date.now();

		document.body.setAttribute('data-ready', '0');
		$('status').textContent = 'loading\u2026';
		return Promise.all([
			getJSON('summary', {since: state.since}).then(function (j) {
				if (g !== state.gen)
					return;
				showErrors('summary', j.errors);
				renderSummary(j);
			}),
			loadFlows(),
			getJSON('clients', {window: state.since, limit: 50}).then(function (j) {
				if (g !== state.gen)
					return;
				showErrors('clients', j.errors);
				renderClients(j);
			}),
			loadFirewall()
		]).then(function () {
			if (g !== state.gen)
				return;
			$('status').textContent = 'loaded in ' + (Date.now() - t0) + ' ms';
			/* ms since navigation start, read by tools/bench_console_page.sh */
			if (window.performance && performance.now)
				document.body.setAttribute('data-load-ms', String(Math.round(performance.now())));
			document.body.setAttribute('data-ready', '1');
		}, function (e) {
			showErrors('page', ['page: ' + (e && e.message ? e.message : String(e))]);
			$('status').textContent = 'failed';
			document.body.setAttribute('data-ready', 'error');
		});
	}

	function init() {
		readHash();
		syncForm();
		$('window-select').addEventListener('change', function () {
			state.since = this.value;
			state.flows.offset = 0;
			state.fwOffset = 0;
			loadAll();
		});
		$('refresh').addEventListener('click', loadAll);
		$('clients-table').addEventListener('mousemove', chartTip);
		$('clients-table').addEventListener('mouseleave', function () { $('chart-tip').hidden = true; });
		$('flow-filters').addEventListener('submit', function (ev) {
			ev.preventDefault();
			state.flows = {source: $('filter-source').value, app: $('filter-app').value.trim(),
				client: $('filter-client').value.trim(), q: $('filter-q').value.trim(), offset: 0};
			loadFlows();
		});
		$('filter-source').addEventListener('change', function () {
			state.flows.source = this.value;
			state.flows.offset = 0;
			loadFlows();
		});
		$('filter-clear').addEventListener('click', function () {
			state.flows = {source: '', app: '', client: '', q: '', offset: 0};
			syncForm();
			loadFlows();
		});
		$('flows-prev').addEventListener('click', function () {
			state.flows.offset = Math.max(0, state.flows.offset - PAGE);
			loadFlows();
		});
		$('flows-next').addEventListener('click', function () {
			state.flows.offset += PAGE;
			loadFlows();
		});
		$('fw-prev').addEventListener('click', function () {
			state.fwOffset = Math.max(0, state.fwOffset - PAGE);
			loadFirewall();
		});
		$('fw-next').addEventListener('click', function () {
			state.fwOffset += PAGE;
			loadFirewall();
		});
		loadAll();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
})();
