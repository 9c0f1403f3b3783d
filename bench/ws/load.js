// SIP over WebSocket load (RFC 7118) for bench/run's scenario ws: callee
// phones register over their own WebSocket, caller phones place calls to
// them through the system under test (Cay's B2BUA with a location route,
// or Kamailio's registrar and proxy), each call INVITE, 180, 200, ACK, a
// hold, BYE, 200. SIPp speaks no WebSocket, hence this client.
//
//   node load.js URL DOMAIN RATE CALLS [HOLD_MS] [CALLEES] [CALLERS]
//
// URL ws://HOST:PORT of the system (wss:// with the CA its certificate
// must verify against in $LOAD_CA_FILE); DOMAIN the host of the AORs
// (sip:calleeN@DOMAIN). RATE calls/s, CALLS calls in all, HOLD_MS from
// the ACK to the BYE (default 0), CALLEES callee phones (default 50),
// CALLERS caller phones (default 50). Each phone is one WebSocket sending
// the Origin of a page, as a browser does.
//
// Prints one line of JSON when the calls are done (or 20 s after the last
// was placed): {"placed", "answered", "completed", "failed", "timed_out",
// "offered_rate", "setup_ms_p50", "setup_ms_p99", "why"} where a completed
// call got 200 to its INVITE and to its BYE, and failed counts every
// final response >= 300 (why: the first few reasons). Exit 0 when every
// call completed, 1 otherwise, 2 on a setup error.
//
// The SIP here is the least a phone needs: a Via with rport over WS, a
// route set from the 200's Record-Route (a proxy's), the remote target
// from its Contact, a response copying Via, Record-Route, From, To
// (tagged), Call-ID and CSeq. No retransmissions: WebSocket is reliable.
'use strict';

const WebSocket = require('ws');

const [url, domain, rateArg, callsArg, holdArg, calleesArg, callersArg] =
  process.argv.slice(2);
if (!url || !domain || !rateArg || !callsArg) {
  console.error('usage: node load.js URL DOMAIN RATE CALLS [HOLD_MS] ' +
                '[CALLEES] [CALLERS]');
  process.exit(2);
}
const RATE = Number(rateArg);
const CALLS = Number(callsArg);
const HOLD_MS = Number(holdArg || 0);
const CALLEES = Number(calleesArg || 50);
const CALLERS = Number(callersArg || 50);
const ORIGIN = 'https://phone.test';
// wss:// URLs: the CA the system's certificate must verify against.
const CA = process.env.LOAD_CA_FILE
  ? require('fs').readFileSync(process.env.LOAD_CA_FILE) : undefined;
const SDP =
  'v=0\r\no=load 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n' +
  't=0 0\r\nm=audio 7078 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

let seq = 0;
const token = () => (++seq).toString(36) + Math.random().toString(36).slice(2, 8);

// ---- a message: start line, headers (name lowercased -> [values]) ----

function parse(text) {
  const end = text.indexOf('\r\n\r\n');
  const head = (end < 0 ? text : text.slice(0, end)).split('\r\n');
  const m = { first: head[0], h: new Map(), body: end < 0 ? '' : text.slice(end + 4) };
  for (let i = 1; i < head.length; i++) {
    const c = head[i].indexOf(':');
    if (c < 0) continue;
    const name = head[i].slice(0, c).trim().toLowerCase();
    const value = head[i].slice(c + 1).trim();
    if (!m.h.has(name)) m.h.set(name, []);
    m.h.get(name).push(value);
  }
  const st = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(m.first);
  if (st) { m.status = Number(st[1]); m.reason = st[2]; }
  else m.method = m.first.split(' ')[0];
  m.one = (n) => (m.h.get(n) || [])[0];
  m.all = (n) => (m.h.get(n) || []).flatMap((v) => v.split(/,(?=\s*<)/).map((s) => s.trim()));
  m.callId = m.one('call-id');
  const cseq = (m.one('cseq') || '').split(/\s+/);
  m.cseqNum = Number(cseq[0]); m.cseqMethod = cseq[1];
  return m;
}

