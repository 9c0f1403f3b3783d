/*
 * Calls to a registered contact over its REGISTER's flow (RFC 5626
 * section 5.3; registrar.flows): a UA behind a NAT registers an address
 * nobody else can reach, so the B leg's requests go where its REGISTER
 * came from (the UDP source address, or the TCP connection), with the
 * contact still the Request-URI. Which bindings take the flow
 * (cay_reg_flows_t), that the other shards' copies carry it, and what
 * the B leg's INVITE and ACK do with it.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "b2bua/route.h"
#include "registrar/registrar.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/register.h"
#include "support/run.h"

/* Where the scripted peer sends from (support/peer.h). */
static cay__addr_t ctx_peer_addr;

/* A TCP connection's id as the transport would name it. */
#define CONN 0x4000000000000123ull

/* The one binding of @p aor, looked up: whether it takes its flow. */
static int
by_flow(peer_t *p, const char *aor, cay__contact_t *c)
{
  ck_assert_uint_eq(cay__registrar_lookup(p->ss.reg, aor, c, 1), 1);
  return c->by_flow;
}

/* A UA at 10.0.0.7 behind a NAT, seen as the peer (127.0.0.1:5070):
 * the B leg's INVITE names the contact but goes to the peer, and so
 * does the ACK of its 2xx, whose Contact is private too. The other
 * shards are told of the flow. */
START_TEST(flow_5626_5_3_nat_binding_called_over_source)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__binding_change_t told;
  cay__peer_t flow;

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:phone@10.0.0.7:5060>\r\n"),
                   200);
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, "sip:phone@10.0.0.7:5060");
  ck_assert(cay__addr_eq(&p->sent[inv].dst, &p->addr));
  ck_assert_int_eq(p->sent[inv].proto, CAY__UDP);
  respond(p, (unsigned)inv, "200", "Contact: <sip:phone@10.0.0.7:5060>\r\n",
          peer_callee_sdp);
  int ack = b_msg(p, 0, "ACK");
  ck_assert_int_gt(ack, inv);
  ck_assert(strncmp(p->sent[ack].data, "ACK sip:phone@10.0.0.7:5060 ", 28)
            == 0);
  ck_assert(cay__addr_eq(&p->sent[ack].dst, &p->addr));
  a_final_is(p, "1 INVITE", 200);

  /* What a copy on another shard learns, and then looks up. */
  cay__contact_t c;
  memset(&told, 0, sizeof told);
  ck_assert(by_flow(p, SERVICE, &c));
  flow = c.flow;
  ck_assert(cay__addr_eq(&flow.addr, &p->addr));
  told.aor = "sip:copy@127.0.0.1";
  told.contact = "sip:phone@10.0.0.8";
  told.q = -1;
  told.expires_ms = 60000;
  told.flow = &flow;
  cay__registrar_learn(p->ss.reg, &told);
  ck_assert(by_flow(p, "sip:copy@127.0.0.1", &c));
  ck_assert(cay__addr_eq(&c.flow.addr, &p->addr));
  told.flow = NULL; /* a refresh from a UA that left its NAT */
  cay__registrar_learn(p->ss.reg, &told);
  ck_assert(!by_flow(p, "sip:copy@127.0.0.1", &c));
  peer_free(p);
}
END_TEST

/* registrar.flows: auto takes the flow for a private contact that is
 * not the source, a Contact with reg-id (RFC 5626 section 4.2), and a
 * TCP REGISTER from the contact's own IP address; not for a public
 * contact, a private one that is the source itself, or a host name.
 * always and never mean what they say. */
