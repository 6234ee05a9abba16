/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Message headers as GMime parses them (RFC 5322), for the places that need them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *from;        /* decoded, UTF-8, or NULL */
  char *to;
  char *subject;
  char *date;        /* as written */
  char *message_id;
  GPtrArray *received;  /* of char*: the Received: headers, top (last hop) first */
} PlMessageSummary;

/* Parses the header of @message (CRLF or LF line ends). Never fails: missing headers are NULL. */
PlMessageSummary *pl_message_summary_parse (GBytes           *message);
void              pl_message_summary_free  (PlMessageSummary *summary);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMessageSummary, pl_message_summary_free)

G_END_DECLS
