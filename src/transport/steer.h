/*
 * Kernel steering of UDP datagrams to their owner shard (DESIGN.md
 * section 3, step 2, done before the datagram reaches a socket).
 *
 * Every shard's UDP socket for one address is in one SO_REUSEPORT group.
 * Left alone, the kernel picks the socket by a hash of the addresses, so a
 * single peer on a single socket lands on one shard, which then posts half
 * of what it reads (at 2 shards) to the other: a thread wake-up per
 * message. The steering program is an eBPF socket filter attached with
 * SO_ATTACH_REUSEPORT_EBPF: it finds the Call-ID in the datagram, hashes
 * it exactly as cay__callid_shard() does and returns the owner's index in
 * the group, so the owner reads the datagram itself.
 *
 * Steering is an optimisation only: the receiving shard still checks the
 * owner of every datagram and posts what is not its own, so a datagram the
 * program cannot place (no Call-ID in the first CAY__STEER_SCAN_BYTES, a
 * folded Call-ID line, a program that failed to load) is still handled
 * correctly, only with the hand-over.
 */
#ifndef CAY_TRANSPORT_STEER_H
#define CAY_TRANSPORT_STEER_H

#include <stddef.h>

/** Bytes of a datagram the program looks at for the Call-ID. */
#define CAY__STEER_SCAN_BYTES 2048

/**
 * Load the steering program for a group of @p nshards sockets.
 *
 * @param nshards  Shards, 2..64: the program returns
 *                 hash(Call-ID) mod @p nshards.
 * @param prog_fd  Receives the program's file descriptor (caller owns;
 *                 close() it once attached: the sockets keep the program).
 * @param why      Receives a sentence saying why loading failed (the
 *                 errno text, and the verifier's last line when it
 *                 refused the program). Borrowed, @p whylen bytes.
 * @return 0, or a negative errno: -EPERM without CAP_BPF (or
 *         CAP_SYS_ADMIN), -ENOSYS on a kernel without bpf(), -EINVAL when
 *         the kernel lacks bpf_loop (Linux < 5.17) or refuses the program.
 * @thread any
 */
int cay__steer_load(unsigned nshards, int *prog_fd, char *why, size_t whylen);

/**
 * Attach the steering program to the SO_REUSEPORT group of @p sock_fd
 * (SO_ATTACH_REUSEPORT_EBPF). The program applies to the whole group; the
 * index it returns is the socket's position in the group, which is the
 * order the sockets were bound in. Cay binds shard 0's socket first, then
 * shard 1's, and so on, all from one thread, so position equals shard.
 *
 * @param prog_fd  From cay__steer_load(). Borrowed.
 * @param sock_fd  A bound UDP socket with SO_REUSEPORT. Borrowed.
 * @return 0, or a negative errno from setsockopt().
 * @thread any
 */
int cay__steer_attach(int prog_fd, int sock_fd);

#endif