START_TEST(flow_auto_always_never)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__contact_t c;
  cay__addr_t addr;

  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:pub@127.0.0.1", "r1", 1,
                            "Contact: <sip:pub@192.0.2.1:5060>\r\n"),
                   200);
  ck_assert(!by_flow(p, "sip:pub@127.0.0.1", &c));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:name@127.0.0.1", "r2", 1,
                            "Contact: <sip:name@phone.example>\r\n"),
                   200);
  ck_assert(!by_flow(p, "sip:name@127.0.0.1", &c));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:ob@127.0.0.1", "r3", 1,
                            "Contact: <sip:ob@192.0.2.1:5060>;reg-id=1;"
                            "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
                            "000A95A0E128>\"\r\n"),
                   200);
  ck_assert(by_flow(p, "sip:ob@127.0.0.1", &c));
  ck_assert_int_eq(c.flow.flow, 1);

  /* The peer on a private address of its own: no NAT between. */
  ck_assert_int_eq(cay__addr_set(&p->src.addr, "10.0.0.9", 5070), 0);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:lan@127.0.0.1", "r4", 1,
                            "Contact: <sip:lan@10.0.0.9:5070>\r\n"),
                   200);
  ck_assert(!by_flow(p, "sip:lan@127.0.0.1", &c));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:lan2@127.0.0.1", "r5", 1,
                            "Contact: <sip:lan2@10.0.0.9:5080>\r\n"),
                   200);
  ck_assert(by_flow(p, "sip:lan2@127.0.0.1", &c)); /* another port: NAT */

  /* Over TCP: the UA's own connection, not another host's. */
  p->src.addr = p->addr;
  p->src.proto = CAY__TCP;
  p->src.conn = CONN;
  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", "sip:tcp@127.0.0.1", "r6", 1,
               "Contact: <sip:tcp@127.0.0.1:5090;transport=tcp>\r\n"),
      200);
  ck_assert(by_flow(p, "sip:tcp@127.0.0.1", &c));
  ck_assert_int_eq(c.flow.proto, CAY__TCP);
  ck_assert(c.flow.conn == CONN);
  /* Once the connection is gone, a new one goes to the contact, where
   * the UA listens: not a flow that nothing else replaces. */
  ck_assert_int_eq(cay__addr_set(&addr, "127.0.0.1", 5090), 0);
  ck_assert(cay__addr_eq(&c.flow.addr, &addr));
  ck_assert_int_eq(c.flow.flow, 0);
  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", "sip:tp@127.0.0.1", "r7", 1,
               "Contact: <sip:tp@192.0.2.1:5060;transport=tcp>\r\n"),
      200);
  ck_assert(!by_flow(p, "sip:tp@127.0.0.1", &c));
  peer_free(p);

  cfg.reg_flows = CAY_REG_FLOWS_ALWAYS;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:pub@127.0.0.1", "r1", 1,
                            "Contact: <sip:pub@192.0.2.1:5060>\r\n"),
                   200);
  ck_assert(by_flow(p, "sip:pub@127.0.0.1", &c));
  peer_free(p);

  cfg.reg_flows = CAY_REG_FLOWS_NEVER;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:phone@10.0.0.7:5060>\r\n"),
                   200);
  ck_assert(!by_flow(p, SERVICE, &c));
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  ck_assert_int_eq(cay__addr_set(&p->src.addr, "10.0.0.7", 5060), 0);
  ck_assert(cay__addr_eq(&p->sent[inv].dst, &p->src.addr));
  peer_free(p);
}
END_TEST

/* A UA registered over TCP is called on its own connection (the
 * REGISTER's), not on a new one to its contact's listening port. Once
 * that connection has closed (RFC 5626 section 7), a call goes to the
 * contact on a new connection. */
