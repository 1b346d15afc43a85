#!/usr/bin/python3
# Drives the routerd-dpi-console web page in headless chromium through the Chrome DevTools
# Protocol and checks that user interactions work: flow and firewall paging, the window
# selector, the flow filters, clicking a client and the hourly-chart tooltip. Every expected
# value comes from the console's JSON API, asked with the parameters the page itself sends.
#
# Standard library only (run with Debian's /usr/bin/python3). CDP goes over
# --remote-debugging-pipe: chromium reads NUL-terminated JSON messages on fd 3 and writes its
# own on fd 4. Every wait polls with a deadline; chromium (its whole process group) is killed
# on every exit path. Called by test_browser_clicks.sh; prints "ok: ..." lines, and
# "FAIL: ..." with exit status 1 on the first failed check.
import argparse
import base64
import calendar
import decimal
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

WAIT = 15.0  # default deadline of every wait, seconds
CW, CH, BW = 264, 56, 11  # hourly chart geometry in app.js (viewBox units)
WINDOWS = {'1h': 3600, '24h': 86400, '7d': 7 * 86400}  # the <select id="window-select"> options


class Fail(Exception):
	pass


def log(msg):
	print(msg, flush=True)


# ---- CDP over a pipe -----------------------------------------------------------------------

def high_fd(fd):
	"""The same pipe end at a descriptor >= 10 (close-on-exec), so the shell that starts
	chromium can move it to 3 or 4 without clobbering anything."""
	n = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
	os.close(fd)
	return n


class Browser:
	def __init__(self, chromium, profile, stderr_path, extra_args=()):
		r3, w3 = os.pipe()  # we write, chromium reads on fd 3
		r4, w4 = os.pipe()  # chromium writes on fd 4, we read
		r3, w3, r4, w4 = map(high_fd, (r3, w3, r4, w4))
		args = [chromium, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
			'--disable-background-networking', '--remote-debugging-pipe',
			'--user-data-dir=' + profile] + list(extra_args) + ['about:blank']
		self.stderr = open(stderr_path, 'wb')
		# bash moves the pipe ends to fds 3 and 4 and execs chromium (the Debian wrapper
		# execs the real binary): one process group, led by this pid, killed as a whole.
		self.proc = subprocess.Popen(
			['/bin/bash', '-c', 'exec 3<&%d 4>&%d %d<&- %d>&-; exec "$@"' % (r3, w4, r3, w4),
			 'bash'] + args,
			pass_fds=(r3, w4), start_new_session=True, stdin=subprocess.DEVNULL,
			stdout=self.stderr, stderr=self.stderr)
		os.close(r3)
		os.close(w4)
		self.wfd, self.rfd = w3, r4
		self.buf = b''
		self.next_id = 0
		self.responses = {}
		self.exceptions = []  # Runtime.exceptionThrown: uncaught errors in the page
		self.console_errors = []  # console.error / Log errors from the page

	def _write(self, data):
		while data:
			try:
				n = os.write(self.wfd, data)
			except BrokenPipeError:
				raise Fail('chromium closed its DevTools pipe (exited with %s)' %
					   self.proc.poll())
			data = data[n:]

	def _read_one(self, deadline):
		"""Next message from chromium, or None at the deadline."""
		while b'\0' not in self.buf:
			left = deadline - time.monotonic()
			if left <= 0:
				return None
			r, _, _ = select.select([self.rfd], [], [], left)
			if not r:
				return None
			chunk = os.read(self.rfd, 1 << 20)
			if not chunk:
				raise Fail('chromium closed its DevTools pipe (exited with %s)' %
					   self.proc.poll())
			self.buf += chunk
		msg, self.buf = self.buf.split(b'\0', 1)
		return json.loads(msg)

	def _event(self, m):
		method, p = m.get('method'), m.get('params', {})
		if method == 'Runtime.exceptionThrown':
			d = p.get('exceptionDetails', {})
			self.exceptions.append((d.get('exception') or {}).get('description') or d.get('text'))
		elif method == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
			self.console_errors.append(' '.join(str(a.get('value', a.get('description')))
							    for a in p.get('args', [])))
		elif method == 'Log.entryAdded' and p.get('entry', {}).get('level') == 'error':
			e = p['entry']
			self.console_errors.append('%s: %s %s' % (e.get('source'), e.get('text'),
								 e.get('url', '')))

	def send(self, method, params=None, session=None, timeout=WAIT):
		self.next_id += 1
		mid = self.next_id
		msg = {'id': mid, 'method': method, 'params': params or {}}
		if session:
			msg['sessionId'] = session
		self._write(json.dumps(msg).encode() + b'\0')
		deadline = time.monotonic() + timeout
		while mid not in self.responses:
			m = self._read_one(deadline)
			if m is None:
				raise Fail('no answer to %s within %.0f s' % (method, timeout))
			if 'id' in m:
				self.responses[m['id']] = m
			else:
				self._event(m)
		m = self.responses.pop(mid)
		if 'error' in m:
			raise Fail('%s: %s' % (method, m['error'].get('message', m['error'])))
		return m.get('result', {})

	def pump(self, seconds):
		"""Handle the events that arrive within the next seconds."""
		deadline = time.monotonic() + seconds
		while True:
			m = self._read_one(deadline)
			if m is None:
				return
			if 'id' in m:
				self.responses[m['id']] = m
			else:
				self._event(m)

	def close(self):
		if self.proc.poll() is None:
			try:
				self.send('Browser.close', timeout=3)
			except Exception:
				pass
			try:
				self.proc.wait(timeout=3)
			except subprocess.TimeoutExpired:
				pass
		# the renderers and the zygote share the group: kill what is left of it
		try:
			os.killpg(self.proc.pid, signal.SIGKILL)
		except (ProcessLookupError, PermissionError):
			pass
		try:
			self.proc.wait(timeout=10)
		except subprocess.TimeoutExpired:
			pass
		for fd in (self.wfd, self.rfd):
			try:
				os.close(fd)
			except OSError:
				pass
		self.stderr.close()


