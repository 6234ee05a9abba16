/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What PlMemoryStore shares with its maildrops (private to src/store/). */
#pragma once

#include "pl-memory-store.h"

G_BEGIN_DECLS

/* One delivered message; shared (reference counted) by the store and open snapshots. */
typedef struct {
  char   *uid;
  GBytes *bytes;   /* as delivered */
  gsize   size;    /* octets once every line ends in CRLF */
} PlMemoryMessage;

PlMemoryMessage *pl_memory_message_ref   (PlMemoryMessage *message);
void             pl_memory_message_unref (PlMemoryMessage *message);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMemoryMessage, pl_memory_message_unref)

/* Called by PlMemoryMaildrop when it closes: the user's maildrop is free again. */
void     pl_memory_store_release_maildrop (PlMemoryStore    *self,
                                           const char       *user);
/* Removes @messages (compared by identity) from @user's maildrop. */
void     pl_memory_store_remove_messages  (PlMemoryStore    *self,
                                           const char       *user,
                                           PlMemoryMessage **messages,
                                           guint             n_messages);

G_END_DECLS