START_TEST(flow_tcp_call_on_register_connection)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__addr_t contact;

  p->src.proto = CAY__TCP;
  p->src.conn = CONN;
  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
               "Contact: <sip:phone@127.0.0.1:5090;transport=tcp>\r\n"),
      200);
  p->src.proto = CAY__UDP;
  p->src.conn = 0;
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, "sip:phone@127.0.0.1:5090;transport=tcp");
  ck_assert_int_eq(p->sent[inv].proto, CAY__TCP);
  ck_assert(p->sent[inv].conn == CONN);
  ck_assert(strstr(p->sent[inv].data, "Via: SIP/2.0/TCP ") != NULL);
  /* Should the connection be gone by the time it is written, the
   * transport opens one to the contact instead (RFC 3261 18.1.1). */
  ck_assert_int_eq(cay__addr_set(&contact, "127.0.0.1", 5090), 0);
  ck_assert(cay__addr_eq(&p->sent[inv].dst, &contact));
  ck_assert_int_eq(p->sent[inv].flow, 0);
  respond(p, (unsigned)inv, "486", "", NULL);
  a_final_is(p, "1 INVITE", 486);
  peer_advance(p, 64 * 500 + 1000); /* A's INVITE transaction is gone */

  ck_assert_uint_eq(cay__registrar_flow_failed(p->ss.reg, CONN + 1), 0);
  ck_assert_uint_eq(cay__registrar_flow_failed(p->ss.reg, CONN), 1);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 1);
  peer_clear(p);
  invite_a(p, "service", "");
  inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, "sip:phone@127.0.0.1:5090;transport=tcp");
  ck_assert_int_eq(p->sent[inv].proto, CAY__TCP);
  ck_assert(p->sent[inv].conn == 0);
  ck_assert(cay__addr_eq(&p->sent[inv].dst, &contact));
  peer_free(p);
}
END_TEST

/* REGISTER for @p aor from the TCP connection @p conn (peer's address)
 * with Contact @p contact (Call-ID @p cid, CSeq @p cseq): its status. */
static int
reg_tcp(peer_t *p, cay_id_t conn, const char *aor, const char *cid,
        unsigned cseq, const char *contact)
{
  char line[256];

  p->src.addr = p->addr;
  p->src.proto = CAY__TCP;
  p->src.conn = conn;
  snprintf(line, sizeof line, "Contact: %s\r\n", contact);
  return reg_send(p, "127.0.0.1", aor, cid, cseq, line);
}

/* RFC 5626 section 7: a proxy that learns that a flow failed (a TCP
 * connection closed) invalidates every binding that uses it, whatever
 * the AOR. A binding with reg-id and one at an address behind a NAT
 * go (nothing else reaches them); one from the contact's own host is
 * called at its contact from then on; one refreshed over another
 * connection since, and one of another connection, stay as they are.
 * The other shards' copies are told each change. */
START_TEST(flow_5626_7_closed_connection_invalidates_bindings)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__registrar_t *reg = p->ss.reg;
  cay__contact_t c;
  reg_told_t t = { 0 };

  ck_assert_int_eq(reg_tcp(p, CONN, "sip:ob@127.0.0.1", "r1", 1,
                           "<sip:ob@192.0.2.1:5060;transport=tcp>;reg-id=1;"
                           "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
                           "000A95A0E128>\""),
                   200);
  ck_assert_int_eq(reg_tcp(p, CONN, "sip:nat@127.0.0.1", "r2", 1,
                           "<sip:nat@10.0.0.7:5060;transport=tcp>"),
                   200);
  ck_assert_int_eq(reg_tcp(p, CONN, "sip:own@127.0.0.1", "r3", 1,
                           "<sip:own@127.0.0.1:5090;transport=tcp>"),
                   200);
  ck_assert_int_eq(reg_tcp(p, CONN, "sip:moved@127.0.0.1", "r4", 1,
                           "<sip:moved@10.0.0.8:5060;transport=tcp>"),
                   200);
  ck_assert_int_eq(reg_tcp(p, CONN + 1, "sip:moved@127.0.0.1", "r4", 2,
                           "<sip:moved@10.0.0.8:5060;transport=tcp>"),
                   200);
  ck_assert_int_eq(reg_tcp(p, CONN + 1, "sip:other@127.0.0.1", "r5", 1,
                           "<sip:other@10.0.0.9:5060;transport=tcp>"),
                   200);
  ck_assert_uint_eq(cay__registrar_bindings(reg), 5);
  ck_assert(by_flow(p, "sip:nat@127.0.0.1", &c));
  ck_assert_int_eq(c.flow.flow, 1);

  cay__registrar_set_share(reg, reg_told_record, &t);
  ck_assert_uint_eq(cay__registrar_flow_failed(reg, CONN), 3);
  ck_assert_uint_eq(t.n, 3);
  ck_assert_uint_eq(t.removed, 2);
  ck_assert_uint_eq(t.moved, 1);
  ck_assert_uint_eq(cay__registrar_bindings(reg), 3);
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:ob@127.0.0.1", &c, 1), 0);
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:nat@127.0.0.1", &c, 1), 0);
  ck_assert(!by_flow(p, "sip:own@127.0.0.1", &c));
  ck_assert_str_eq(c.uri, "sip:own@127.0.0.1:5090;transport=tcp");
  ck_assert(by_flow(p, "sip:moved@127.0.0.1", &c));
  ck_assert(c.flow.conn == CONN + 1);
  ck_assert(by_flow(p, "sip:other@127.0.0.1", &c));
  /* Told once: nothing uses that connection any more. */
  ck_assert_uint_eq(cay__registrar_flow_failed(reg, CONN), 0);
  ck_assert_uint_eq(t.n, 3);

  /* A copy of another shard's binding is its owner's business. */
  cay__binding_change_t copy = { .aor = "sip:far@b.example",
                                 .contact = "sip:far@10.0.0.5;transport=tcp",
                                 .q = -1,
                                 .expires_ms = 60000,
                                 .flow = &p->src,
                                 .flow_only = 1 };
  cay__registrar_learn(reg, &copy);
  ck_assert_uint_eq(cay__registrar_flow_failed(reg, CONN + 1), 2);
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:far@b.example", &c, 1), 1);
  ck_assert_uint_eq(cay__registrar_bindings(reg), 1);
  peer_free(p);
}
END_TEST