class Page:
	"""One tab, driven through a flattened session."""

	def __init__(self, browser):
		self.b = browser
		tid = browser.send('Target.createTarget', {'url': 'about:blank'})['targetId']
		self.sid = browser.send('Target.attachToTarget',
					{'targetId': tid, 'flatten': True})['sessionId']
		for domain in ('Page', 'Runtime', 'Log'):
			self.send(domain + '.enable')

	def send(self, method, params=None, timeout=WAIT):
		return self.b.send(method, params, self.sid, timeout)

	def js(self, expr, timeout=WAIT):
		r = self.send('Runtime.evaluate', {'expression': expr, 'awaitPromise': True,
						   'returnByValue': True}, timeout)
		if 'exceptionDetails' in r:
			d = r['exceptionDetails']
			raise Fail('page script failed: %s (%s)' %
				   ((d.get('exception') or {}).get('description') or d.get('text'), expr[:80]))
		return r.get('result', {}).get('value')

	def navigate(self, url):
		r = self.send('Page.navigate', {'url': url})
		if r.get('errorText'):
			raise Fail('navigation to %s failed: %s' % (url, r['errorText']))

	def wait(self, what, pred, timeout=WAIT):
		"""Poll snapshot() until pred(state) holds; fail with the last state otherwise."""
		deadline = time.monotonic() + timeout
		while True:
			s = self.snapshot()
			if pred(s):
				return s
			if time.monotonic() > deadline:
				raise Fail('%s: not reached within %.0f s; page state: %s' %
					   (what, timeout, brief(s)))
			self.b.pump(0.05)

	def snapshot(self):
		return self.js(SNAPSHOT_JS)

	def mouse(self, kind, x, y, **kw):
		p = {'type': kind, 'x': x, 'y': y}
		p.update(kw)
		self.send('Input.dispatchMouseEvent', p)

	def key(self, key, code, vk, text=None):
		down = {'type': 'keyDown' if text else 'rawKeyDown', 'key': key, 'code': code,
			'windowsVirtualKeyCode': vk, 'nativeVirtualKeyCode': vk}
		if text:
			down['text'] = down['unmodifiedText'] = text
		self.send('Input.dispatchKeyEvent', down)
		self.send('Input.dispatchKeyEvent', {'type': 'keyUp', 'key': key, 'code': code,
						     'windowsVirtualKeyCode': vk,
						     'nativeVirtualKeyCode': vk})

	def point_of(self, selector):
		"""Scroll the element to the middle of the viewport; its centre and what the
		browser hit-tests there (the element itself or something covering it)."""
		r = self.js('''(() => {
			const e = document.querySelector(%s);
			if (!e) return null;
			e.scrollIntoView({block: 'center', inline: 'center'});
			const r = e.getBoundingClientRect();
			const x = r.left + r.width / 2, y = r.top + r.height / 2;
			const h = document.elementFromPoint(x, y);
			return {x: x, y: y, w: r.width, h: r.height, disabled: !!e.disabled,
				hit: !!h && (h === e || e.contains(h)),
				hitTag: h ? h.tagName + (h.id ? '#' + h.id : '') : null};
		})()''' % json.dumps(selector))
		if r is None:
			raise Fail('no element %s on the page' % selector)
		if r['w'] <= 0 or r['h'] <= 0:
			raise Fail('%s is not rendered (size %sx%s)' % (selector, r['w'], r['h']))
		if not r['hit']:
			raise Fail('%s is covered by %s at its centre' % (selector, r['hitTag']))
		return r

	def click(self, selector):
		"""A real left click (move, press, release) at the element's centre."""
		p = self.point_of(selector)
		if p['disabled']:
			raise Fail('%s is disabled, cannot click it' % selector)
		self.mouse('mouseMoved', p['x'], p['y'])
		self.mouse('mousePressed', p['x'], p['y'], button='left', buttons=1, clickCount=1)
		self.mouse('mouseReleased', p['x'], p['y'], button='left', buttons=0, clickCount=1)

	def screenshot(self, path):
		data = self.send('Page.captureScreenshot', {'format': 'png'}, timeout=20)['data']
		with open(path, 'wb') as f:
			f.write(base64.b64decode(data))


