/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a mail server writes into messages: dates, message ids, the headers a submission lacks, bounces. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 5322 3.3 date-time, "Mon, 14 Apr 2025 11:02:17 +0000": English names whatever the locale. */
char    *pl_rfc5322_date         (GDateTime          *when);

/*
 * pl_submission_complete:
 * RFC 6409 section 8.2 and 8.3: a submission server adds Date: and
 * Message-ID: to a message that lacks them (an MTA relaying mail must not,
 * RFC 5321 6.4). @message has CRLF line ends, perhaps with Received: lines
 * in front; the new fields go at the end of its header. The Message-ID is
 * "<@id@@hostname>". Returns the message to store (a new reference of
 * @message when nothing was missing); @added, when not NULL, receives
 * "Date, Message-ID" (what was added) or NULL.
 */
GBytes  *pl_submission_complete  (GBytes             *message,
                                  GDateTime          *now,
                                  const char         *id,
                                  const char         *hostname,
                                  char              **added);

/* The header of @message (CRLF line ends), up to and without the empty line that ends it; at most @max octets. */
char    *pl_message_dup_header   (GBytes             *message,
                                  gsize               max);

/* One recipient of a bounce and why the message did not reach it. */
typedef struct {
  const char *address;  /* "nobody@b.example" */
  const char *reason;   /* "mail.b.example (127.0.0.1:2526) said: 550 5.1.1 <nobody@b.example>: unknown user" */
} PlBounceRecipient;

/*
 * pl_bounce_compose:
 * A delivery status report for @sender about @original (RFC 3464 in spirit,
 * written as one plain-text part a student reads without tools): from
 * MAILER-DAEMON@@hostname, saying which recipients failed and what the
 * other server said, @explanation (why the mail system gave up), and the
 * original's headers. It is marked Auto-Submitted (RFC 3834) and goes out
 * with the null sender, so it is never bounced itself (RFC 5321 6.2).
 * @id makes its Message-ID.
 */
GBytes  *pl_bounce_compose       (const char              *hostname,
                                  const char              *sender,
                                  const PlBounceRecipient *recipients,
                                  guint                    n_recipients,
                                  const char              *explanation,
                                  GBytes                  *original,
                                  const char              *original_id,
                                  GDateTime               *now,
                                  const char              *id);

G_END_DECLS