/* A callee registered over an outbound flow (reg-id) rings, and its
 * connection closes (a phone that died, RFC 5626 section 7): the B
 * leg's INVITE transaction ends at once instead of ringing for ever,
 * and A gets a final response; the binding goes. A transaction over
 * another connection is not ended. */
START_TEST(flow_5626_7_closed_flow_ends_ringing_call)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);

  ck_assert_int_eq(reg_tcp(p, CONN, SERVICE, "r1", 1,
                           "<sip:phone@10.0.0.7:5060;transport=tcp>;reg-id=1;"
                           "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
                           "000A95A0E128>\""),
                   200);
  p->src.proto = CAY__UDP;
  p->src.conn = 0;
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  ck_assert(p->sent[inv].conn == CONN);
  ck_assert_int_eq(p->sent[inv].flow, 1);
  respond(p, (unsigned)inv, "180", "", NULL);
  ck_assert_int_ge(peer_find_last(p, 180, "INVITE"), 0);

  cay__txn_flow_failed(&p->ep, CONN + 1); /* not its connection */
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0);
  ck_assert_uint_eq(cay__registrar_flow_failed(p->ss.reg, CONN), 1);
  cay__txn_flow_failed(&p->ep, CONN);
  /* A transport error, as a refused connection's (RFC 3261 16.7 item 6). */
  a_final_is(p, "1 INVITE", 500);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 0);
  peer_free(p);
}
END_TEST

#define OB_CONTACT                                                             \
  "Contact: <sip:ob@192.0.2.1:5060>;reg-id=1;"                                 \
  "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n"

/* RFC 5626 section 6: an outbound REGISTER (Supported: outbound, reg-id
 * and +sip.instance) gets Require: outbound and the Flow-Timer of the
 * config in its 200 when Cay is its first hop; one through a proxy that
 * keeps no flow for it (no Path with ;ob) gets 439 and binds nothing;
 * the 200's Contact carries the binding's +sip.instance and reg-id;
 * one without Supported: outbound, or through a proxy with Path ;ob
 * (Cay does not route by Path), is a plain registration. */
