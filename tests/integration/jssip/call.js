// JsSIP (a real SIP over WebSocket client, RFC 7118) against cay, for
// run_ws_test.py's case ws_jssip_call.
//
//   node call.js WS_URL DOMAIN [CA_FILE SERVER_NAME]
//
// With a wss:// URL, CA_FILE is the PEM CA cay's certificate must verify
// against, and SERVER_NAME the name it must carry (sent as SNI).
//
// alice and bob register over WS_URL as sip:NAME@DOMAIN; alice calls bob
// through cay; bob answers; alice hangs up (BYE through cay); alice calls
// sip:nobody@DOMAIN, which has no binding: the call must fail. Both
// unregister. Each step prints one line "STEP name detail"; the last
// line is "RESULT ok" (exit 0) or "RESULT failed: why" (exit 1). Every
// step is bounded by a timer.
//
// Node.js has no WebRTC: RTCPeerConnection is a stand-in that offers and
// answers a fixed SDP (audio, PCMU) with its candidates gathered at once.
// JsSIP's SIP (the upgrade, REGISTER, INVITE, ACK, BYE, its dialogs and
// transactions) is its own; the stand-in only feeds it SDP. Its
// WebSocket is the ws package's (the browser API), sending the Origin a
// browser would send for the page that runs JsSIP: https://phone.test
// (run_ws_test.py lists it in cay's websocket.origins).
'use strict';

const JsSIP = require('jssip');
const WebSocket = require('ws');

const [wsUrl, domain, caFile, serverName] = process.argv.slice(2);
const STEP_MS = 10000;

const SDP =
  'v=0\r\no=jssip 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n' +
  't=0 0\r\nm=audio 7078 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n';

class StandInPeerConnection {
  constructor() {
    this.iceGatheringState = 'complete';
    this.iceConnectionState = 'new';
    this.signalingState = 'stable';
    this.localDescription = null;
    this.remoteDescription = null;
  }
  addEventListener() {}
  removeEventListener() {}
  async createOffer() { return { type: 'offer', sdp: SDP }; }
  async createAnswer() { return { type: 'answer', sdp: SDP }; }
  async setLocalDescription(d) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d) {
    if (!/^v=0/.test(d.sdp)) throw new Error('not SDP: ' + d.sdp);
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  getSenders() { return []; }
  getReceivers() { return []; }
  addTrack() {}
  close() { this.signalingState = 'closed'; }
}

// The browser API has no TLS options nor an Origin to set: for wss the
// test CA and the name are set here, as a browser's trust store would,
// and the Origin is the page's, as a browser sends it.
const PAGE_ORIGIN = 'https://phone.test';
class VerifyingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, caFile ? {
      ca: require('fs').readFileSync(caFile),
      servername: serverName,
      rejectUnauthorized: true,
      origin: PAGE_ORIGIN,
    } : { origin: PAGE_ORIGIN });
  }
}

globalThis.window = globalThis;
globalThis.WebSocket = VerifyingWebSocket;
globalThis.RTCPeerConnection = StandInPeerConnection;
globalThis.RTCSessionDescription = class { constructor(d) { Object.assign(this, d); } };

const NO_MEDIA = { mediaConstraints: { audio: false, video: false } };

function step(name, detail) {
  console.log('STEP ' + name + (detail ? ' ' + detail : ''));
}

// A promise for the first of @p ok / @p bad events of @p emitter, failing
// after STEP_MS.
function event(emitter, ok, bad, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(what + ': no ' + ok +
      ' within ' + STEP_MS + ' ms')), STEP_MS);
    emitter.once(ok, (e) => { clearTimeout(t); resolve(e); });
    if (bad) {
      emitter.once(bad, (e) => {
        clearTimeout(t);
        reject(new Error(what + ': ' + bad + ' (' + (e && e.cause) + ')'));
      });
    }
  });
}

function makeUa(name) {
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(wsUrl)],
    uri: 'sip:' + name + '@' + domain,
    register: false,
    session_timers: false,
  });
  ua.name = name;
  return ua;
}

async function main() {
  const alice = makeUa('alice');
  const bob = makeUa('bob');
  const uas = [alice, bob];

  for (const ua of uas) {
    ua.start();
    await event(ua, 'connected', null, ua.name + ' WebSocket');
    const registered = event(ua, 'registered', 'registrationFailed',
      ua.name + ' REGISTER');
    ua.register();
    const e = await registered;
    step('registered', ua.name + ' ' + e.response.status_code);
  }

  // bob answers what comes; his session's end is awaited below.
  const bobEnded = new Promise((resolve, reject) => {
    bob.once('newRTCSession', ({ session, originator }) => {
      if (originator !== 'remote') return reject(new Error('bob: ' + originator));
      step('incoming', 'bob from ' + session.remote_identity.uri.toString());
      session.once('ended', (e) => resolve(e));
      session.once('failed', (e) => reject(new Error('bob: failed (' + e.cause + ')')));
      session.answer(NO_MEDIA);
    });
  });

  const call = alice.call('sip:bob@' + domain, NO_MEDIA);
  const confirmed = await event(call, 'confirmed', 'failed', 'alice -> bob');
  step('confirmed', 'alice -> bob ' + (confirmed.originator || ''));
  await new Promise((r) => setTimeout(r, 300));
  const aliceEnded = event(call, 'ended', 'failed', 'alice hangs up');
  call.terminate();
  await aliceEnded;
  const bye = await Promise.race([bobEnded, new Promise((_, rej) =>
    setTimeout(() => rej(new Error('bob: no BYE')), STEP_MS))]);
  step('ended', 'bob ' + bye.originator + ' ' + bye.cause);
  if (bye.originator !== 'remote') throw new Error('bob ended it himself');

  const nobody = alice.call('sip:nobody@' + domain, NO_MEDIA);
  const failed = await event(nobody, 'failed', 'confirmed', 'alice -> nobody');
  const status = failed.message ? failed.message.status_code : 'none';
  step('failed', 'alice -> nobody ' + status + ' ' + failed.cause);
  if (!(status >= 400)) throw new Error('alice -> nobody: no final error response');

  for (const ua of uas) {
    const gone = event(ua, 'unregistered', 'registrationFailed',
      ua.name + ' unREGISTER');
    ua.unregister();
    await gone;
    step('unregistered', ua.name);
    ua.stop();
  }
}

main().then(() => {
  console.log('RESULT ok');
  setTimeout(() => process.exit(0), 200);
}, (err) => {
  console.log('RESULT failed: ' + err.message);
  process.exit(1);
});