# Everything the checks read from the page, in one evaluation. window.__rdpiTest counts renders
# (MutationObserver on the table bodies and on <body data-ready>, installed by instrument()), so
# a check waits for the render its action caused, never for a fixed time.
SNAPSHOT_JS = r'''(() => {
	const $ = id => document.getElementById(id);
	const attr = (id, a) => $(id) ? $(id).getAttribute(a) : null;
	const rows = (sel, a) => Array.from(document.querySelectorAll(sel)).map(r => r.getAttribute(a));
	const tip = $('chart-tip');
	if (!tip || !document.body)
		return {ready: null, url: location.href};  /* not (yet) the console page */
	const tr = tip.getBoundingClientRect();
	return {
		ready: document.body.getAttribute('data-ready'),
		renders: window.__rdpiTest ? Object.assign({}, window.__rdpiTest) : null,
		hash: location.hash,
		window: $('window-select').value,
		windowSince: attr('window-since', 'data-value'),
		windowUntil: attr('window-until', 'data-value'),
		summaryFlows: attr('summary-flows', 'data-value'),
		clientCount: attr('client-count', 'data-value'),
		flowsOffset: attr('flows-range', 'data-offset'),
		flowsCount: attr('flows-range', 'data-count'),
		flowsTotal: attr('flows-total', 'data-value'),
		flowsPrevDisabled: $('flows-prev').disabled,
		flowsNextDisabled: $('flows-next').disabled,
		flowKeys: rows('#flows-table tbody tr[data-flow-key]', 'data-flow-key'),
		flowSources: rows('#flows-table tbody tr[data-flow-key]', 'data-source'),
		flowClients: rows('#flows-table tbody tr[data-flow-key]', 'data-client'),
		fwOffset: attr('fw-range', 'data-offset'),
		fwCount: attr('fw-range', 'data-count'),
		fwTotal: attr('fw-total', 'data-value'),
		fwPrevDisabled: $('fw-prev').disabled,
		fwNextDisabled: $('fw-next').disabled,
		fwIds: rows('#fw-table tbody tr[data-log-id]', 'data-log-id'),
		clients: rows('#clients-table tbody tr[data-client]', 'data-client'),
		filters: {source: $('filter-source').value, app: $('filter-app').value,
			  client: $('filter-client').value, q: $('filter-q').value},
		tip: {hidden: tip.hidden, display: getComputedStyle(tip).display, text: tip.textContent,
		      left: tr.left, top: tr.top, width: tr.width, height: tr.height},
		flowsTop: $('flows').getBoundingClientRect().top
	};
})()'''

INSTRUMENT_JS = r'''(() => {
	const t = window.__rdpiTest = {flows: 0, fw: 0, clients: 0, ready: 0};
	const watch = (id, k) => new MutationObserver(() => { t[k]++; })
		.observe(document.querySelector('#' + id + ' tbody'), {childList: true});
	watch('flows-table', 'flows');
	watch('fw-table', 'fw');
	watch('clients-table', 'clients');
	new MutationObserver(() => {
		if (document.body.getAttribute('data-ready') === '1') t.ready++;
	}).observe(document.body, {attributes: true, attributeFilter: ['data-ready']});
	return true;
})()'''


def brief(s):
	"""A page state short enough for a failure message."""
	if not isinstance(s, dict):
		return repr(s)
	s = dict(s)
	for k in ('flowKeys', 'flowSources', 'flowClients', 'fwIds', 'clients'):
		if isinstance(s.get(k), list) and len(s[k]) > 3:
			s[k] = s[k][:3] + ['... %d in all' % len(s[k])]
	return json.dumps(s, sort_keys=True)


# ---- the JSON API and app.js formatting ------------------------------------------------------

