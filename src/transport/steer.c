/*
 * Kernel steering of UDP datagrams by Call-ID: the eBPF program.
 *
 * The program is written here as eBPF instructions, with labels resolved
 * by a small emitter, and loaded with libbpf's bpf_prog_load(); that keeps
 * the build free of a BPF compiler. It runs for every datagram that
 * reaches the address's SO_REUSEPORT group, with the datagram's UDP
 * payload at offset 0 of the socket buffer (SO_ATTACH_REUSEPORT_EBPF pulls
 * the UDP header before it runs a socket filter).
 *
 * What it does, in C terms:
 *
 *   n = min(len, CAY__STEER_SCAN_BYTES)
 *   copy the first n bytes into a per-CPU scratch buffer (a map value:
 *     the eBPF stack holds only 512 bytes)
 *   bpf_loop(n, step, &scan)   one call of step() per byte: a small state
 *     machine that skips the start line, matches "Call-ID" or "i" (any
 *     case, blanks before the colon) at the start of a header line, skips
 *     blanks after the colon and runs FNV-1a over the value up to the line
 *     end; the hash is kept as of the value's last non-blank byte, which
 *     is the hash of the trimmed value cay__callid_scan() returns
 *   return fmix64(hash) % nshards, or 0xffffffff (no socket: the kernel
 *     falls back to its own hash) when no Call-ID line was found
 *
 * Only the common shapes are placed; the rest (a folded line, CRs inside
 * the value, a Call-ID past the scanned bytes) go to some shard, which
 * posts them on as before.
 */
#include "transport/steer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"

#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif

/* -- a tiny eBPF assembler with labels ------------------------------------ */

#define MAX_INSNS  160
#define MAX_LABELS 24
#define MAX_FIXUPS 48

typedef struct {
  struct bpf_insn insn[MAX_INSNS];
  int n;
  int label_at[MAX_LABELS];
  struct {
    int at, label;
  } fix[MAX_FIXUPS];
  int nfix;
  int overflow;
} prog_t;

static void
emit(prog_t *p, struct bpf_insn i)
{
  if (p->n < MAX_INSNS)
    p->insn[p->n++] = i;
  else
    p->overflow = 1;
}

static struct bpf_insn
insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  struct bpf_insn i;

  memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

/* A jump (or a BPF_PSEUDO_FUNC load) whose offset is set to @p label. */
static void
emit_to(prog_t *p, struct bpf_insn i, int label)
{
  if (p->nfix < MAX_FIXUPS) {
    p->fix[p->nfix].at = p->n;
    p->fix[p->nfix].label = label;
    p->nfix++;
  } else {
    p->overflow = 1;
  }
  emit(p, i);
}

static void
label(prog_t *p, int l)
{
  p->label_at[l] = p->n;
}

