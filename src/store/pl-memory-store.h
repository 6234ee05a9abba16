/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMemoryStore: a mail store held in memory, for the simulator and tests. */
#pragma once

#include "pl-mail-store.h"

G_BEGIN_DECLS

#define PL_TYPE_MEMORY_STORE (pl_memory_store_get_type ())
G_DECLARE_FINAL_TYPE (PlMemoryStore, pl_memory_store, PL, MEMORY_STORE, PlMailStore)

PlMailStore *pl_memory_store_new           (void);
/* Adds @user (or changes their password). */
void         pl_memory_store_add_user      (PlMemoryStore *self,
                                            const char    *user,
                                            const char    *password);
/* How many messages @user's maildrop holds now (0 for an unknown user). */
guint        pl_memory_store_count         (PlMemoryStore *self,
                                            const char    *user);
/*
 * The sizes of @user's messages now, in delivery order, as POP3 counts them
 * (octets with CRLF line ends, RFC 1939 section 5): a GArray of gsize, empty
 * for an unknown user. Works while a session holds the maildrop, so the
 * simulator can show what a mailbox holds after every step.
 */
GArray      *pl_memory_store_dup_sizes     (PlMemoryStore *self,
                                            const char    *user);

G_END_DECLS
