/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The message an event carries (SMTP DATA, a POP3 RETR or TOP reply), taken off the wire as the receiver reads it. */
#pragma once

#include "pl-event.h"

G_BEGIN_DECLS

/* Cheap: whether @event carries a whole message, for the picture's envelope. */
gboolean  pl_event_carries_message  (PlEvent    *event,
                                     PlProtocol  protocol);
/*
 * The message @event carries, as its receiver stores it: the terminating
 * "." line removed and dot-stuffing undone (RFC 5321 4.5.2, RFC 1939
 * section 3), and for POP3 the status line removed. NULL when it carries
 * none.
 */
GBytes   *pl_event_dup_message      (PlEvent    *event,
                                     PlProtocol  protocol);

G_END_DECLS