static void
ld_imm64(prog_t *p, int dst, int src, uint64_t v)
{
  emit(p, insn(BPF_LD | BPF_DW | BPF_IMM, dst, src, 0, (int32_t)(uint32_t)v));
  emit(p, insn(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static void
resolve(prog_t *p)
{
  for (int k = 0; k < p->nfix; k++) {
    struct bpf_insn *i = &p->insn[p->fix[k].at];
    int rel = p->label_at[p->fix[k].label] - p->fix[k].at - 1;
    if (i->code == (BPF_LD | BPF_DW | BPF_IMM))
      i->imm = rel; /* BPF_PSEUDO_FUNC: the callback's offset */
    else
      i->off = (int16_t)rel;
  }
}

#define ALU64_IMM(op, d, v) insn(BPF_ALU64 | (op) | BPF_K, d, 0, 0, v)
#define ALU64_REG(op, d, s) insn(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define MOV_IMM(d, v)       ALU64_IMM(BPF_MOV, d, v)
#define MOV_REG(d, s)       ALU64_REG(BPF_MOV, d, s)
#define LDX(sz, d, s, o)    insn(BPF_LDX | (sz) | BPF_MEM, d, s, o, 0)
#define STX(sz, d, s, o)    insn(BPF_STX | (sz) | BPF_MEM, d, s, o, 0)
#define ST(sz, d, o, v)     insn(BPF_ST | (sz) | BPF_MEM, d, 0, o, v)
#define JMP_IMM(op, d, v)   insn(BPF_JMP | (op) | BPF_K, d, 0, 0, v)
#define JMP_REG(op, d, s)   insn(BPF_JMP | (op) | BPF_X, d, s, 0, 0)
#define JA()                insn(BPF_JMP | BPF_JA, 0, 0, 0, 0)
#define CALL(fn)            insn(BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT()              insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* -- the program ------------------------------------------------------------
 */

/* Scan states; NAME_* are 1 + the index in "call-id" of the byte expected
 * next, so that NAME_LAST + 1 is AFTER_NAME. */
enum {
  ST_SKIP = 0,   /* inside a line that is not the Call-ID's */
  ST_LSTART = 1, /* at the start of a header line */
  ST_NAME = 2,   /* "c" matched; 2..7 expect "call-id"[1..6] */
  ST_AFTER = 8,  /* a whole name matched: blanks, then the colon */
  ST_VLEAD = 9,  /* after the colon: blanks before the value */
  ST_VALUE = 10, /* in the value */
  ST_DONE = 11,
  ST_FAIL = 12,
};

/* Labels. */
enum {
  L_FAIL,
  L_STEP,
  L_LOWER_DONE,
  L_SKIP,
  L_LSTART,
  L_AFTER,
  L_VLEAD,
  L_VALUE,
  L_HASH,
  L_SET_VALUE,
  L_STEP_DONE,
  L_STEP_FAIL,
  L_STORE,
  L_RET0,
  L_NOT_C,
  L_NOT_I,
  L_LEN_OK,
};

/* The scan state on the main program's stack, handed to step(). */
#define SCAN_OFF   (-40) /* from the frame pointer */
#define SCAN_BUF   0     /* u64: the scratch buffer (map value pointer) */
#define SCAN_STATE 8     /* u64: ST_* */
#define SCAN_HASH  16    /* u64: FNV-1a over the value so far */
#define SCAN_TRIM  24    /* u64: the same, as of the last non-blank byte */
#define KEY_OFF    (-4)  /* u32 0: the scratch map's only key */

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME  0x100000001b3ULL
/* "call-id" little-endian: byte k is the k-th letter. */
#define CALLID_NAME 0x0064692d6c6c6163ULL

static void
emit_main(prog_t *p, int map_fd, unsigned nshards)
{
  emit(p, MOV_REG(BPF_REG_6, BPF_REG_1));
  emit(p, LDX(BPF_W, BPF_REG_7, BPF_REG_6, offsetof(struct __sk_buff, len)));
  emit_to(p, JMP_IMM(BPF_JLT, BPF_REG_7, 1), L_FAIL);
  emit_to(p, JMP_IMM(BPF_JLE, BPF_REG_7, CAY__STEER_SCAN_BYTES), L_LEN_OK);
  emit(p, MOV_IMM(BPF_REG_7, CAY__STEER_SCAN_BYTES));
  label(p, L_LEN_OK);

  /* r8 = the scratch buffer */
  emit(p, ST(BPF_W, BPF_REG_10, KEY_OFF, 0));
  ld_imm64(p, BPF_REG_1, BPF_PSEUDO_MAP_FD, (uint32_t)map_fd);
  emit(p, MOV_REG(BPF_REG_2, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, KEY_OFF));
  emit(p, CALL(BPF_FUNC_map_lookup_elem));
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_0, 0), L_FAIL);
  emit(p, MOV_REG(BPF_REG_8, BPF_REG_0));

  /* bpf_skb_load_bytes(skb, 0, buf, n) */
  emit(p, MOV_REG(BPF_REG_1, BPF_REG_6));
  emit(p, MOV_IMM(BPF_REG_2, 0));
  emit(p, MOV_REG(BPF_REG_3, BPF_REG_8));
  emit(p, MOV_REG(BPF_REG_4, BPF_REG_7));
  emit(p, CALL(BPF_FUNC_skb_load_bytes));
  emit_to(p, JMP_IMM(BPF_JNE, BPF_REG_0, 0), L_FAIL);

  /* the scan state, then bpf_loop(n, step, &scan, 0) */
  emit(p, STX(BPF_DW, BPF_REG_10, BPF_REG_8, SCAN_OFF + SCAN_BUF));
  emit(p, ST(BPF_DW, BPF_REG_10, SCAN_OFF + SCAN_STATE, ST_SKIP));
  emit(p, ST(BPF_DW, BPF_REG_10, SCAN_OFF + SCAN_HASH, 0));
  emit(p, ST(BPF_DW, BPF_REG_10, SCAN_OFF + SCAN_TRIM, 0));
  emit(p, MOV_REG(BPF_REG_1, BPF_REG_7));
  emit_to(p, insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_2, BPF_PSEUDO_FUNC, 0, 0),
          L_STEP);
  emit(p, insn(0, 0, 0, 0, 0));
  emit(p, MOV_REG(BPF_REG_3, BPF_REG_10));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_3, SCAN_OFF));
  emit(p, MOV_IMM(BPF_REG_4, 0));
  emit(p, CALL(BPF_FUNC_loop));

  emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_10, SCAN_OFF + SCAN_STATE));
  emit_to(p, JMP_IMM(BPF_JNE, BPF_REG_1, ST_DONE), L_FAIL);

  /* r0 = fmix64(trimmed hash) % nshards: cay__hash() and
   * cay__callid_shard() in core/hash. */
  emit(p, LDX(BPF_DW, BPF_REG_0, BPF_REG_10, SCAN_OFF + SCAN_TRIM));
  emit(p, MOV_REG(BPF_REG_1, BPF_REG_0));
  emit(p, ALU64_IMM(BPF_RSH, BPF_REG_1, 33));
  emit(p, ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_1));
  ld_imm64(p, BPF_REG_1, 0, 0xff51afd7ed558ccdULL);
  emit(p, ALU64_REG(BPF_MUL, BPF_REG_0, BPF_REG_1));
  emit(p, MOV_REG(BPF_REG_1, BPF_REG_0));
  emit(p, ALU64_IMM(BPF_RSH, BPF_REG_1, 33));
  emit(p, ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_1));
  ld_imm64(p, BPF_REG_1, 0, 0xc4ceb9fe1a85ec53ULL);
  emit(p, ALU64_REG(BPF_MUL, BPF_REG_0, BPF_REG_1));
  emit(p, MOV_REG(BPF_REG_1, BPF_REG_0));
  emit(p, ALU64_IMM(BPF_RSH, BPF_REG_1, 33));
  emit(p, ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_1));
  emit(p, ALU64_IMM(BPF_MOD, BPF_REG_0, (int32_t)nshards));
  emit(p, EXIT());

  label(p, L_FAIL);
  emit(p, insn(BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1));
  emit(p, EXIT());
}