class Api:
	def __init__(self, base):
		self.base = base.rstrip('/')

	def get(self, path, **params):
		"""GET /api/v1/<path> with the parameters the page sends (empty ones left out)."""
		q = urllib.parse.urlencode({k: v for k, v in params.items() if v not in ('', None)})
		url = '%s/api/v1/%s%s' % (self.base, path, '?' + q if q else '')
		try:
			with urllib.request.urlopen(url, timeout=10) as r:
				return json.load(r)
		except Exception as e:
			raise Fail('GET %s: %s' % (url, e))


def iso_s(ts):
	"""RFC3339 UTC with milliseconds (as the API sends) -> unix seconds, exact."""
	try:
		d = time.strptime(ts[:19], '%Y-%m-%dT%H:%M:%S')
		frac = ts[19:].rstrip('Z')
		return calendar.timegm(d) + (decimal.Decimal(frac) if frac else 0)
	except (TypeError, ValueError, decimal.InvalidOperation):
		raise Fail('bad timestamp %r on the page' % (ts,))


def js_fixed(v, digits):
	"""Number.prototype.toFixed: the exact binary value, ties away from zero."""
	q = decimal.Decimal(1).scaleb(-digits)
	return str(decimal.Decimal(v).quantize(q, rounding=decimal.ROUND_HALF_UP))


def fmt_bytes(v):  # app.js fmtBytes
	units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
	v = v if isinstance(v, (int, float)) else 0
	i = 0
	while abs(v) >= 1024 and i < len(units) - 1:
		v /= 1024
		i += 1
	if i == 0:
		return '%s %s' % (int(v) if float(v).is_integer() else v, units[i])
	return '%s %s' % (js_fixed(v, 2 if v < 10 else 1 if v < 100 else 0), units[i])


def fmt_int(v):  # app.js fmtInt
	v = v if isinstance(v, (int, float)) else 0
	return '{:,}'.format(int(decimal.Decimal(v).quantize(1, rounding=decimal.ROUND_HALF_UP)))


def fmt_hour(ts):  # fmtTime(h.hour).slice(11, 16)
	return ts[11:16] if isinstance(ts, str) and len(ts) >= 19 else ''


def tip_text(h):  # app.js chartTip
	apps = h.get('topApps') or []
	t = '%sZ: %s, %s flows' % (fmt_hour(h.get('hour')), fmt_bytes(h.get('bytes')),
				   fmt_int(h.get('flows')))
	if apps:
		t += ' (' + ', '.join('%s %s' % (a.get('app'), fmt_bytes(a.get('bytes'))) for a in apps) + ')'
	return t


# ---- the scenario ------------------------------------------------------------------------------

def expect_eq(what, got, want):
	if got != want:
		raise Fail('%s: page shows %r, expected %r' % (what, got, want))


def keys(j):
	return [f.get('flowKey') or '' for f in j.get('flows', [])]


def check_flows(s, j, what):
	"""The rendered flow page is the API's page: total, offset, every key in order."""
	expect_eq(what + ': flows-total', s['flowsTotal'], str(j['total']))
	expect_eq(what + ': flows-range data-offset', s['flowsOffset'], str(j['offset']))
	expect_eq(what + ': flow rows', s['flowKeys'], keys(j))
	expect_eq(what + ': flows-range data-count', s['flowsCount'], str(len(j['flows'])))