START_TEST(flow_5626_6_require_outbound_or_439)
{
  cay_config_t cfg = location_config(0);
  cay__routes_t *table;
  char err[256];
  peer_t *p;
  char *v;

  cfg.reg_flow_timer_s = 25;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Supported: path, outbound\r\n" OB_CONTACT),
                   200);
  v = peer_header(p, p->nsent - 1, "Require");
  ck_assert_str_eq(v, "outbound");
  free(v);
  v = peer_header(p, p->nsent - 1, "Flow-Timer");
  ck_assert_str_eq(v, "25");
  free(v);
  /* The binding as its UA names it: instance and reg-id. */
  v = peer_header(p, p->nsent - 1, "Contact");
  ck_assert_ptr_nonnull(strstr(
      v, ";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""));
  ck_assert_ptr_nonnull(strstr(v, ";reg-id=1"));
  free(v);

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r2", 1, OB_CONTACT), 200);
  ck_assert_ptr_null(peer_header(p, p->nsent - 1, "Require"));
  ck_assert_ptr_null(peer_header(p, p->nsent - 1, "Flow-Timer"));

  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", "sip:far@127.0.0.1", "r3", 1,
               "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-edge1\r\n"
               "Supported: outbound\r\n" OB_CONTACT),
      439);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 1); /* SERVICE's */
  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", "sip:far@127.0.0.1", "r4", 1,
               "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-edge2\r\n"
               "Path: <sip:edge@192.0.2.9;lr;ob>\r\n"
               "Supported: outbound\r\n" OB_CONTACT),
      200);
  ck_assert_ptr_null(peer_header(p, p->nsent - 1, "Require"));
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 2);
  /* A reload takes registrar.flow_timer_s for the next REGISTER. */
  cfg.reg_flow_timer_s = 40;
  ck_assert_int_eq(cay__routes_new(&cfg, &table, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, table, &cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 2,
                            "Supported: outbound\r\n" OB_CONTACT),
                   200);
  v = peer_header(p, p->nsent - 1, "Flow-Timer");
  ck_assert_str_eq(v, "40");
  free(v);
  peer_free(p);

  /* Without a Flow-Timer configured, the UA keeps its own interval. */
  cfg.reg_flow_timer_s = 0;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Supported: outbound\r\n" OB_CONTACT),
                   200);
  v = peer_header(p, p->nsent - 1, "Require");
  ck_assert_str_eq(v, "outbound");
  free(v);
  ck_assert_ptr_null(peer_header(p, p->nsent - 1, "Flow-Timer"));
  peer_free(p);
}
END_TEST

#define INSTANCE                                                               \
  "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-00000000ABCD>\""

/* One outbound Contact line at @p host with @p reg_id and @p extra
 * parameters ("" or ";expires=0"). */
static const char *
ob_contact(char *buf, size_t n, const char *host, int reg_id, const char *extra)
{
  snprintf(buf, n, "Contact: <sip:ob@%s>;reg-id=%d;%s%s\r\n", host, reg_id,
           INSTANCE, extra);
  return buf;
}

/* The contacts of SERVICE, newest first, as "uri uri ...". */
static const char *
contacts(peer_t *p, char *buf, size_t n)
{
  cay__contact_t c[8];
  unsigned k = cay__registrar_lookup(p->ss.reg, SERVICE, c, 8);
  size_t at = 0;

  buf[0] = '\0';
  for (unsigned i = 0; i < k; i++)
    at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " " : "", c[i].uri);
  return buf;
}

/* RFC 5626 section 6: an outbound binding is named by AOR, instance and
 * reg-id, not by its URI: a UA that comes back at another address (a
 * new NAT mapping, a new local IP) replaces its binding instead of adding
 * one; another reg-id of the same instance is a second flow; expires=0
 * at any URI removes it. Two Contacts of one request for one binding:
 * the last counts. A reg-id out of range gets 400. Without Supported:
 * outbound, URIs name bindings as in RFC 3261. */