/* step(index, scan): one byte. r4 = the byte, r0 = it in lower case,
 * r5 = the state. Returns 1 to end the loop. */
static void
emit_step_dispatch(prog_t *p)
{
  label(p, L_STEP);
  emit(p, MOV_REG(BPF_REG_6, BPF_REG_2));
  emit(p, LDX(BPF_DW, BPF_REG_3, BPF_REG_6, SCAN_BUF));
  emit(p, ALU64_IMM(BPF_AND, BPF_REG_1, CAY__STEER_SCAN_BYTES - 1));
  emit(p, ALU64_REG(BPF_ADD, BPF_REG_3, BPF_REG_1));
  emit(p, LDX(BPF_B, BPF_REG_4, BPF_REG_3, 0));
  emit(p, LDX(BPF_DW, BPF_REG_5, BPF_REG_6, SCAN_STATE));
  emit(p, MOV_REG(BPF_REG_0, BPF_REG_4));
  emit_to(p, JMP_IMM(BPF_JLT, BPF_REG_0, 'A'), L_LOWER_DONE);
  emit_to(p, JMP_IMM(BPF_JGT, BPF_REG_0, 'Z'), L_LOWER_DONE);
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_0, 'a' - 'A'));
  label(p, L_LOWER_DONE);

  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_5, ST_VALUE), L_VALUE);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_5, ST_SKIP), L_SKIP);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_5, ST_LSTART), L_LSTART);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_5, ST_AFTER), L_AFTER);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_5, ST_VLEAD), L_VLEAD);
  emit_to(p, JMP_IMM(BPF_JGT, BPF_REG_5, ST_AFTER - 1), L_STEP_FAIL);

  /* ST_NAME..: the expected letter is byte (state - 1) of CALLID_NAME. */
  emit(p, MOV_REG(BPF_REG_2, BPF_REG_5));
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_2, -1));
  emit(p, ALU64_IMM(BPF_LSH, BPF_REG_2, 3));
  ld_imm64(p, BPF_REG_1, 0, CALLID_NAME);
  emit(p, ALU64_REG(BPF_RSH, BPF_REG_1, BPF_REG_2));
  emit(p, ALU64_IMM(BPF_AND, BPF_REG_1, 0xff));
  emit_to(p, JMP_REG(BPF_JNE, BPF_REG_0, BPF_REG_1), L_SKIP);
  emit(p, ALU64_IMM(BPF_ADD, BPF_REG_5, 1));
  emit_to(p, JA(), L_STORE);
}

/* step() ends with the state set to @p st (stored by L_STORE). */
static void
goto_state(prog_t *p, int st)
{
  emit(p, MOV_IMM(BPF_REG_5, st));
  emit_to(p, JA(), L_STORE);
}