function build(first, headers, body) {
  const lines = [first];
  for (const [n, v] of headers) lines.push(n + ': ' + v);
  lines.push('Content-Length: ' + Buffer.byteLength(body || ''));
  return lines.join('\r\n') + '\r\n\r\n' + (body || '');
}

const uriOf = (nameAddr) => { const m = /<([^>]+)>/.exec(nameAddr); return m ? m[1] : nameAddr.split(';')[0]; };
const tagOf = (nameAddr) => { const m = /;tag=([^;>\s]+)/.exec(nameAddr || ''); return m ? m[1] : null; };

// ---- a phone: one WebSocket ----

class Phone {
  constructor(name) {
    this.name = name;
    this.host = token() + '.invalid';
    this.contact = `<sip:${name}@${this.host};transport=ws>`;
    this.pending = new Map(); // branch -> resolve(response) for finals
    this.onRequest = null;
  }

  open() {
    return new Promise((resolve, reject) => {
      this.ws = new WebSocket(url, 'sip', { origin: ORIGIN, perMessageDeflate: false, ca: CA });
      this.ws.on('open', resolve);
      this.ws.on('error', reject);
      this.ws.on('message', (data) => this.receive(parse(data.toString())));
    });
  }

  via(branch) { return `SIP/2.0/WS ${this.host};branch=${branch};rport`; }

  // A request whose final response resolves the promise (provisional ones go to onProvisional).
  request(method, ruri, hdrs, body, onProvisional) {
    const branch = 'z9hG4bK' + token();
    const headers = [['Via', this.via(branch)], ['Max-Forwards', '70'], ...hdrs];
    return new Promise((resolve) => {
      this.pending.set(branch, { resolve, onProvisional });
      this.ws.send(build(`${method} ${ruri} SIP/2.0`, headers, body));
    });
  }

  send(text) { this.ws.send(text); }

  receive(m) {
    if (m.status !== undefined) {
      const b = /branch=([^;,\s]+)/.exec(m.one('via') || '');
      const p = b && this.pending.get(b[1]);
      if (!p) return;
      if (m.status < 200) { if (p.onProvisional) p.onProvisional(m); return; }
      this.pending.delete(b[1]);
      p.resolve(m);
      return;
    }
    if (this.onRequest) this.onRequest(m);
  }

  // A response to request m, with @p extra headers and body.
  respond(m, status, reason, toTag, extra, body) {
    const headers = [];
    for (const v of m.h.get('via') || []) headers.push(['Via', v]);
    for (const v of m.h.get('record-route') || []) headers.push(['Record-Route', v]);
    let to = m.one('to');
    if (toTag && !tagOf(to)) to += ';tag=' + toTag;
    headers.push(['From', m.one('from')], ['To', to], ['Call-ID', m.callId],
                 ['CSeq', m.one('cseq')], ...(extra || []));
    this.send(build(`SIP/2.0 ${status} ${reason}`, headers, body));
  }
}

// ---- callee: registers, answers 180 + 200, answers BYE ----

async function register(p) {
  const r = await p.request('REGISTER', `sip:${domain}`, [
    ['From', `<sip:${p.name}@${domain}>;tag=${token()}`], ['To', `<sip:${p.name}@${domain}>`],
    ['Call-ID', token()], ['CSeq', '1 REGISTER'], ['Contact', p.contact], ['Expires', '600']], '');
  if (r.status !== 200) throw new Error(`${p.name}: REGISTER got ${r.status} ${r.reason}`);
}

function callee(p) {
  p.onRequest = (m) => {
    if (m.method === 'INVITE') {
      const tag = token();
      p.respond(m, 180, 'Ringing', tag, [['Contact', p.contact]]);
      p.respond(m, 200, 'OK', tag, [['Contact', p.contact], ['Content-Type', 'application/sdp']], SDP);
    } else if (m.method === 'BYE') {
      p.respond(m, 200, 'OK', null);
    } else if (m.method !== 'ACK') {
      p.respond(m, 200, 'OK', null);
    }
  };
}