def run(page, api, base, art):
	t0 = time.monotonic()
	page.navigate(base + '/')
	s = page.wait('initial load (body data-ready=1)', lambda s: s['ready'] == '1', 20)
	if not page.js(INSTRUMENT_JS):
		raise Fail('cannot install the render counters')
	s = page.snapshot()
	since = s['window']
	expect_eq('default window', since, '24h')
	expect_eq('URL hash of the default view', s['hash'], '')
	log('ok: page loaded in %.1f s, window %s' % (time.monotonic() - t0, since))

	# ---- 1. paging -------------------------------------------------------------------------
	page_size = int(s['flowsCount'] or 0)
	f0 = api.get('traffic-flows', since=since, limit=page_size, offset=0)
	if not 0 < page_size < f0['total']:
		raise Fail('flows: page of %d rows of %d, need a second page' % (page_size, f0['total']))
	check_flows(s, f0, 'flows page 1')
	if not s['flowsPrevDisabled'] or s['flowsNextDisabled']:
		raise Fail('flows: on the first page "newer" must be disabled and "older" enabled')
	f1 = api.get('traffic-flows', since=since, limit=page_size, offset=page_size)
	r = s['renders']
	page.click('#flows-next')
	s = page.wait('flows page 2 after clicking #flows-next',
		      lambda s: s['renders']['flows'] > r['flows'])
	check_flows(s, f1, 'flows page 2')
	expect_eq('flows page 2: first row', s['flowKeys'][0], f1['flows'][0]['flowKey'])
	expect_eq('URL hash on flows page 2', s['hash'], '#offset=%d' % page_size)
	if s['flowsPrevDisabled']:
		raise Fail('flows: "newer" still disabled on page 2')
	r = s['renders']
	page.click('#flows-prev')
	s = page.wait('flows page 1 after clicking #flows-prev',
		      lambda s: s['renders']['flows'] > r['flows'])
	check_flows(s, api.get('traffic-flows', since=since, limit=page_size, offset=0), 'flows back on page 1')
	expect_eq('URL hash back on flows page 1', s['hash'], '')
	log('ok: flows paging: next -> offset %d, first row %s (= API); prev -> offset 0, first row %s'
	    % (page_size, f1['flows'][0]['flowKey'], s['flowKeys'][0]))

	fw_page = int(s['fwCount'] or 0)
	w0 = api.get('firewall-logs', since=since, action='deny', limit=fw_page, offset=0)
	if not 0 < fw_page < w0['total']:
		raise Fail('firewall: page of %d rows of %d, need a second page' % (fw_page, w0['total']))
	ids = lambda j: [str(l['id']) for l in j.get('logs', [])]
	expect_eq('firewall page 1 rows', s['fwIds'], ids(w0))
	expect_eq('fw-total', s['fwTotal'], str(w0['total']))
	expect_eq('fw-range data-offset', s['fwOffset'], '0')
	w1 = api.get('firewall-logs', since=since, action='deny', limit=fw_page, offset=fw_page)
	r = s['renders']
	page.click('#fw-next')
	s = page.wait('firewall page 2 after clicking #fw-next', lambda s: s['renders']['fw'] > r['fw'])
	expect_eq('fw-range data-offset on page 2', s['fwOffset'], str(fw_page))
	expect_eq('firewall page 2 rows', s['fwIds'], ids(w1))
	expect_eq('fw-total on page 2', s['fwTotal'], str(w1['total']))
	if s['fwPrevDisabled']:
		raise Fail('firewall: "newer" still disabled on page 2')
	expect_eq('flows untouched by firewall paging', s['flowsOffset'], '0')
	r = s['renders']
	page.click('#fw-prev')
	s = page.wait('firewall page 1 after clicking #fw-prev', lambda s: s['renders']['fw'] > r['fw'])
	expect_eq('fw-range data-offset back on page 1', s['fwOffset'], '0')
	expect_eq('firewall rows back on page 1', s['fwIds'],
		  ids(api.get('firewall-logs', since=since, action='deny', limit=fw_page, offset=0)))
	log('ok: firewall paging: next -> offset %d, first row id %s (= API); prev -> offset 0'
	    % (fw_page, w1['logs'][0]['id']))

	# ---- 2. window selector (keyboard on the focused <select>, as a user would) -------------
	# both tables on their second page first: a new window starts both from the top again
	# (one at a time: a render moves what is below it, so never click during one)
	r = s['renders']
	page.click('#flows-next')
	s = page.wait('flows on page 2 again', lambda s: s['renders']['flows'] > r['flows'])
	page.click('#fw-next')
	s = page.wait('firewall on page 2 again', lambda s: s['renders']['fw'] > r['fw'])
	expect_eq('flows offset before the window change', s['flowsOffset'], str(page_size))
	expect_eq('firewall offset before the window change', s['fwOffset'], str(fw_page))

	def select_window(key, code, vk, presses, want):
		r = page.snapshot()['renders']
		page.js("document.getElementById('window-select').focus(), true")
		for _ in range(presses):
			page.key(key, code, vk)
		s = page.wait('reload for window %s' % want,
			      lambda s: s['window'] == want and s['ready'] == '1' and
			      s['renders']['ready'] > r['ready'])
		sm = api.get('summary', since=want)
		fl = api.get('traffic-flows', since=want, limit=page_size, offset=0)
		cl = api.get('clients', window=want, limit=50)
		expect_eq('summary-flows for %s' % want, s['summaryFlows'], str(sm['flows']))
		span = iso_s(s['windowUntil']) - iso_s(s['windowSince'])
		expect_eq('shown window (until - since) for %s' % want, span, WINDOWS[want])
		check_flows(s, fl, 'flows for %s' % want)
		fw = api.get('firewall-logs', since=want, action='deny', limit=fw_page, offset=0)
		expect_eq('firewall rows for %s' % want, s['fwIds'], ids(fw))
		expect_eq('fw-range data-offset for %s' % want, s['fwOffset'], '0')
		expect_eq('fw-total for %s' % want, s['fwTotal'], str(fw['total']))
		expect_eq('client rows for %s' % want, s['clients'],
			  [c['client'] for c in cl.get('clients', [])])
		expect_eq('client-count for %s' % want, s['clientCount'], str(len(cl.get('clients', []))))
		expect_eq('URL hash for %s' % want, s['hash'], '' if want == '24h' else '#since=' + want)
		log('ok: window %s: summary-flows %s, flows-total %s, fw-total %s, %d clients, both '
		    'tables back at offset 0, hash %r (= API)' % (want, s['summaryFlows'],
		    s['flowsTotal'], s['fwTotal'], len(s['clients']), s['hash']))
		return s

	select_window('ArrowUp', 'ArrowUp', 38, 1, '1h')  # 24 hours -> 1 hour
	# 1 hour -> 24 hours -> 7 days: two reloads back to back, the page must show the last one
	s = select_window('ArrowDown', 'ArrowDown', 40, 2, '7d')
	since = '7d'
	unfiltered = api.get('traffic-flows', since=since, limit=page_size, offset=0)

	# ---- 3. filters --------------------------------------------------------------------------
	r = s['renders']
	page.js('''(() => { const e = document.getElementById('filter-source');
		e.value = 'port-fallback';
		e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()''')
	s = page.wait('flows after choosing source port-fallback',
		      lambda s: s['renders']['flows'] > r['flows'])
	pf = api.get('traffic-flows', since=since, source='port-fallback', limit=page_size, offset=0)
	if not pf['flows']:
		raise Fail('the test data has no port-fallback flows')
	check_flows(s, pf, 'source=port-fallback')
	bad = [x for x in s['flowSources'] if x != 'port-fallback']
	if bad:
		raise Fail('source=port-fallback: %d rows of other sources %s' % (len(bad), sorted(set(bad))))
	expect_eq('URL hash for source=port-fallback', s['hash'], '#since=7d&source=port-fallback')
	log('ok: source filter port-fallback: %s flows (= API), all %d rows port-fallback'
	    % (s['flowsTotal'], len(s['flowKeys'])))

	# an app of the port-fallback flows, typed into the form and submitted with Enter
	apps = {}
	for f in pf['flows']:
		if f.get('appName'):
			apps[f['appName']] = apps.get(f['appName'], 0) + 1
	if not apps:
		raise Fail('no port-fallback flow has an app name')
	app = sorted(apps, key=lambda a: (-apps[a], a))[0]
	page.click('#filter-app')
	page.send('Input.insertText', {'text': app})
	expect_eq('typed #filter-app', page.snapshot()['filters']['app'], app)
	r = page.snapshot()['renders']
	page.key('Enter', 'Enter', 13, '\r')
	s = page.wait('flows after submitting app=%s' % app, lambda s: s['renders']['flows'] > r['flows'])
	both = api.get('traffic-flows', since=since, source='port-fallback', app=app,
		       limit=page_size, offset=0)
	check_flows(s, both, 'source=port-fallback app=%s' % app)
	if not both['flows']:
		raise Fail('source=port-fallback app=%s: the API has no rows, nothing checked' % app)
	expect_eq('URL hash for app=%s' % app, s['hash'],
		  '#since=7d&source=port-fallback&app=%s' % urllib.parse.quote(app, safe=''))
	# back to any source: the typed app stays
	r = s['renders']
	page.js('''(() => { const e = document.getElementById('filter-source');
		e.value = ''; e.dispatchEvent(new Event('change', {bubbles: true})); return true; })()''')
	s = page.wait('flows after choosing source any', lambda s: s['renders']['flows'] > r['flows'])
	only = api.get('traffic-flows', since=since, app=app, limit=page_size, offset=0)
	check_flows(s, only, 'app=%s' % app)
	if only['total'] <= both['total']:
		raise Fail('app=%s: %d flows with any source, %d with port-fallback only; the source '
			   'filter was not lifted' % (app, only['total'], both['total']))
	log('ok: app filter %s (typed + Enter): %d flows with source port-fallback, %d with any '
	    'source (= API)' % (app, both['total'], only['total']))

	r = s['renders']
	page.click('#filter-clear')
	s = page.wait('flows after #filter-clear', lambda s: s['renders']['flows'] > r['flows'])
	expect_eq('filters after clear', s['filters'], {'source': '', 'app': '', 'client': '', 'q': ''})
	check_flows(s, unfiltered, 'after clear')
	expect_eq('URL hash after clear', s['hash'], '#since=7d')
	log('ok: clear: filters empty, flows-total back to %s (= API)' % s['flowsTotal'])

	# ---- 4. clicking a client ----------------------------------------------------------------
	clients = s['clients']
	if len(clients) < 2:
		raise Fail('only %d clients in the table' % len(clients))
	ip = clients[1]  # not the first: its flows are not simply the newest rows
	sel = '#clients-table tbody tr[data-client="%s"] button[data-filter-client]' % ip
	r = s['renders']
	page.click(sel)
	s = page.wait('flows after clicking client %s' % ip, lambda s: s['renders']['flows'] > r['flows'])
	cf = api.get('traffic-flows', since=since, client=ip, limit=page_size, offset=0)
	expect_eq('#filter-client after the click', s['filters']['client'], ip)
	check_flows(s, cf, 'client=%s' % ip)
	if not cf['flows']:
		raise Fail('client %s: the API has no flows' % ip)
	bad = [x for x in s['flowClients'] if x != ip]
	if bad:
		raise Fail('client=%s: %d rows of other clients' % (ip, len(bad)))
	expect_eq('URL hash for client=%s' % ip, s['hash'], '#since=7d&client=%s' % ip)
	s = page.wait('the flows section scrolled into view after the client click',
		      lambda s: abs(s['flowsTop']) < 2)
	log('ok: clicking client %s: #filter-client set, %d flows (= API), all rows of that client, '
	    'flows section scrolled into view' % (ip, cf['total']))

	# ---- 5. hourly-chart tooltip -----------------------------------------------------------
	for attempt in (1, 2):
		cl = api.get('clients', window=since, limit=50)
		ok = hover_tooltip(page, cl, s, art)
		if ok:
			break
		# the hourly buckets moved to the next hour between the page's fetch and ours
		r = page.snapshot()['renders']
		page.click('#refresh')
		s = page.wait('reload after #refresh', lambda s: s['ready'] == '1' and
			      s['renders']['ready'] > r['ready'])
	else:
		raise Fail('the hourly chart data never matched the API (two hour rollovers?)')

	page.b.pump(0.1)
	if page.b.exceptions:
		raise Fail('uncaught exceptions in the page: %s' % page.b.exceptions)
	if page.b.console_errors:
		raise Fail('errors in the page console: %s' % page.b.console_errors)
	log('ok: no uncaught exception and no console error in the page')


