/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The textbook's mailbox: bob, password hungry, two messages of 498 and 912 octets. */
#pragma once

#include "pl-mail-store.h"

G_BEGIN_DECLS

#define PL_TEXTBOOK_USER     "bob"
#define PL_TEXTBOOK_PASSWORD "hungry"
#define PL_TEXTBOOK_N_MESSAGES 2

/* The n-th textbook message (0 or 1), CRLF line ends: exactly 498 and 912 octets. */
GBytes   *pl_textbook_message (guint         index);
/*
 * Adds user bob (password hungry) to @store, when it has no such user, and
 * delivers the two textbook messages into his maildrop.
 */
gboolean  pl_textbook_seed    (PlMailStore  *store,
                               GError      **error);

G_END_DECLS
