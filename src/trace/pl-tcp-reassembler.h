/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTcpReassembler: TCP connections followed both ways, bytes handed on in order, gaps counted, memory bounded. */
#pragma once

#include "pl-packet.h"

G_BEGIN_DECLS

/*
 * One TCP connection. Side 0 is the endpoint that sent the first packet
 * seen of it, side 1 the other; which is the client is the owner's
 * business (the side that sent the SYN, when there was one, is in
 * @syn_side). The fields are read-only; @user_data is the owner's.
 */
typedef struct {
  guint8    family;           /* 4 or 6 */
  guint8    address[2][16];
  guint16   port[2];
  int       syn_side;         /* side that sent the first SYN without ACK, or -1 */
  double    first_time;       /* of its first packet */
  double    last_time;        /* of its latest packet */
  gpointer  user_data;
  gboolean  ignored;          /* set by the owner: its bytes are neither kept nor handed on */
} PlTcpFlow;

typedef enum {
  PL_TCP_END_FIN,       /* both sides sent FIN and every byte up to it was seen */
  PL_TCP_END_RST,       /* a side reset the connection */
  PL_TCP_END_IDLE,      /* nothing for longer than the idle timeout */
  PL_TCP_END_EVICTED,   /* too many connections at once: the quietest one gave way */
  PL_TCP_END_REUSED,    /* a new SYN on the same addresses and ports started another connection */
  PL_TCP_END_CAPTURE,   /* the capture ended first */
} PlTcpEnd;

/*
 * What the reassembler tells its owner. @side is the side whose bytes these
 * are. Bytes come in sequence order, each exactly once, retransmissions
 * and overlaps removed; octets that never made it into the capture are
 * reported as a gap of that many octets instead, in their place. @data is
 * borrowed for the call.
 */
typedef struct {
  void (*data)   (PlTcpFlow    *flow,
                  guint         side,
                  const guint8 *data,
                  gsize         len,
                  double        time,
                  gpointer      user_data);
  void (*gap)    (PlTcpFlow    *flow,
                  guint         side,
                  guint64       missing,
                  double        time,
                  gpointer      user_data);
  void (*closed) (PlTcpFlow    *flow,
                  PlTcpEnd      how,
                  double        time,
                  gpointer      user_data);
} PlTcpCallbacks;

typedef struct _PlTcpReassembler PlTcpReassembler;

/* Defaults: 1 MiB of out-of-order octets per direction, 16384 connections, 1 hour of idleness. */
#define PL_TCP_DEFAULT_MAX_BUFFERED   (1024 * 1024)
#define PL_TCP_DEFAULT_MAX_FLOWS      16384
#define PL_TCP_DEFAULT_IDLE_TIMEOUT   3600.0

PlTcpReassembler *pl_tcp_reassembler_new        (const PlTcpCallbacks *callbacks,
                                                 gpointer              user_data);
void              pl_tcp_reassembler_free       (PlTcpReassembler     *self);
/*
 * Bounds memory: at most @max_buffered octets held out of order per
 * direction (past that the missing octets before them are given up as a
 * gap), at most @max_flows connections followed at once, and a connection
 * idle for @idle_timeout seconds of capture time is ended.
 */
void              pl_tcp_reassembler_set_limits (PlTcpReassembler     *self,
                                                 gsize                 max_buffered,
                                                 guint                 max_flows,
                                                 double                idle_timeout);
/*
 * RFC 9293 section 3.4 and 3.10.7: places one segment. Sequence numbers
 * are compared modulo 2^32, so a connection may wrap around.
 */
void              pl_tcp_reassembler_add        (PlTcpReassembler     *self,
                                                 const PlTcpSegment   *segment,
                                                 double                time);
/* The capture is over: what is held is handed on (holes as gaps) and every connection ends. */
void              pl_tcp_reassembler_finish     (PlTcpReassembler     *self);
guint             pl_tcp_reassembler_get_n_flows (PlTcpReassembler    *self);
/* Octets held out of order now, over all connections (for tests of the memory bound). */
gsize             pl_tcp_reassembler_get_buffered (PlTcpReassembler   *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTcpReassembler, pl_tcp_reassembler_free)

G_END_DECLS