def hover_tooltip(page, cl, s, art):
	"""Hover the tallest bar of the first client with traffic, then its newest hour (the right
	edge of the page), then leave the table. False when the page's chart data is from another
	hour than the API's (the caller reloads and retries)."""
	pick = None
	for c in cl.get('clients', []):
		hours = c.get('hourly') or []
		if hours and max(h.get('bytes', 0) for h in hours) > 0:
			i = max(range(len(hours)), key=lambda k: (hours[k].get('bytes', 0), -k))
			pick = (c['client'], i, hours)
			break
	if not pick:
		raise Fail('no client with hourly traffic in the API')
	ip, tallest, hours = pick
	svg = '#clients-table tbody tr[data-client="%s"] svg.hourly' % ip
	g = page.js('''(() => {
		const s = document.querySelector(%s);
		if (!s) return null;
		s.scrollIntoView({block: 'center', inline: 'center'});
		const r = s.getBoundingClientRect();
		const t = document.getElementById('clients-table').getBoundingClientRect();
		const d = document.documentElement;
		return {left: r.left, top: r.top, width: r.width, height: r.height,
			values: s.getAttribute('data-values'), table: {left: t.left, top: t.top,
			right: t.right, bottom: t.bottom}, vw: d.clientWidth, vh: d.clientHeight};
	})()''' % json.dumps(svg))
	if g is None:
		raise Fail('no hourly chart for client %s' % ip)
	want_values = ','.join(str(h.get('bytes', 0)) for h in hours)
	if g['values'] != want_values:
		log('note: chart of %s is from another hour than the API answer, reloading' % ip)
		return False

	def hover(i, what):
		sx, sy = g['width'] / CW, g['height'] / (CH + 1)
		x = g['left'] + (i * BW + BW / 2) * sx
		y = g['top'] + (CH - 0.5) * sy  # bar bottom: every non-empty hour has a bar there
		hit = page.js('''(() => { const h = document.elementFromPoint(%f, %f);
			return !!h && h.closest('svg.hourly') === document.querySelector(%s); })()'''
			      % (x, y, json.dumps(svg)))
		if not hit:
			raise Fail('the chart of %s is not under the pointer at (%.0f, %.0f)' % (ip, x, y))
		want = tip_text(hours[i])
		page.mouse('mouseMoved', x, y)
		s = page.wait('tooltip over hour %d of %s' % (i, ip),
			      lambda s: not s['tip']['hidden'] and s['tip']['text'] and
			      (s['tip']['text'] == want or s['tip']['text'].split('Z:')[0] ==
			       fmt_hour(hours[i].get('hour'))))
		t = s['tip']
		if t['display'] == 'none' or t['width'] <= 0 or t['height'] <= 0:
			raise Fail('#chart-tip is not hidden but not visible either: %s' % t)
		if t['text'] != want:
			raise Fail('tooltip of %s hour %d: page shows %r, API bucket gives %r' %
				   (ip, i, t['text'], want))
		# wholly in the viewport, beside the pointer (12 px off, on either side), not under it
		right, bottom = t['left'] + t['width'], t['top'] + t['height']
		if t['left'] < -0.5 or t['top'] < -0.5 or right > g['vw'] + 0.5 or bottom > g['vh'] + 0.5:
			raise Fail('tooltip over %s hour %d is cut off by the viewport (%dx%d): %s' %
				   (ip, i, g['vw'], g['vh'], t))
		if not (abs(t['left'] - (x + 12)) <= 1.5 or abs(right - (x - 12)) <= 1.5) or \
				not (abs(t['top'] - (y + 12)) <= 1.5 or abs(bottom - (y - 12)) <= 1.5):
			raise Fail('tooltip at (%.0f, %.0f)-(%.0f, %.0f), not beside the pointer (%.0f, %.0f)'
				   % (t['left'], t['top'], right, bottom, x, y))
		log('ok: tooltip over %s %s hour %sZ: %r (= API bucket, %s bytes), inside the viewport'
		    % (ip, what, fmt_hour(hours[i].get('hour')), t['text'], hours[i].get('bytes')))
		return x, y

	x, y = hover(tallest, 'busiest')
	if art:
		page.screenshot(os.path.join(art, 'console-clicks-tooltip.png'))
	x, y = hover(len(hours) - 1, 'newest (right edge)')

	# leave the table: above it when visible, else below, else left of it
	tb = g['table']
	for ox, oy in ((x, tb['top'] - 8), (x, tb['bottom'] + 8), (tb['left'] - 4, y)):
		if 0 <= ox < g['vw'] and 0 <= oy < g['vh']:
			outside = page.js('''(() => { const h = document.elementFromPoint(%f, %f);
				return !h || !h.closest('#clients-table'); })()''' % (ox, oy))
			if outside:
				break
	else:
		raise Fail('no point outside #clients-table in the viewport to move the mouse to')
	page.mouse('mouseMoved', ox, oy)
	page.wait('tooltip hidden after the mouse left the table', lambda s: s['tip']['hidden'])
	s = page.snapshot()
	if s['tip']['display'] != 'none':
		raise Fail('#chart-tip hidden but still displayed')
	log('ok: tooltip hidden after the mouse left the clients table')
	return True


