/* SPDX-License-Identifier: GPL-3.0-or-later */
/* String forms of the model's enumerations, as the JSON Lines format spells them. */
#include "pl-types.h"

#include <string.h>

static const char *const protocol_names[] = {
  [PL_PROTOCOL_UNKNOWN] = "unknown",
  [PL_PROTOCOL_SMTP]    = "smtp",
  [PL_PROTOCOL_POP3]    = "pop3",
  [PL_PROTOCOL_IMAP]    = "imap",
  [PL_PROTOCOL_HTTP]    = "http",
};

const char *
pl_protocol_to_string (PlProtocol protocol)
{
  if ((guint) protocol >= G_N_ELEMENTS (protocol_names))
    return "unknown";
  return protocol_names[protocol];
}

PlProtocol
pl_protocol_from_string (const char *name)
{
  g_return_val_if_fail (name != NULL, PL_PROTOCOL_UNKNOWN);

  for (guint i = 0; i < G_N_ELEMENTS (protocol_names); i++)
    if (g_ascii_strcasecmp (name, protocol_names[i]) == 0)
      return (PlProtocol) i;
  return PL_PROTOCOL_UNKNOWN;
}

const char *
pl_event_kind_to_string (PlEventKind kind)
{
  switch (kind)
    {
    case PL_EVENT_COMMAND: return "command";
    case PL_EVENT_REPLY:   return "reply";
    case PL_EVENT_DATA:    return "data";
    case PL_EVENT_NOTE:    return "note";
    default:               return "unknown";
    }
}

const char *
pl_host_role_to_string (PlHostRole role)
{
  switch (role)
    {
    case PL_ROLE_USER_AGENT:       return "user-agent";
    case PL_ROLE_SENDING_SERVER:   return "sending-server";
    case PL_ROLE_RECEIVING_SERVER: return "receiving-server";
    case PL_ROLE_UNKNOWN:
    default:                       return "unknown";
    }
}

const char *
pl_hop_to_string (PlHop hop)
{
  switch (hop)
    {
    case PL_HOP_SUBMISSION: return "submission";
    case PL_HOP_RELAY:      return "relay";
    case PL_HOP_ACCESS:     return "access";
    case PL_HOP_UNKNOWN:
    default:                return "unknown";
    }
}
