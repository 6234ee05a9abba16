/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Link layers, IPv4/IPv6 and TCP headers read from captured octets, every read bounds-checked. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TCP flags (RFC 9293 section 3.1). */
#define PL_TCP_FIN 0x01
#define PL_TCP_SYN 0x02
#define PL_TCP_RST 0x04
#define PL_TCP_PSH 0x08
#define PL_TCP_ACK 0x10

/*
 * One TCP segment found in a packet. Addresses are in network order, 4
 * octets used for IPv4. @payload points into the packet: @captured_len
 * octets of the @payload_len the segment carried on the wire (fewer when
 * the capture's snaplen cut the packet).
 */
typedef struct {
  guint8        family;       /* 4 or 6 */
  guint8        flags;
  guint16       src_port;
  guint16       dst_port;
  guint8        src[16];
  guint8        dst[16];
  guint32       seq;
  guint32       ack;
  const guint8 *payload;
  guint32       payload_len;
  guint32       captured_len;
} PlTcpSegment;

typedef enum {
  PL_PACKET_TCP = 0,    /* @segment is filled in */
  PL_PACKET_OTHER,      /* not TCP over IP (ARP, UDP, ICMP, ...): nothing for the tracer */
  PL_PACKET_FRAGMENT,   /* an IP fragment: Postlab does not reassemble IP */
  PL_PACKET_CUT,        /* the capture cut the packet before the end of its TCP header */
  PL_PACKET_MALFORMED,  /* headers that cannot be: *problem says which */
} PlPacketResult;

/* The link types of pcap(7) that pl_packet_decode() reads (DLT_ values as libpcap gives them). */
gboolean        pl_packet_link_type_is_supported (int                link_type);

/*
 * Reads the link layer of @link_type, then IPv4 or IPv6 (skipping IPv6
 * extension headers and 802.1Q/802.1ad tags), then the TCP header. Never
 * reads outside @data[0 .. @caplen). @len is the packet's length on the
 * wire. On PL_PACKET_MALFORMED, *@problem (static text) says what is wrong.
 */
PlPacketResult  pl_packet_decode (int                link_type,
                                  const guint8      *data,
                                  gsize              caplen,
                                  gsize              len,
                                  PlTcpSegment      *segment,
                                  const char       **problem);

/* "192.0.2.1:25" or "[2001:db8::1]:25" for the source (@source TRUE) or destination of @segment. */
char           *pl_tcp_segment_endpoint (const PlTcpSegment *segment,
                                         gboolean            source);
/* The same for an address of @family (4 or 6) and a port. */
char           *pl_endpoint_to_string   (guint8              family,
                                         const guint8       *address,
                                         guint16             port);

G_END_DECLS
