/*
 * The cay server binary: command line, config, signals, exit summary.
 *
 *   cay [-c FILE] [-L PROTO:HOST:PORT]... [-s N] [-t] [-l LEVEL] [--version]
 *       [--help]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/cay.h"
#include "core/log.h"

#define DRAIN_GRACE_MS 10000 /* bound of the SIGTERM drain */

static cay_server_t *server;
static uv_signal_t sig_int, sig_term, sig_usr1, sig_hup;

static void
usage(FILE *f)
{
  fprintf(
      f, "usage: cay [-c FILE] [-L PROTO:HOST:PORT]... [-s N] [-t] [-l LEVEL]\n"
         "           [--version] [--help]\n"
         "  -c, --config FILE   YAML configuration (see cay.yaml.sample)\n"
         "  -L, --listen SPEC   udp:, tcp: or tls:HOST:PORT, repeatable (tls\n"
         "                      needs the config's tls: section);\n"
         "                      replaces the configured list (default\n"
         "                      udp:127.0.0.1:5060 and tcp:127.0.0.1:5060)\n"
         "  -s, --shards N      shards (event loops, one thread each), or\n"
         "                      'auto' for one per CPU (default 1)\n"
         "  -t, --check         check the configuration and exit\n"
         "  -l, --log LEVEL     error, warn, info or debug (default info)\n"
         "  -V, --version       print the version and exit\n"
         "  -h, --help          print this help and exit\n"
         "Without a config file, cay answers every call on 127.0.0.1:5060\n"
         "(UDP and TCP).\n"
         "SIGINT/SIGTERM drain: new calls get 503, live calls get BYE, then\n"
         "cay exits 0 and prints a 'shard=K key=value...' line per shard and\n"
         "a 'summary key=value...' line of totals on stdout.\n"
         "SIGUSR1 prints the live counters the same way, each line starting\n"
         "with 'live ' ('live shard=K ...', 'live summary ...').\n"
         "SIGHUP reads the config file again: new calls take its routes,\n"
         "calls in progress keep theirs; values that need a restart\n"
         "(listen, shards, ...) are logged and kept; cdr.file is opened\n"
         "anew (rename it first to rotate it).\n");
}

static void
on_closed(cay_server_t *srv, void *arg)
{
  cay_stats_t st;

  (void)arg;
  for (unsigned k = 0; k < cay_server_shards(srv); k++) {
    if (cay_server_shard_stats(srv, k, &st) == 0) {
      printf("shard=%u ", k);
      cay_stats_print(&st, stdout);
    }
  }
  cay_server_stats(srv, &st);
  fputs("summary ", stdout);
  cay_stats_print(&st, stdout);
  fflush(stdout);
  uv_close((uv_handle_t *)&sig_int, NULL);
  uv_close((uv_handle_t *)&sig_term, NULL);
  uv_close((uv_handle_t *)&sig_usr1, NULL);
  uv_close((uv_handle_t *)&sig_hup, NULL);
}

static void
on_signal(uv_signal_t *h, int signum)
{
  (void)h;
  cay__log_write(CAY_LOG_INFO, -1, "signal %d: draining (at most %d ms)",
                 signum, DRAIN_GRACE_MS);
  cay_server_close(server, DRAIN_GRACE_MS, on_closed, NULL);
}

static void
on_gathered(cay_server_t *srv, const cay_stats_t *shards, unsigned nshards,
            const cay_stats_t *total, void *arg)
{
  (void)srv;
  (void)arg;
  for (unsigned k = 0; k < nshards; k++) {
    printf("live shard=%u ", k);
    cay_stats_print(&shards[k], stdout);
  }
  fputs("live summary ", stdout);
  cay_stats_print(total, stdout);
  fflush(stdout);
}

static void
on_usr1(uv_signal_t *h, int signum)
{
  int err = cay_server_stats_gather(server, on_gathered, NULL);

  (void)h;
  if (err)
    cay__log_write(CAY_LOG_WARN, -1, "signal %d: no live counters: %s", signum,
                   err == CAY_ELIMIT ? "too many are still being gathered"
                                     : cay_strerror(err));
  else
    cay__log_write(CAY_LOG_INFO, -1,
                   "signal %d: live counters asked of every shard, printed "
                   "on stdout",
                   signum);
}

/* What the command line asks for, before the config file is applied;
 * kept for SIGHUP, which applies it again over the file it rereads. */
static struct args {
  cay_listen_t listen[CAY_CONFIG_MAX_LISTEN];
  unsigned n_listen;
  const char *config;
  int log_level, shards; /* -1: not given */
} cmdline = { .log_level = -1, .shards = -1 };

/* -L SPEC, -s N|auto or -l LEVEL into @p a. @return 0, or -1 after a
 * message on stderr. */