static void
emit_step_states(prog_t *p)
{
  /* Not the Call-ID's line: wait for its end. */
  label(p, L_SKIP);
  emit(p, MOV_IMM(BPF_REG_5, ST_SKIP));
  emit_to(p, JMP_IMM(BPF_JNE, BPF_REG_4, '\n'), L_STORE);
  goto_state(p, ST_LSTART);

  /* A line start: an empty line ends the headers (no Call-ID). */
  label(p, L_LSTART);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\r'), L_STEP_FAIL);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\n'), L_STEP_FAIL);
  emit_to(p, JMP_IMM(BPF_JNE, BPF_REG_0, 'c'), L_NOT_C);
  goto_state(p, ST_NAME);
  label(p, L_NOT_C);
  emit_to(p, JMP_IMM(BPF_JNE, BPF_REG_0, 'i'), L_NOT_I);
  goto_state(p, ST_AFTER);
  label(p, L_NOT_I);
  goto_state(p, ST_SKIP);

  /* After the name: blanks, then the colon, or it was another header. */
  label(p, L_AFTER);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, ' '), L_RET0);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\t'), L_RET0);
  emit_to(p, JMP_IMM(BPF_JNE, BPF_REG_4, ':'), L_SKIP);
  goto_state(p, ST_VLEAD);

  /* Blanks before the value; a line end here (a folded value, or none)
   * is left to the shards. */
  label(p, L_VLEAD);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, ' '), L_RET0);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\t'), L_RET0);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\r'), L_STEP_FAIL);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\n'), L_STEP_FAIL);
  ld_imm64(p, BPF_REG_1, 0, FNV64_OFFSET);
  emit_to(p, JA(), L_HASH);

  /* The value runs to the line end. */
  label(p, L_VALUE);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\r'), L_STEP_DONE);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\n'), L_STEP_DONE);
  emit(p, LDX(BPF_DW, BPF_REG_1, BPF_REG_6, SCAN_HASH));
  label(p, L_HASH);
  emit(p, ALU64_REG(BPF_XOR, BPF_REG_1, BPF_REG_4));
  ld_imm64(p, BPF_REG_2, 0, FNV64_PRIME);
  emit(p, ALU64_REG(BPF_MUL, BPF_REG_1, BPF_REG_2));
  emit(p, STX(BPF_DW, BPF_REG_6, BPF_REG_1, SCAN_HASH));
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, ' '), L_SET_VALUE);
  emit_to(p, JMP_IMM(BPF_JEQ, BPF_REG_4, '\t'), L_SET_VALUE);
  emit(p, STX(BPF_DW, BPF_REG_6, BPF_REG_1, SCAN_TRIM));
  label(p, L_SET_VALUE);
  goto_state(p, ST_VALUE);

  label(p, L_STEP_DONE);
  emit(p, MOV_IMM(BPF_REG_5, ST_DONE));
  emit(p, STX(BPF_DW, BPF_REG_6, BPF_REG_5, SCAN_STATE));
  emit(p, MOV_IMM(BPF_REG_0, 1));
  emit(p, EXIT());

  label(p, L_STEP_FAIL);
  emit(p, MOV_IMM(BPF_REG_5, ST_FAIL));
  emit(p, STX(BPF_DW, BPF_REG_6, BPF_REG_5, SCAN_STATE));
  emit(p, MOV_IMM(BPF_REG_0, 1));
  emit(p, EXIT());

  label(p, L_STORE);
  emit(p, STX(BPF_DW, BPF_REG_6, BPF_REG_5, SCAN_STATE));
  label(p, L_RET0);
  emit(p, MOV_IMM(BPF_REG_0, 0));
  emit(p, EXIT());
}

/* -- loading ----------------------------------------------------------------
 */

#define VERIFIER_LOG_BYTES 16384

/* The verifier's reason: its last non-empty line other than the
 * "processed N insns ..." statistics it ends with. */
static void
last_line(const char *log, char *out, size_t outlen)
{
  const char *end = log + strlen(log), *start;

  for (;;) {
    while (end > log && (end[-1] == '\n' || end[-1] == ' '))
      end--;
    start = end;
    while (start > log && start[-1] != '\n')
      start--;
    if (start == log || strncmp(start, "processed ", 10) != 0)
      break;
    end = start;
  }
  snprintf(out, outlen, "%.*s", (int)(end - start), start);
}

/*
 * BTF for the two functions: the kernel loads a program with a
 * subprogram (the bpf_loop callback) only with BTF func_info naming both.
 * @return the BTF's fd (caller closes), or a negative errno.
 */
