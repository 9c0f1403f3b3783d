/*
 * Harness of Cay's microbenchmarks (one program per file in bench/micro/,
 * built and run by bench/run).
 *
 * Each program times one operation in a loop of `iters` iterations,
 * repeats that `reps` times after one untimed warm-up round, and prints
 * one line per figure:
 *
 *   micro=NAME ns_per_op=MEDIAN min_ns=.. max_ns=.. iters=N reps=R
 *
 * The median of the repeats is the figure: on a shared machine a repeat
 * that was preempted is an outlier the median ignores, where a mean would
 * not. Command line: [-q] (quick: a tenth of the iterations, 5 repeats).
 */
#ifndef CAY_BENCH_MICRO_H
#define CAY_BENCH_MICRO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MICRO_MAX_REPS 64

/* The INVITE SIPp's benchmark UAC sends (bench/scenarios/uac.xml), as Cay
 * receives it: 16 headers and an SDP offer, about 590 bytes. */
#define MICRO_INVITE                                                           \
  "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"                              \
  "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-24580-1-0\r\n"               \
  "From: sipp <sip:sipp@127.0.0.1:5061>;tag=24580SIPpTag001\r\n"               \
  "To: service <sip:service@127.0.0.1:5060>\r\n"                               \
  "Call-ID: 1-24580@127.0.0.1\r\n"                                             \
  "CSeq: 1 INVITE\r\n"                                                         \
  "Contact: sip:sipp@127.0.0.1:5061\r\n"                                       \
  "Max-Forwards: 70\r\n"                                                       \
  "Content-Type: application/sdp\r\n"                                          \
  "Content-Length: 209\r\n"                                                    \
  "\r\n"                                                                       \
  "v=0\r\n"                                                                    \
  "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"                           \
  "s=-\r\n"                                                                    \
  "c=IN IP4 127.0.0.1\r\n"                                                     \
  "t=0 0\r\n"                                                                  \
  "m=audio 6000 RTP/AVP 0 8 101\r\n"                                           \
  "a=rtpmap:0 PCMU/8000\r\n"                                                   \
  "a=rtpmap:8 PCMA/8000\r\n"                                                   \
  "a=rtpmap:101 telephone-event/8000\r\n"                                      \
  "a=fmtp:101 0-15\r\n"

typedef struct micro_opts {
  long iters;
  int reps;
} micro_opts_t;

/* Keeps results alive so that the compiler cannot drop the timed work. */
static volatile uintptr_t micro_sink;

static inline uint64_t
micro_now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
micro_opts_parse(int argc, char **argv, micro_opts_t *o, long iters)
{
  o->iters = iters;
  o->reps = 11;
  if (argc > 1 && strcmp(argv[1], "-q") == 0) {
    o->iters = iters / 10 > 0 ? iters / 10 : 1;
    o->reps = 5;
  }
}

static int
micro_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* Sort @p ns (one ns/op figure per repeat) and print the line for @p name. */
static inline void
micro_report(const char *name, double *ns, int reps, long iters)
{
  qsort(ns, (size_t)reps, sizeof ns[0], micro_cmp_double);
  printf("micro=%s ns_per_op=%.1f min_ns=%.1f max_ns=%.1f iters=%ld "
         "reps=%d\n",
         name, ns[reps / 2], ns[0], ns[reps - 1], iters, reps);
  fflush(stdout);
}

/* Time @p op over o->iters calls, o->reps times after a warm-up round, and
 * report the median ns per call. @p op returns something to keep. */
static inline void
micro_run(const char *name, const micro_opts_t *o, uintptr_t (*op)(void *),
          void *arg)
{
  double ns[MICRO_MAX_REPS];
  int reps = o->reps < MICRO_MAX_REPS ? o->reps : MICRO_MAX_REPS;

  for (long i = 0; i < o->iters; i++)
    micro_sink += op(arg);
  for (int r = 0; r < reps; r++) {
    uint64_t t0 = micro_now_ns();
    for (long i = 0; i < o->iters; i++)
      micro_sink += op(arg);
    ns[r] = (double)(micro_now_ns() - t0) / (double)o->iters;
  }
  micro_report(name, ns, reps, o->iters);
}

#endif
