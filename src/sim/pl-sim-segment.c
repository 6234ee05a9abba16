/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimSegment: one simulated TCP segment, and its encoding as an Ethernet frame (IPv4, TCP). */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim-segment.h"

#include <string.h>

static inline gsize
tcp_header_size (const PlSimSegment *segment)
{
  return PL_SIM_TCP_HEADER_SIZE + (segment->mss != 0 ? PL_SIM_TCP_MSS_OPTION_SIZE : 0);
}

gsize
pl_sim_segment_frame_size (const PlSimSegment *segment)
{
  g_return_val_if_fail (segment != NULL, 0);
  return PL_SIM_ETHERNET_HEADER_SIZE + PL_SIM_IPV4_HEADER_SIZE + tcp_header_size (segment) + segment->len;
}

guint32
pl_sim_checksum_add (guint32       sum,
                     const guint8 *data,
                     gsize         len)
{
  gsize i;

  for (i = 0; i + 1 < len; i += 2)
    sum += (guint32) data[i] << 8 | data[i + 1];
  if (i < len)
    sum += (guint32) data[i] << 8;
  /* Fold now and then so that a long payload cannot overflow 32 bits. */
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

guint16
pl_sim_checksum_finish (guint32 sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (guint16) ~sum;
}

static inline void
put16 (guint8  *p,
       guint16  value)
{
  p[0] = (guint8) (value >> 8);
  p[1] = (guint8) value;
}

static inline void
put32 (guint8  *p,
       guint32  value)
{
  p[0] = (guint8) (value >> 24);
  p[1] = (guint8) (value >> 16);
  p[2] = (guint8) (value >> 8);
  p[3] = (guint8) value;
}

void
pl_sim_segment_encode (const PlSimSegment *segment,
                       guint8             *frame)
{
  gsize tcp_len;
  guint8 *ip;
  guint8 *tcp;
  guint8 pseudo[12];
  guint32 sum;

  g_return_if_fail (segment != NULL);
  g_return_if_fail (frame != NULL);

  tcp_len = tcp_header_size (segment) + segment->len;

  /* Ethernet II */
  memcpy (frame, segment->dst.mac, 6);
  memcpy (frame + 6, segment->src.mac, 6);
  put16 (frame + 12, 0x0800);

  /* IPv4 (RFC 791 3.1) */
  ip = frame + PL_SIM_ETHERNET_HEADER_SIZE;
  ip[0] = 0x45;                       /* version 4, 5 words */
  ip[1] = 0;                          /* DSCP/ECN */
  put16 (ip + 2, (guint16) (PL_SIM_IPV4_HEADER_SIZE + tcp_len));
  put16 (ip + 4, segment->ip_id);
  put16 (ip + 6, 0x4000);             /* don't fragment */
  ip[8] = 64;                         /* TTL */
  ip[9] = 6;                          /* TCP */
  put16 (ip + 10, 0);
  put32 (ip + 12, segment->src.address);
  put32 (ip + 16, segment->dst.address);
  put16 (ip + 10, pl_sim_checksum_finish (pl_sim_checksum_add (0, ip, PL_SIM_IPV4_HEADER_SIZE)));

  /* TCP (RFC 9293 3.1) */
  tcp = ip + PL_SIM_IPV4_HEADER_SIZE;
  put16 (tcp, segment->src.port);
  put16 (tcp + 2, segment->dst.port);
  put32 (tcp + 4, segment->seq);
  put32 (tcp + 8, segment->ack);
  tcp[12] = (guint8) ((tcp_header_size (segment) / 4) << 4);
  tcp[13] = segment->flags;
  put16 (tcp + 14, segment->window);
  put16 (tcp + 16, 0);
  put16 (tcp + 18, 0);                /* urgent pointer */
  if (segment->mss != 0)
    {
      tcp[20] = 2;                    /* kind: maximum segment size */
      tcp[21] = 4;
      put16 (tcp + 22, segment->mss);
    }
  if (segment->len > 0)
    memcpy (tcp + tcp_header_size (segment), segment->payload, segment->len);

  /* RFC 9293 3.1: the checksum covers a pseudo-header of the IP addresses too. */
  put32 (pseudo, segment->src.address);
  put32 (pseudo + 4, segment->dst.address);
  pseudo[8] = 0;
  pseudo[9] = 6;
  put16 (pseudo + 10, (guint16) tcp_len);
  sum = pl_sim_checksum_add (0, pseudo, sizeof pseudo);
  sum = pl_sim_checksum_add (sum, tcp, tcp_len);
  put16 (tcp + 16, pl_sim_checksum_finish (sum));
}

char *
pl_sim_tcp_flags_to_string (guint8 flags)
{
  static const struct { guint8 bit; const char *name; } names[] = {
    { PL_SIM_TCP_FIN, "FIN" },
    { PL_SIM_TCP_SYN, "SYN" },
    { PL_SIM_TCP_RST, "RST" },
    { PL_SIM_TCP_PSH, "PSH" },
    { PL_SIM_TCP_ACK, "ACK" },
  };
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].bit)
      {
        if (out->len > 0)
          g_string_append (out, ", ");
        g_string_append (out, names[i].name);
      }
  return g_string_free (out, FALSE);
}