def main():
	ap = argparse.ArgumentParser(description='Drive the console page in headless chromium '
				     'over CDP and check its interactions against the API.')
	ap.add_argument('--base', required=True, help='console URL, http://127.0.0.1:PORT')
	ap.add_argument('--chromium', default='/usr/bin/chromium')
	ap.add_argument('--tmp', help='scratch directory (profile, chromium log)')
	ap.add_argument('--artifacts', help='directory for screenshots')
	a = ap.parse_args()

	def on_signal(sig, frame):
		raise SystemExit(128 + sig)
	signal.signal(signal.SIGTERM, on_signal)
	signal.signal(signal.SIGINT, on_signal)

	own_tmp = not a.tmp
	tmp = a.tmp or tempfile.mkdtemp(prefix='rdpi-cdp.')
	if a.artifacts:
		os.makedirs(a.artifacts, exist_ok=True)
	chrome_log = os.path.join(tmp, 'chromium-cdp.log')
	browser = page = None
	rc = 1
	t0 = time.monotonic()
	try:
		browser = Browser(a.chromium, os.path.join(tmp, 'profile-cdp'), chrome_log, [
			'--window-size=1400,1000', '--hide-scrollbars', '--disable-extensions',
			'--disable-component-update', '--disable-sync', '--disable-default-apps',
			'--no-pings', '--disable-domain-reliability', '--mute-audio',
			'--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate',
			'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'])
		browser.send('Browser.getVersion', timeout=30)  # chromium is up
		page = Page(browser)
		run(page, Api(a.base), a.base, a.artifacts)
		log('ok: all interaction checks passed in %.1f s' % (time.monotonic() - t0))
		rc = 0
	except (Fail, Exception) as e:
		if not isinstance(e, Fail):
			traceback.print_exc()
		print('FAIL: %s' % e, file=sys.stderr, flush=True)
		if page and a.artifacts:
			try:
				p = os.path.join(a.artifacts, 'console-clicks-fail.png')
				page.screenshot(p)
				print('screenshot of the failed state: %s' % p, file=sys.stderr)
			except Exception:
				pass
		try:
			with open(chrome_log, 'rb') as f:
				tail = f.read()[-2000:].decode('utf-8', 'replace')
			print('chromium log (tail):\n' + tail, file=sys.stderr)
		except OSError:
			pass
	finally:
		if browser:
			browser.close()
		if own_tmp:
			shutil.rmtree(tmp, ignore_errors=True)
	return rc


if __name__ == '__main__':
	sys.exit(main())
