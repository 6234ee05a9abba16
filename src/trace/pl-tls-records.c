/* SPDX-License-Identifier: GPL-3.0-or-later */
/* TLS records (RFC 8446 section 5.1, RFC 5246 section 6.2) shown by type and size once a connection is encrypted. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-dissector-private.h"

#define RECORD_HEADER 5
/* RFC 8446 section 5.2: a TLSCiphertext fragment is at most 2^14 + 256 octets; TLS 1.2 allowed 2^14 + 2048. */
#define MAX_RECORD    (16384 + 2048)

enum {
  TLS_CHANGE_CIPHER_SPEC = 20,
  TLS_ALERT              = 21,
  TLS_HANDSHAKE          = 22,
  TLS_APPLICATION_DATA   = 23,
  TLS_HEARTBEAT          = 24,
};

static gboolean
header_is_plausible (guint8 type,
                     guint8 major,
                     guint8 minor)
{
  return type >= TLS_CHANGE_CIPHER_SPEC && type <= TLS_HEARTBEAT && major == 3 && minor <= 4;
}

gboolean
pl_tls_looks_like_record (const PlStream *s)
{
  gsize avail = s->chunk_len - s->pos;
  const guint8 *p = s->chunk + s->pos;

  if (avail == 0)
    return FALSE;
  if (p[0] < TLS_CHANGE_CIPHER_SPEC || p[0] > TLS_HEARTBEAT)
    return FALSE;
  return avail < 2 || p[1] == 3;
}

static const char *
handshake_name (guint8 type)
{
  /* RFC 8446 section 4 and RFC 5246 section 7.4. */
  switch (type)
    {
    case 0:  return "HelloRequest";
    case 1:  return "ClientHello";
    case 2:  return "ServerHello";
    case 4:  return "NewSessionTicket";
    case 8:  return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    default: return NULL;
    }
}

static char *
describe_record (PlStream *s,
                 gsize     len)
{
  guint8 type = pl_stream_unit_byte (s, 0);
  const char *what;
  g_autofree char *detail = NULL;

  switch (type)
    {
    case TLS_CHANGE_CIPHER_SPEC:
      what = "change cipher spec";
      break;
    case TLS_ALERT:
      what = "alert";
      if (s->tls_cipher)
        detail = g_strdup ("encrypted");
      break;
    case TLS_HANDSHAKE:
      what = "handshake";
      if (s->tls_cipher)
        detail = g_strdup ("encrypted");
      else if (len > RECORD_HEADER)
        {
          const char *name = handshake_name (pl_stream_unit_byte (s, RECORD_HEADER));
          detail = g_strdup (name != NULL ? name : "encrypted");
        }
      break;
    case TLS_APPLICATION_DATA:
      what = "application data";
      detail = g_strdup ("encrypted");
      break;
    case TLS_HEARTBEAT:
    default:
      what = "heartbeat";
      break;
    }
  if (detail != NULL)
    return g_strdup_printf ("TLS %s record (%s), %" G_GSIZE_FORMAT " octets", what, detail, len);
  return g_strdup_printf ("TLS %s record, %" G_GSIZE_FORMAT " octet%s", what, len, len == 1 ? "" : "s");
}

static void
emit_record (PlDissector *self,
             PlStream    *s)
{
  gsize len = pl_stream_unit_len (s);
  char *text = describe_record (s, len);
  gboolean ccs = pl_stream_unit_byte (s, 0) == TLS_CHANGE_CIPHER_SPEC;

  pl_dissector_emit (self, s, pl_stream_take_event_with_text (s, PL_EVENT_DATA, text));
  if (ccs)
    s->tls_cipher = TRUE;
}

static void
lose_sync (PlDissector *self,
           PlStream    *s)
{
  gsize len;
  PlEvent *event;

  pl_stream_take_all (s);
  len = pl_stream_unit_len (s);
  event = pl_stream_take_event_with_text (s, PL_EVENT_DATA,
                                          g_strdup_printf ("%" G_GSIZE_FORMAT " octets that are not a TLS record", len));
  pl_dissector_emit (self, s, event);
  s->opaque = TRUE;
}

void
pl_tls_parse (PlDissector *self,
              PlStream    *s)
{
  gsize have, total;

  if (s->tls_tail > 0)
    {
      /* The rest of a record whose middle a gap took. */
      gsize k = pl_stream_take (s, s->tls_tail);
      s->tls_tail -= k;
      if (s->tls_tail == 0)
        {
          gsize len = pl_stream_unit_len (s);
          char *text = g_strdup_printf ("the rest of a TLS record, %" G_GSIZE_FORMAT " octets", len);

          pl_dissector_emit (self, s, pl_stream_take_event_with_text (s, PL_EVENT_DATA, text));
        }
      return;
    }

  have = pl_stream_unit_len (s);
  if (have < RECORD_HEADER)
    {
      pl_stream_take (s, RECORD_HEADER - have);
      if (pl_stream_unit_len (s) < RECORD_HEADER)
        return;
    }
  if (!header_is_plausible (pl_stream_unit_byte (s, 0), pl_stream_unit_byte (s, 1), pl_stream_unit_byte (s, 2)))
    {
      lose_sync (self, s);
      return;
    }
  total = RECORD_HEADER + (((gsize) pl_stream_unit_byte (s, 3) << 8) | pl_stream_unit_byte (s, 4));
  if (total > RECORD_HEADER + MAX_RECORD)
    {
      lose_sync (self, s);
      return;
    }
  have = pl_stream_unit_len (s);
  if (have < total)
    pl_stream_take (s, total - have);
  if (pl_stream_unit_len (s) == total)
    emit_record (self, s);
}

void
pl_tls_flush (PlDissector *self,
              PlStream    *s)
{
  gsize len = pl_stream_unit_len (s);
  PlEvent *event;

  if (len == 0)
    return;
  event = pl_stream_take_event_with_text (s, PL_EVENT_DATA,
                                          g_strdup_printf ("part of a TLS record, %" G_GSIZE_FORMAT " octet%s",
                                                           len, len == 1 ? "" : "s"));
  pl_dissector_emit (self, s, event);
}

void
pl_tls_gap (PlDissector *self,
            PlStream    *s,
            guint64      missing)
{
  gsize have = pl_stream_unit_len (s);
  guint64 rest = 0;
  gboolean in_sync = FALSE;

  if (s->tls_tail > 0)
    {
      in_sync = missing <= s->tls_tail;
      rest = in_sync ? s->tls_tail - missing : 0;
    }
  else if (have >= RECORD_HEADER)
    {
      gsize total = RECORD_HEADER + (((gsize) pl_stream_unit_byte (s, 3) << 8) | pl_stream_unit_byte (s, 4));
      in_sync = have + missing <= total;
      rest = in_sync ? total - have - missing : 0;
    }
  pl_tls_flush (self, s);
  pl_dissector_note (self, s->time, "missing %" G_GUINT64_FORMAT " byte%s (%s)", missing,
                     missing == 1 ? "" : "s", pl_direction_describe (s->dir));
  /* A gap inside a record whose length is known keeps the records in step; any other loses them. */
  s->tls_tail = rest;
  if (!in_sync)
    s->opaque = TRUE;
}