static int
parse_value(int c, const char *arg, struct args *a)
{
  char err[512], *end;
  long n;

  switch (c) {
  case 'L':
    if (a->n_listen == CAY_CONFIG_MAX_LISTEN) {
      fprintf(stderr, "cay: at most %d -L options\n", CAY_CONFIG_MAX_LISTEN);
      return -1;
    }
    if (cay_config_parse_listen(arg, &a->listen[a->n_listen], err,
                                sizeof err)) {
      fprintf(stderr, "cay: -L %s: %s\n", arg, err);
      return -1;
    }
    a->n_listen++;
    return 0;
  case 's':
    n = strtol(arg, &end, 10);
    if (strcmp(arg, "auto") == 0) {
      a->shards = 0;
    } else if (*arg == '\0' || *end != '\0' || n < 1 || n > 64) {
      fprintf(stderr, "cay: -s %s: expected 1..64 or auto\n", arg);
      return -1;
    } else {
      a->shards = (int)n;
    }
    return 0;
  default: /* 'l' */
    a->log_level = cay__log_level_parse(arg);
    if (a->log_level < 0) {
      fprintf(stderr, "cay: -l %s: expected error, warn, info or debug\n", arg);
      return -1;
    }
    return 0;
  }
}

/* Load the config file of @p a into @p cfg, then what the command line
 * gives over it, and check the result. @return 0, or -1 with the message
 * in @p err. */
static int
apply_args(const struct args *a, cay_config_t *cfg, char *err, size_t len)
{
  char why[512];

  if (a->config && cay_config_load(cfg, a->config, why, sizeof why) != 0) {
    snprintf(err, len, "%s", why);
    return -1;
  }
  if (a->n_listen) {
    memcpy(cfg->listen, a->listen, sizeof a->listen[0] * a->n_listen);
    cfg->n_listen = a->n_listen;
  }
  if (a->log_level >= 0)
    cfg->log_level = (cay_log_level_t)a->log_level;
  if (a->shards >= 0)
    cfg->shards = (unsigned)a->shards;
  if (cay_config_check(cfg, why, sizeof why) != 0) {
    snprintf(err, len, "%s%s%s", a->config ? a->config : "",
             a->config ? ": " : "", why);
    return -1;
  }
  return 0;
}

/* SIGHUP: read the config file again, with the command line over it, and
 * hand it to the running server (cay_server_reload(): new calls take it,
 * calls in progress keep their routes). A file that does not load or
 * check is logged, with its file:line:column, and changes nothing. */
static void
on_hup(uv_signal_t *h, int signum)
{
  static cay_config_t cfg; /* large; the loop's thread only */
  char err[1100];
  int rc;

  (void)h;
  if (cmdline.config == NULL) {
    cay__log_write(CAY_LOG_WARN, -1,
                   "signal %d: no configuration file (-c) to reload; cay "
                   "runs on its built-in defaults",
                   signum);
    return;
  }
  cay__log_write(CAY_LOG_INFO, -1, "signal %d: reloading %s", signum,
                 cmdline.config);
  cay_config_init(&cfg);
  rc = apply_args(&cmdline, &cfg, err, sizeof err);
  if (rc == 0)
    rc = cay_server_reload(server, &cfg, err, sizeof err);
  if (rc)
    cay__log_write(CAY_LOG_ERROR, -1,
                   "reload failed: %s; the running configuration is kept", err);
}

/* Parse the command line into @p cfg; returns -1 to exit 1, 1 to exit 0. */
static int
parse_args(int argc, char **argv, cay_config_t *cfg, int *check_only)
{
  static const struct option opts[] = {
    { "config", required_argument, NULL, 'c' },
    { "listen", required_argument, NULL, 'L' },
    { "check", no_argument, NULL, 't' },
    { "log", required_argument, NULL, 'l' },
    { "shards", required_argument, NULL, 's' },
    { "version", no_argument, NULL, 'V' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct args *a = &cmdline;
  char err[1100];
  int c;

  while ((c = getopt_long(argc, argv, "c:L:s:tl:Vh", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      a->config = optarg;
      break;
    case 'L':
    case 's':
    case 'l':
      if (parse_value(c, optarg, a) != 0)
        return -1;
      break;
    case 't':
      *check_only = 1;
      break;
    case 'V':
      printf("cay %s\n", CAY_VERSION);
      return 1;
    case 'h':
      usage(stdout);
      return 1;
    default:
      usage(stderr);
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "cay: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return -1;
  }
  if (apply_args(a, cfg, err, sizeof err) != 0) {
    fprintf(stderr, "cay: %s\n", err);
    return -1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  uv_loop_t *loop = uv_default_loop();
  int check_only = 0, err;
  cay_config_t cfg;

  cay_config_init(&cfg);
  err = parse_args(argc, argv, &cfg, &check_only);
  if (err)
    return err < 0 ? 1 : 0;
  if (check_only) {
    printf("cay: configuration ok\n");
    return 0;
  }
  err = cay_server_create(&server, loop, &cfg);
  if (err == 0)
    err = cay_server_start(server);
  if (err) {
    fprintf(stderr, "cay: cannot start: %s\n", cay_strerror(err));
    return 1;
  }
  uv_signal_init(loop, &sig_int);
  uv_signal_init(loop, &sig_term);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  uv_signal_init(loop, &sig_usr1);
  uv_signal_start(&sig_usr1, on_usr1, SIGUSR1);
  uv_signal_init(loop, &sig_hup);
  uv_signal_start(&sig_hup, on_hup, SIGHUP);
  cay__log_write(CAY_LOG_INFO, -1, "cay %s ready", CAY_VERSION);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return 0;
}