// ---- caller: one call ----

const stats = { placed: 0, answered: 0, completed: 0, failed: 0, timed_out: 0, setup: [], why: [] };

function fail(why) {
  stats.failed++;
  if (stats.why.length < 5) stats.why.push(why);
}

async function call(p, to) {
  const callId = token(), ftag = token();
  const from = `<sip:${p.name}@${domain}>;tag=${ftag}`;
  const t0 = process.hrtime.bigint();
  stats.placed++;
  const ok = await p.request('INVITE', `sip:${to}@${domain}`, [
    ['From', from], ['To', `<sip:${to}@${domain}>`], ['Call-ID', callId],
    ['CSeq', '1 INVITE'], ['Contact', p.contact], ['Content-Type', 'application/sdp']], SDP);
  if (ok.status >= 300) {
    // The ACK of a non-2xx is hop by hop (RFC 3261 section 17.1.1.3): the
    // proxy or B2BUA absorbs it; WebSocket needs no retransmission, and
    // the server transaction ends on timer H. A benchmark counts it only.
    fail(`INVITE ${ok.status} ${ok.reason}`);
    return;
  }
  stats.answered++;
  stats.setup.push(Number(process.hrtime.bigint() - t0) / 1e6);
  const to_ = ok.one('to');
  const target = uriOf(ok.one('contact') || `<sip:${to}@${domain}>`);
  const routes = ok.all('record-route').reverse().map((r) => ['Route', r]);
  const dlg = [['From', from], ['To', to_], ['Call-ID', callId]];
  const ackBranch = 'z9hG4bK' + token();
  p.send(build(`ACK ${target} SIP/2.0`, [['Via', p.via(ackBranch)], ['Max-Forwards', '70'],
    ...routes, ...dlg, ['CSeq', '1 ACK']], ''));
  if (HOLD_MS > 0) await new Promise((r) => setTimeout(r, HOLD_MS));
  const bye = await p.request('BYE', target, [...routes, ...dlg, ['CSeq', '2 BYE']], '');
  if (bye.status !== 200) { fail(`BYE ${bye.status} ${bye.reason}`); return; }
  stats.completed++;
}

// ---- the run ----

function pct(xs, q) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 100) / 100;
}

async function main() {
  const callees = [], callers = [];
  for (let i = 0; i < CALLEES; i++) callees.push(new Phone('callee' + i));
  for (let i = 0; i < CALLERS; i++) callers.push(new Phone('caller' + i));
  await Promise.all([...callees, ...callers].map((p) => p.open()));
  await Promise.all(callees.map((p) => register(p)));
  callees.forEach(callee);

  const calls = [];
  const start = process.hrtime.bigint();
  let i = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(CALLS, Math.floor(Number(process.hrtime.bigint() - start) / 1e9 * RATE) + 1);
      for (; i < due; i++)
        calls.push(call(callers[i % CALLERS], 'callee' + (i % CALLEES)));
      if (i >= CALLS) { clearInterval(tick); resolve(); }
    }, 2);
  });
  const placedIn = Number(process.hrtime.bigint() - start) / 1e9;
  let timer;
  const timedOut = new Promise((r) => { timer = setTimeout(r, 20000, 'timeout'); });
  if (await Promise.race([Promise.all(calls), timedOut]) === 'timeout')
    stats.timed_out = stats.placed - stats.completed - stats.failed;
  clearTimeout(timer);
  const out = {
    placed: stats.placed, answered: stats.answered, completed: stats.completed,
    failed: stats.failed, timed_out: stats.timed_out,
    offered_rate: Math.round(CALLS / Math.max(placedIn, 1e-3)),
    setup_ms_p50: pct(stats.setup, 0.5), setup_ms_p99: pct(stats.setup, 0.99),
    why: stats.why,
  };
  console.log(JSON.stringify(out));
  for (const p of [...callees, ...callers]) p.ws.terminate();
  process.exit(stats.completed === CALLS ? 0 : 1);
}

main().catch((e) => { console.error('load.js: ' + e.message); process.exit(2); });