START_TEST(flow_5626_6_instance_and_reg_id_name_the_binding)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  char c1[192], c2[192], got[512];
  const char *sup = "Supported: outbound\r\n";
  char lines[512];

  snprintf(lines, sizeof lines, "%s%s", sup,
           ob_contact(c1, sizeof c1, "10.0.0.7:5060", 1, ""));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, lines), 200);
  snprintf(lines, sizeof lines, "%s%s", sup,
           ob_contact(c1, sizeof c1, "10.0.0.8:5062", 1, ""));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 2, lines), 200);
  ck_assert_str_eq(contacts(p, got, sizeof got), "sip:ob@10.0.0.8:5062");
  /* The 200 lists the binding once, at its new URI. */
  ck_assert_int_eq(peer_count(p, 200, "REGISTER"), 2);
  ck_assert_ptr_null(strstr(p->sent[p->nsent - 1].data, "10.0.0.7"));

  snprintf(lines, sizeof lines, "%s%s", sup,
           ob_contact(c1, sizeof c1, "10.0.0.8:5064", 2, ""));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r2", 1, lines), 200);
  ck_assert_str_eq(contacts(p, got, sizeof got),
                   "sip:ob@10.0.0.8:5064 sip:ob@10.0.0.8:5062");

  snprintf(lines, sizeof lines, "%s%s", sup,
           ob_contact(c1, sizeof c1, "10.0.0.9:5066", 1, ";expires=0"));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 3, lines), 200);
  ck_assert_str_eq(contacts(p, got, sizeof got), "sip:ob@10.0.0.8:5064");

  /* reg-id 2 twice in one request, and a URI Contact naming the binding
   * the first of them would replace: one binding, the last Contact's. */
  snprintf(lines, sizeof lines, "%s%s%s%s", sup,
           ob_contact(c1, sizeof c1, "10.0.0.10:5060", 2, ""),
           ob_contact(c2, sizeof c2, "10.0.0.11:5060", 2, ""),
           "Contact: <sip:ob@10.0.0.8:5064>\r\n");
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r2", 2, lines), 200);
  ck_assert_str_eq(contacts(p, got, sizeof got), "sip:ob@10.0.0.8:5064");
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 1);

  snprintf(lines, sizeof lines, "%s%s", sup,
           ob_contact(c1, sizeof c1, "10.0.0.8:5064", 0, ""));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r3", 1, lines), 400);

  /* Not outbound: the URI names the binding, a new URI is a new one. */
  snprintf(lines, sizeof lines, "%s",
           ob_contact(c1, sizeof c1, "10.0.0.12:5060", 2, ""));
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r2", 3, lines), 200);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 2);
  peer_free(p);
}
END_TEST

/* A caller whose INVITE names @p contact (and @p extra header lines),
 * answered by Cay's UAS and never ACKed: after 64*T1 Cay's BYE (RFC
 * 3261 section 13.3.1.4), whose destination goes to @p dst. */
static void
bye_of_unacked_call(const cay_config_t *cfg, const char *contact,
                    const char *extra, cay__addr_t *dst)
{
  peer_t *p = peer_new(cfg);
  int bye;

  peer_send(p, "invite_contact.sip", "user", "service", "host",
            "127.0.0.1:5060", "branch", "z9hG4bK-nat", "fromtag", "ft1",
            "callid", "nat-call", "codecs", "0", "contact", contact, "extra",
            extra, NULL);
  ck_assert_int_eq(peer_last_status(p), 200);
  peer_advance(p, 64 * 500);
  bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  *dst = p->sent[bye].dst;
  peer_free(p);
}

/* dialog.flows: Cay's BYE to a caller behind a NAT (private Contact,
 * other than where it sends from) goes to its address (auto, always);
 * to the Contact with never and for a public address (auto), and to
 * the first route when a route set decides (RFC 3261 section
 * 12.2.1.1). */
