/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Link layers, IPv4/IPv6 and TCP headers read from captured octets, every read bounds-checked. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-packet.h"

#include <string.h>

#include <arpa/inet.h>
#include <gio/gio.h>

/*
 * Link types as libpcap hands them out (pcap_datalink(), DLT_ values; see
 * https://www.tcpdump.org/linktypes.html). Written out here so that only
 * the capture source includes libpcap.
 */
enum {
  LINK_NULL     = 0,    /* BSD loopback: 4-octet address family, host byte order */
  LINK_ETHERNET = 1,
  LINK_RAW      = 12,   /* DLT_RAW on most systems */
  LINK_RAW_BSD  = 14,   /* DLT_RAW on OpenBSD */
  LINK_RAW_LT   = 101,  /* LINKTYPE_RAW, should libpcap ever pass it through */
  LINK_LOOP     = 108,  /* OpenBSD loopback: address family in network byte order */
  LINK_SLL      = 113,  /* Linux cooked capture ("any"), version 1 */
  LINK_IPV4     = 228,
  LINK_IPV6     = 229,
  LINK_SLL2     = 276,  /* Linux cooked capture, version 2 */
};

#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define ETHERTYPE_VLAN   0x8100  /* 802.1Q */
#define ETHERTYPE_QINQ   0x88a8  /* 802.1ad */
#define ETHERTYPE_QINQ_OLD 0x9100
#define IPPROTO_TCP_NUMBER 6