static int
load_btf(struct btf **out, struct bpf_func_info *funcs)
{
  struct btf *btf = btf__new_empty();
  int t_int, t_u64, t_ptr, t_main, t_step, err;

  *out = NULL;
  if (btf == NULL)
    return -errno;
  t_int = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
  t_u64 = btf__add_int(btf, "unsigned long long", 8, 0);
  t_ptr = btf__add_ptr(btf, 0);
  t_main = btf__add_func_proto(btf, t_int);
  btf__add_func_param(btf, "skb", t_ptr);
  funcs[0].type_id
      = (uint32_t)btf__add_func(btf, "cay_steer", BTF_FUNC_STATIC, t_main);
  t_step = btf__add_func_proto(btf, t_int);
  btf__add_func_param(btf, "index", t_u64);
  btf__add_func_param(btf, "scan", t_ptr);
  err = btf__add_func(btf, "cay_steer_step", BTF_FUNC_STATIC, t_step);
  funcs[1].type_id = (uint32_t)err;
  if (err < 0 || (int)funcs[0].type_id < 0
      || (err = btf__load_into_kernel(btf)) != 0) {
    btf__free(btf);
    return err < 0 ? err : -EINVAL;
  }
  *out = btf;
  return btf__fd(btf);
}

static int
load_prog(const prog_t *p, char *why, size_t whylen)
{
  char *log;
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  struct bpf_func_info funcs[2];
  struct btf *btf;
  char line[160];
  int fd, err;

  fd = load_btf(&btf, funcs);
  if (fd < 0) {
    snprintf(why, whylen, "bpf btf: %s", strerror(-fd));
    return fd;
  }
  funcs[0].insn_off = 0;
  funcs[1].insn_off = (uint32_t)p->label_at[L_STEP];
  opts.prog_btf_fd = fd;
  opts.func_info = funcs;
  opts.func_info_cnt = 2;
  opts.func_info_rec_size = sizeof funcs[0];
  fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "cay_steer", "Dual MIT/GPL",
                     p->insn, (size_t)p->n, &opts);
  err = fd < 0 ? -errno : 0;
  if (fd < 0 && (err == -EINVAL || err == -EACCES)) {
    /* Refused by the verifier: load again with its log for the reason
     * (on the heap: only this rare path needs it, on any thread). */
    log = cay__calloc(1, VERIFIER_LOG_BYTES);
    opts.log_buf = log;
    opts.log_size = log ? VERIFIER_LOG_BYTES : 0;
    opts.log_level = log ? 1 : 0;
    fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "cay_steer", "Dual MIT/GPL",
                       p->insn, (size_t)p->n, &opts);
    if (fd < 0) {
      last_line(log ? log : "", line, sizeof line);
      snprintf(why, whylen, "bpf: %s (verifier: %s)", strerror(-err), line);
    }
    cay__free(log);
  } else if (fd < 0) {
    snprintf(why, whylen, "bpf: %s", strerror(-err));
  }
  /* The program holds the BTF from here on. */
  btf__free(btf);
  return fd < 0 ? err : fd;
}

int
cay__steer_load(unsigned nshards, int *prog_fd, char *why, size_t whylen)
{
  prog_t *p;
  int map_fd, fd;

  *prog_fd = -1;
  snprintf(why, whylen, "loaded");
  if (nshards < 2 || nshards > 64) {
    snprintf(why, whylen, "steering needs 2..64 shards, not %u", nshards);
    return -EINVAL;
  }
  map_fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "cay_steer_buf",
                          sizeof(uint32_t), CAY__STEER_SCAN_BYTES, 1, NULL);
  if (map_fd < 0) {
    fd = -errno;
    snprintf(why, whylen, "bpf map: %s", strerror(-fd));
    return fd;
  }
  p = cay__calloc(1, sizeof *p);
  if (p == NULL) {
    close(map_fd);
    snprintf(why, whylen, "out of memory");
    return -ENOMEM;
  }
  emit_main(p, map_fd, nshards);
  emit_step_dispatch(p);
  emit_step_states(p);
  resolve(p);
  if (p->overflow) {
    cay__free(p);
    close(map_fd);
    snprintf(why, whylen, "steering program too long");
    return -E2BIG;
  }
  fd = load_prog(p, why, whylen);
  cay__free(p);
  /* The program holds the map from here on. */
  close(map_fd);
  if (fd < 0)
    return fd;
  *prog_fd = fd;
  return 0;
}

int
cay__steer_attach(int prog_fd, int sock_fd)
{
  if (setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog_fd,
                 sizeof prog_fd)
      != 0)
    return -errno;
  return 0;
}