START_TEST(flow_dialog_caller_behind_nat)
{
  cay_config_t cfg;
  cay__addr_t dst, contact, proxy;

  cay_config_init(&cfg);
  ck_assert_int_eq(cay__addr_set(&contact, "10.0.0.7", 5060), 0);
  ck_assert_int_eq(cay__addr_set(&proxy, "127.0.0.1", 5090), 0);
  bye_of_unacked_call(&cfg, "sip:nat@10.0.0.7:5060", "", &dst);
  ck_assert(cay__addr_eq(&dst, &ctx_peer_addr));
  bye_of_unacked_call(&cfg, "sip:nat@10.0.0.7:5060",
                      "Record-Route: <sip:proxy@127.0.0.1:5090;lr>\r\n", &dst);
  ck_assert(cay__addr_eq(&dst, &proxy));
  bye_of_unacked_call(&cfg, "sip:pub@192.0.2.1:5060", "", &dst);
  ck_assert_int_eq(cay__addr_set(&contact, "192.0.2.1", 5060), 0);
  ck_assert(cay__addr_eq(&dst, &contact));
  cfg.dialog_flows = CAY_REG_FLOWS_ALWAYS;
  bye_of_unacked_call(&cfg, "sip:pub@192.0.2.1:5060", "", &dst);
  ck_assert(cay__addr_eq(&dst, &ctx_peer_addr));
  cfg.dialog_flows = CAY_REG_FLOWS_NEVER;
  bye_of_unacked_call(&cfg, "sip:nat@10.0.0.7:5060", "", &dst);
  ck_assert_int_eq(cay__addr_set(&contact, "10.0.0.7", 5060), 0);
  ck_assert(cay__addr_eq(&dst, &contact));
}
END_TEST

/* The same for the callee of a B leg: its 2xx names a private Contact,
 * and the ACK goes where the INVITE went (dialog.flows auto); a reload
 * to never sends the next call's ACK to the Contact. */
START_TEST(flow_dialog_callee_behind_nat)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL), never = cfg;
  peer_t *p = peer_new(&cfg);
  cay__routes_t *table;
  cay__addr_t contact;
  char err[256];
  int inv, ack;

  invite_a(p, "service", "");
  inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  respond(p, (unsigned)inv, "200", "Contact: <sip:b@10.0.0.7:5060>\r\n",
          peer_callee_sdp);
  ack = b_msg(p, 0, "ACK");
  ck_assert_int_gt(ack, inv);
  ck_assert(cay__addr_eq(&p->sent[ack].dst, &p->addr));
  peer_free(p);

  never.dialog_flows = CAY_REG_FLOWS_NEVER;
  p = peer_new(&cfg);
  ck_assert_int_eq(cay__routes_new(&never, &table, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, table, &never);
  invite_a(p, "service", "");
  inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "200", "Contact: <sip:b@10.0.0.7:5060>\r\n",
          peer_callee_sdp);
  ack = b_msg(p, 0, "ACK");
  ck_assert_int_gt(ack, inv);
  ck_assert_int_eq(cay__addr_set(&contact, "10.0.0.7", 5060), 0);
  ck_assert(cay__addr_eq(&p->sent[ack].dst, &contact));
  peer_free(p);
}
END_TEST

/* A's call reaches B (peer_new() with @p cfg), whose 2xx names
 * @p contact; A ACKs, then re-offers an SDP of about 1,400 bytes. With
 * udp_max_request 1300, the index of the re-INVITE Cay relays to B
 * (about 1,700 bytes). */