gboolean
pl_packet_link_type_is_supported (int link_type)
{
  switch (link_type)
    {
    case LINK_NULL: case LINK_ETHERNET: case LINK_RAW: case LINK_RAW_BSD: case LINK_RAW_LT:
    case LINK_LOOP: case LINK_SLL: case LINK_IPV4: case LINK_IPV6: case LINK_SLL2:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The bounds-checked readers: tcpdump's habit (ND_TCHECK, GET_U_1). */
static inline gboolean
have (gsize caplen,
      gsize at,
      gsize n)
{
  return at <= caplen && n <= caplen - at;
}

static inline guint16
get_u16 (const guint8 *data,
         gsize         at)
{
  return (guint16) ((data[at] << 8) | data[at + 1]);
}

static inline guint32
get_u32 (const guint8 *data,
         gsize         at)
{
  return ((guint32) data[at] << 24) | ((guint32) data[at + 1] << 16) | ((guint32) data[at + 2] << 8) | data[at + 3];
}

typedef enum {
  NET_NONE,
  NET_IPV4,
  NET_IPV6,
  NET_BY_VERSION,
} NetKind;

static NetKind
net_from_ethertype (guint16 type)
{
  switch (type)
    {
    case ETHERTYPE_IPV4: return NET_IPV4;
    case ETHERTYPE_IPV6: return NET_IPV6;
    default:             return NET_NONE;
    }
}

/* BSD address families: AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (the BSDs, macOS). */
static NetKind
net_from_family (guint32 family)
{
  switch (family)
    {
    case 2:
      return NET_IPV4;
    case 10: case 24: case 28: case 30:
      return NET_IPV6;
    default:
      return NET_NONE;
    }
}

static PlPacketResult
decode_tcp (const guint8  *data,
            gsize          caplen,
            gsize          off,
            gsize          tcp_len,
            PlTcpSegment  *segment,
            const char   **problem)
{
  gsize header_len;

  if (tcp_len < 20)
    {
      *problem = "the IP packet is too short to hold a TCP header";
      return PL_PACKET_MALFORMED;
    }
  if (!have (caplen, off, 20))
    return PL_PACKET_CUT;
  header_len = (gsize) (data[off + 12] >> 4) * 4;
  if (header_len < 20)
    {
      *problem = "the TCP header length is below the minimum of 20 octets";
      return PL_PACKET_MALFORMED;
    }
  if (header_len > tcp_len)
    {
      *problem = "the TCP header is longer than the IP packet that holds it";
      return PL_PACKET_MALFORMED;
    }
  if (!have (caplen, off, header_len))
    return PL_PACKET_CUT;

  segment->src_port = get_u16 (data, off);
  segment->dst_port = get_u16 (data, off + 2);
  segment->seq = get_u32 (data, off + 4);
  segment->ack = get_u32 (data, off + 8);
  segment->flags = data[off + 13];
  segment->payload = data + off + header_len;
  segment->payload_len = (guint32) (tcp_len - header_len);
  segment->captured_len = (guint32) MIN (tcp_len - header_len, caplen - off - header_len);
  return PL_PACKET_TCP;
}

static PlPacketResult
decode_ipv4 (const guint8  *data,
             gsize          caplen,
             gsize          len,
             gsize          off,
             PlTcpSegment  *segment,
             const char   **problem)
{
  gsize header_len, total_len, wire_left;

  if (!have (caplen, off, 20))
    return PL_PACKET_CUT;
  if ((data[off] >> 4) != 4)
    {
      *problem = "the IPv4 header does not say version 4";
      return PL_PACKET_MALFORMED;
    }
  header_len = (gsize) (data[off] & 0x0f) * 4;
  if (header_len < 20)
    {
      *problem = "the IPv4 header length is below the minimum of 20 octets";
      return PL_PACKET_MALFORMED;
    }
  if (!have (caplen, off, header_len))
    return PL_PACKET_CUT;
  if ((get_u16 (data, off + 6) & 0x3fff) != 0)
    return PL_PACKET_FRAGMENT;
  if (data[off + 9] != IPPROTO_TCP_NUMBER)
    return PL_PACKET_OTHER;

  wire_left = len > off ? len - off : 0;
  total_len = get_u16 (data, off + 2);
  /* A total length of 0 is what TCP segmentation offload leaves in captures taken on the sender. */
  if (total_len == 0)
    total_len = wire_left;
  if (total_len < header_len)
    {
      *problem = "the IPv4 total length is smaller than its header";
      return PL_PACKET_MALFORMED;
    }
  /* Ethernet pads short frames: the IP length, not the frame's, says where the packet ends. */
  total_len = MIN (total_len, MAX (wire_left, caplen - off));

  segment->family = 4;
  memcpy (segment->src, data + off + 12, 4);
  memcpy (segment->dst, data + off + 16, 4);
  return decode_tcp (data, caplen, off + header_len, total_len - header_len, segment, problem);
}

static PlPacketResult
decode_ipv6 (const guint8  *data,
             gsize          caplen,
             gsize          len,
             gsize          off,
             PlTcpSegment  *segment,
             const char   **problem)
{
  gsize payload_len, wire_left;
  guint8 next;

  if (!have (caplen, off, 40))
    return PL_PACKET_CUT;
  if ((data[off] >> 4) != 6)
    {
      *problem = "the IPv6 header does not say version 6";
      return PL_PACKET_MALFORMED;
    }
  payload_len = get_u16 (data, off + 4);
  next = data[off + 6];
  wire_left = len > off + 40 ? len - off - 40 : 0;
  if (payload_len == 0)            /* a jumbogram, or segmentation offload */
    payload_len = wire_left;
  payload_len = MIN (payload_len, MAX (wire_left, caplen - off - 40));

  segment->family = 6;
  memcpy (segment->src, data + off + 8, 16);
  memcpy (segment->dst, data + off + 24, 16);
  off += 40;

  /* RFC 8200 section 4: walk the extension headers to the upper layer. */
  for (;;)
    {
      gsize ext_len;

      switch (next)
        {
        case IPPROTO_TCP_NUMBER:
          return decode_tcp (data, caplen, off, payload_len, segment, problem);
        case 0:    /* hop-by-hop options */
        case 43:   /* routing */
        case 60:   /* destination options */
          if (!have (caplen, off, 2))
            return PL_PACKET_CUT;
          ext_len = ((gsize) data[off + 1] + 1) * 8;
          break;
        case 51:   /* authentication header, RFC 4302 */
          if (!have (caplen, off, 2))
            return PL_PACKET_CUT;
          ext_len = ((gsize) data[off + 1] + 2) * 4;
          break;
        case 44:   /* fragment */
          if (!have (caplen, off, 8))
            return PL_PACKET_CUT;
          if ((get_u16 (data, off + 2) & 0xfff9) != 0)
            return PL_PACKET_FRAGMENT;
          ext_len = 8;
          break;
        default:
          return PL_PACKET_OTHER;
        }
      if (ext_len > payload_len)
        {
          *problem = "an IPv6 extension header runs past the end of the packet";
          return PL_PACKET_MALFORMED;
        }
      next = data[off];
      off += ext_len;
      payload_len -= ext_len;
    }
}

/* 802.1Q and 802.1ad tags from @type on (at *@off); *@net is what the last type names. FALSE when cut. */
static gboolean
skip_vlan_tags (const guint8 *data,
                gsize         caplen,
                guint16       type,
                gsize        *off,
                NetKind      *net)
{
  while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD)
    {
      if (!have (caplen, *off, 4))
        return FALSE;
      type = get_u16 (data, *off + 2);
      *off += 4;
    }
  *net = net_from_ethertype (type);
  return TRUE;
}

PlPacketResult
pl_packet_decode (int            link_type,
                  const guint8  *data,
                  gsize          caplen,
                  gsize          len,
                  PlTcpSegment  *segment,
                  const char   **problem)
{
  const char *unused = NULL;
  NetKind net = NET_NONE;
  gsize off = 0;

  g_return_val_if_fail (data != NULL || caplen == 0, PL_PACKET_OTHER);
  g_return_val_if_fail (segment != NULL, PL_PACKET_OTHER);

  if (problem == NULL)
    problem = &unused;
  *problem = NULL;
  if (len < caplen)
    len = caplen;

  switch (link_type)
    {
    case LINK_ETHERNET:
      if (!have (caplen, 0, 14))
        return PL_PACKET_CUT;
      off = 14;
      if (!skip_vlan_tags (data, caplen, get_u16 (data, 12), &off, &net))
        return PL_PACKET_CUT;
      break;
    case LINK_SLL:
      /* libpcap puts a VLAN tag it gets from the kernel back after the cooked header, as on Ethernet. */
      if (!have (caplen, 0, 16))
        return PL_PACKET_CUT;
      off = 16;
      if (!skip_vlan_tags (data, caplen, get_u16 (data, 14), &off, &net))
        return PL_PACKET_CUT;
      break;
    case LINK_SLL2:
      if (!have (caplen, 0, 20))
        return PL_PACKET_CUT;
      net = net_from_ethertype (get_u16 (data, 0));
      off = 20;
      break;
    case LINK_NULL:
      {
        guint32 family;

        if (!have (caplen, 0, 4))
          return PL_PACKET_CUT;
        /* Host byte order of the machine that captured: whichever reading is small. */
        family = (guint32) data[0] | ((guint32) data[1] << 8) | ((guint32) data[2] << 16) | ((guint32) data[3] << 24);
        if (family > 0xffff)
          family = get_u32 (data, 0);
        net = net_from_family (family);
        off = 4;
        break;
      }
    case LINK_LOOP:
      if (!have (caplen, 0, 4))
        return PL_PACKET_CUT;
      net = net_from_family (get_u32 (data, 0));
      off = 4;
      break;
    case LINK_RAW: case LINK_RAW_BSD: case LINK_RAW_LT: case LINK_IPV4: case LINK_IPV6:
      net = NET_BY_VERSION;
      break;
    default:
      return PL_PACKET_OTHER;
    }

  if (net == NET_BY_VERSION)
    {
      if (!have (caplen, off, 1))
        return PL_PACKET_CUT;
      switch (data[off] >> 4)
        {
        case 4:  net = NET_IPV4; break;
        case 6:  net = NET_IPV6; break;
        default: net = NET_NONE; break;
        }
    }
  switch (net)
    {
    case NET_IPV4:
      return decode_ipv4 (data, caplen, len, off, segment, problem);
    case NET_IPV6:
      return decode_ipv6 (data, caplen, len, off, segment, problem);
    case NET_NONE:
    case NET_BY_VERSION:
    default:
      return PL_PACKET_OTHER;
    }
}

char *
pl_endpoint_to_string (guint8        family,
                       const guint8 *address,
                       guint16       port)
{
  char text[INET6_ADDRSTRLEN];
  char digits[6];
  gsize n = sizeof digits;

  if (family != 6)
    {
      /* Dotted decimal, as inet_ntop() writes it (which takes a sprintf() an octet). */
      char *o = text;

      for (guint k = 0; k < 4; k++)
        {
          guint v = address[k];

          if (k > 0)
            *o++ = '.';
          if (v >= 100)
            *o++ = (char) ('0' + v / 100);
          if (v >= 10)
            *o++ = (char) ('0' + v / 10 % 10);
          *o++ = (char) ('0' + v % 10);
        }
      *o = '\0';
    }
  /* inet_ntop() is what g_inet_address_to_string() calls, without an object made and a printf each session. */
  else if (inet_ntop (AF_INET6, address, text, sizeof text) == NULL)
    {
      g_autoptr(GInetAddress) inet = g_inet_address_new_from_bytes (address, G_SOCKET_FAMILY_IPV6);
      g_autofree char *made = g_inet_address_to_string (inet);

      return g_strdup_printf ("[%s]:%u", made, port);
    }
  digits[--n] = '\0';
  do
    {
      digits[--n] = (char) ('0' + port % 10);
      port /= 10;
    }
  while (port > 0);
  if (family == 6)
    return g_strconcat ("[", text, "]:", digits + n, NULL);
  return g_strconcat (text, ":", digits + n, NULL);
}

char *
pl_tcp_segment_endpoint (const PlTcpSegment *segment,
                         gboolean            source)
{
  g_return_val_if_fail (segment != NULL, NULL);
  return pl_endpoint_to_string (segment->family,
                                source ? segment->src : segment->dst,
                                source ? segment->src_port : segment->dst_port);
}
