/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimSegment: one simulated TCP segment, and its encoding as an Ethernet frame (IPv4, TCP). */
#pragma once

#include <glib.h>

#include "pl-sim-clock.h"

G_BEGIN_DECLS

/* RFC 9293 section 3.1: the control bits the model uses. */
typedef enum {
  PL_SIM_TCP_FIN = 0x01,
  PL_SIM_TCP_SYN = 0x02,
  PL_SIM_TCP_RST = 0x04,
  PL_SIM_TCP_PSH = 0x08,
  PL_SIM_TCP_ACK = 0x10,
} PlSimTcpFlags;

#define PL_SIM_ETHERNET_HEADER_SIZE 14  /* IEEE 802.3: two addresses and the EtherType */
#define PL_SIM_IPV4_HEADER_SIZE     20  /* RFC 791, no options */
#define PL_SIM_TCP_HEADER_SIZE      20  /* RFC 9293 3.1, no options */
#define PL_SIM_TCP_MSS_OPTION_SIZE  4   /* RFC 9293 3.2: kind 2, length 4, the MSS */

/* One end of a connection: the host's Ethernet and IPv4 addresses and a port. */
typedef struct {
  guint8   mac[6];
  guint32  address;   /* IPv4, host byte order */
  guint16  port;
} PlSimEndpoint;

/*
 * A segment as it crosses one link. @payload is borrowed: it lives as long
 * as the segment is being handed to listeners.
 */
typedef struct {
  PlSimTime      depart;   /* its first bit leaves the sender */
  PlSimTime      arrive;   /* its last bit reaches the receiver */
  guint          session;  /* the trace's session id */
  guint          src_host; /* index of the sending host in the simulation */
  guint          dst_host;
  PlSimEndpoint  src;
  PlSimEndpoint  dst;
  guint16        ip_id;    /* RFC 791 Identification: per sending host, counting up */
  guint32        seq;
  guint32        ack;
  guint8         flags;    /* PlSimTcpFlags */
  guint16        window;
  guint16        mss;      /* SYN and SYN-ACK: the MSS option's value; 0: no option */
  const guint8  *payload;
  gsize          len;
} PlSimSegment;

/* Octets of the Ethernet frame (no preamble, no FCS, as a capture shows it). */
gsize    pl_sim_segment_frame_size  (const PlSimSegment *segment);
/*
 * pl_sim_segment_encode:
 * Writes the frame into @frame (pl_sim_segment_frame_size() octets):
 * Ethernet II with EtherType 0x0800, an IPv4 header (RFC 791 3.1, DF set,
 * TTL 64) with its header checksum, and a TCP header (RFC 9293 3.1) whose
 * checksum covers the pseudo-header, the header and the payload.
 */
void     pl_sim_segment_encode      (const PlSimSegment *segment,
                                     guint8             *frame);
/* "SYN", "SYN, ACK", "PSH, ACK", ... as tshark writes them. Newly allocated. */
char    *pl_sim_tcp_flags_to_string (guint8              flags);

/*
 * The Internet checksum (RFC 1071): pl_sim_checksum_add() sums 16-bit
 * words in network order (an odd last octet padded with zero; only the
 * last chunk may be odd), pl_sim_checksum_finish() folds and complements.
 */
guint32  pl_sim_checksum_add        (guint32             sum,
                                     const guint8       *data,
                                     gsize               len);
guint16  pl_sim_checksum_finish     (guint32             sum);

G_END_DECLS