static int
large_reinvite_to_b(peer_t *p, const char *contact)
{
  char sdp[1400], a_tag[64], hdr[128];

  p->ep.udp_max_request = 1300;
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  snprintf(hdr, sizeof hdr, "Contact: <%s>\r\n", contact);
  respond(p, (unsigned)inv, "200", hdr, peer_callee_sdp);
  peer_to_tag(p, a_final_is(p, "1 INVITE", 200), a_tag, sizeof a_tag);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", a_tag);
  peer_padded_sdp(sdp, sizeof sdp,
                  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
                  "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
  reinvite_a(p, "z9hG4bK-a-re", "2", a_tag, sdp);
  int re = b_msg(p, 0, "INVITE");
  ck_assert_int_gt(re, inv);
  ck_assert_uint_gt(p->sent[re].len, 1300);
  return re;
}

/* A request over 1,300 bytes to a UA behind a NAT, on a registered UDP
 * flow or at the address a dialog's peer sends from (dialog.flows):
 * RFC 3261 18.1.1 would send it over TCP, but the NAT takes no
 * connection, so it stays on the flow (RFC 5626 section 5.3), UDP Via
 * and all, and is retransmitted there at T1. A callee that is not
 * behind a NAT (dialog.flows never) gets it over TCP. */
START_TEST(flow_large_request_stays_on_udp_flow)
{
  cay_config_t cfg = location_config(0), plain = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  cay__addr_t contact;
  int re;

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:phone@10.0.0.7:5060>\r\n"),
                   200);
  re = large_reinvite_to_b(p, "sip:phone@10.0.0.7:5060");
  ck_assert_int_eq(p->sent[re].proto, CAY__UDP);
  ck_assert(cay__addr_eq(&p->sent[re].dst, &p->addr));
  ck_assert(strstr(p->sent[re].data, "Via: SIP/2.0/UDP ") != NULL);
  peer_advance(p, 500);
  ck_assert_int_gt(b_msg(p, 0, "INVITE"), re);
  ck_assert_int_eq(p->sent[b_msg(p, 0, "INVITE")].proto, CAY__UDP);
  peer_free(p);

  p = peer_new(&plain); /* dialog.flows auto */
  re = large_reinvite_to_b(p, "sip:b@10.0.0.7:5060");
  ck_assert_int_eq(p->sent[re].proto, CAY__UDP);
  ck_assert(cay__addr_eq(&p->sent[re].dst, &p->addr));
  peer_free(p);

  plain.dialog_flows = CAY_REG_FLOWS_NEVER;
  p = peer_new(&plain);
  re = large_reinvite_to_b(p, "sip:b@10.0.0.7:5060");
  ck_assert_int_eq(p->sent[re].proto, CAY__TCP);
  ck_assert_int_eq(cay__addr_set(&contact, "10.0.0.7", 5060), 0);
  ck_assert(cay__addr_eq(&p->sent[re].dst, &contact));
  peer_free(p);
}
END_TEST

/* The private ranges a NAT hides (cay__addr_private()), and not their
 * neighbours or loopback. */
START_TEST(flow_private_addresses)
{
  static const char *const hidden[]
      = { "10.0.0.1",    "10.255.255.255", "172.16.0.1",      "172.31.255.255",
          "192.168.1.1", "100.64.0.1",     "100.127.255.255", "169.254.1.1",
          "fc00::1",     "fdff::1",        "fe80::1",         "febf::1" };
  static const char *const open[]
      = { "127.0.0.1",      "9.255.255.255", "11.0.0.1",
          "172.15.255.255", "172.32.0.1",    "192.167.1.1",
          "100.63.255.255", "100.128.0.1",   "169.253.1.1",
          "192.0.2.1",      "::1",           "fec0::1",
          "2001:db8::1" };
  cay__addr_t a;

  for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
    ck_assert_int_eq(cay__addr_set(&a, hidden[i], 5060), 0);
    ck_assert_msg(cay__addr_private(&a), "%s is private", hidden[i]);
  }
  for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
    ck_assert_int_eq(cay__addr_set(&a, open[i], 5060), 0);
    ck_assert_msg(!cay__addr_private(&a), "%s is not private", open[i]);
  }
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("flows");

  (void)cay__addr_set(&ctx_peer_addr, "127.0.0.1", 5070);
  TCase *tc = tcase_create("rfc5626_5_3");

  tcase_add_test(tc, flow_5626_5_3_nat_binding_called_over_source);
  tcase_add_test(tc, flow_auto_always_never);
  tcase_add_test(tc, flow_tcp_call_on_register_connection);
  tcase_add_test(tc, flow_5626_7_closed_connection_invalidates_bindings);
  tcase_add_test(tc, flow_5626_7_closed_flow_ends_ringing_call);
  tcase_add_test(tc, flow_5626_6_require_outbound_or_439);
  tcase_add_test(tc, flow_5626_6_instance_and_reg_id_name_the_binding);
  tcase_add_test(tc, flow_dialog_caller_behind_nat);
  tcase_add_test(tc, flow_dialog_callee_behind_nat);
  tcase_add_test(tc, flow_large_request_stays_on_udp_flow);
  tcase_add_test(tc, flow_private_addresses);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
