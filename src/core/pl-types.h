/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The enumerations shared by every layer of Postlab's model. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PL_PROTOCOL_UNKNOWN = 0,
  PL_PROTOCOL_SMTP,
  PL_PROTOCOL_POP3,
  PL_PROTOCOL_IMAP,
  PL_PROTOCOL_HTTP,
} PlProtocol;

/* Who sent the octets of an event. Notes have no direction. */
typedef enum {
  PL_DIR_NONE   = 0,
  PL_DIR_CLIENT = 'C',
  PL_DIR_SERVER = 'S',
} PlDirection;

typedef enum {
  PL_EVENT_COMMAND = 0,  /* a client command line (with its literals) */
  PL_EVENT_REPLY,        /* a whole server reply, multi-line bodies included */
  PL_EVENT_DATA,         /* message content sent by the client (SMTP DATA) */
  PL_EVENT_NOTE,         /* something about the session: a gap, a discarded line */
} PlEventKind;

typedef enum {
  PL_ROLE_UNKNOWN = 0,
  PL_ROLE_USER_AGENT,
  PL_ROLE_SENDING_SERVER,
  PL_ROLE_RECEIVING_SERVER,
} PlHostRole;

/* Which hop of the mail path a session is. */
typedef enum {
  PL_HOP_UNKNOWN = 0,
  PL_HOP_SUBMISSION,  /* user agent to its own server (SMTP push) */
  PL_HOP_RELAY,       /* sending server to receiving server (SMTP push) */
  PL_HOP_ACCESS,      /* user agent pulls from its server (POP3/IMAP/HTTP) */
} PlHop;

const char  *pl_protocol_to_string   (PlProtocol   protocol);
PlProtocol   pl_protocol_from_string (const char  *name);
const char  *pl_event_kind_to_string (PlEventKind  kind);
const char  *pl_host_role_to_string  (PlHostRole   role);
const char  *pl_hop_to_string        (PlHop        hop);

G_END_DECLS
