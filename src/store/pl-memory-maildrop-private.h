/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMemoryMaildrop: an open maildrop of a PlMemoryStore (private to src/store/). */
#pragma once

#include "pl-memory-store-private.h"

G_BEGIN_DECLS

#define PL_TYPE_MEMORY_MAILDROP (pl_memory_maildrop_get_type ())
G_DECLARE_FINAL_TYPE (PlMemoryMaildrop, pl_memory_maildrop, PL, MEMORY_MAILDROP, PlMaildrop)

/* Takes @messages (a snapshot, of PlMemoryMessage*) and holds @store's lock for @user until closed. */
PlMaildrop *pl_memory_maildrop_new (PlMemoryStore *store,
                                    const char    *user,
                                    GPtrArray     *messages);

G_END_DECLS
