/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What each command and reply means, with the RFC section that says so. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-explain.h"

#include <string.h>

/* One row per verb or status. Adding a protocol's explanations is adding rows. */
static const PlExplanation explanations[] = {
  /* POP3, RFC 1939 (and RFC 2449 for CAPA) */
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "USER", "names the mailbox (maildrop) to open; the password follows with PASS", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "PASS", "gives the password in the clear; on success the server locks the maildrop and the session enters the TRANSACTION state", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "APOP", "logs in with a digest of the greeting's timestamp and a shared secret, so the password never crosses the wire", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "CAPA", "asks which optional features the server supports", "RFC 2449 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "STAT", "asks how many messages the maildrop holds and their total size in octets", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "LIST", "asks for the size in octets of each message (or of one)", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "RETR", "downloads one whole message; the reply ends with a line holding a single dot", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "DELE", "marks a message as deleted; it is removed only when the session ends with QUIT", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "NOOP", "does nothing but check that the server is still there", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "RSET", "unmarks every message marked deleted in this session", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "TOP",  "downloads a message's headers and its first lines of body", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "UIDL", "asks for each message's unique id, so a client that keeps mail on the server knows what it has already seen", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "QUIT", "ends the session; in TRANSACTION the server now removes the messages marked deleted (the UPDATE state)", "RFC 1939 section 6" },
  { PL_PROTOCOL_POP3, PL_DIR_SERVER, "+OK",  "positive status: the command worked", "RFC 1939 section 3" },
  { PL_PROTOCOL_POP3, PL_DIR_SERVER, "-ERR", "negative status: the command failed, the text says why", "RFC 1939 section 3" },
};

/*
 * pl_explain:
 * Looks up what @key means. For replies a status is tried whole ("250"),
 * then by its first digit ("2"), so classes of codes can be explained once.
 * Returns a static row, or NULL when nothing is known.
 */
const PlExplanation *
pl_explain (PlProtocol  protocol,
            PlDirection dir,
            const char *key)
{
  if (key == NULL || key[0] == '\0')
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (explanations); i++)
    {
      const PlExplanation *row = &explanations[i];
      if (row->protocol == protocol && row->dir == dir && g_ascii_strcasecmp (row->key, key) == 0)
        return row;
    }
  if (dir == PL_DIR_SERVER && g_ascii_isdigit (key[0]) && key[1] != '\0')
    {
      char first[2] = { key[0], '\0' };
      return pl_explain (protocol, dir, first);
    }
  return NULL;
}

const PlExplanation *
pl_explain_event (PlProtocol     protocol,
                  const PlEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);

  switch (event->kind)
    {
    case PL_EVENT_COMMAND:
      return pl_explain (protocol, PL_DIR_CLIENT, event->verb);
    case PL_EVENT_REPLY:
      return pl_explain (protocol, PL_DIR_SERVER, event->status);
    case PL_EVENT_DATA:
    case PL_EVENT_NOTE:
    default:
      return NULL;
    }
}
