/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMaildirStore: a mail store on disk, one Maildir per user, users in a users file. */
#pragma once

#include "pl-mail-store.h"

G_BEGIN_DECLS

#define PL_TYPE_MAILDIR_STORE (pl_maildir_store_get_type ())
G_DECLARE_FINAL_TYPE (PlMaildirStore, pl_maildir_store, PL, MAILDIR_STORE, PlMailStore)

/*
 * pl_maildir_store_new:
 * Opens the store at @root, creating the folder if needed:
 *   ROOT/users             "user:password" lines, '#' comments
 *   ROOT/mail/USER/{tmp,new,cur}   each user's Maildir
 * A users file that cannot be read fails with PL_STORE_ERROR_INVALID naming
 * the file and line.
 */
PlMailStore *pl_maildir_store_new         (const char     *root,
                                           GError        **error);
const char  *pl_maildir_store_get_root    (PlMaildirStore *self);
/* TRUE when the store has no users yet (a new data folder, to be seeded). */
gboolean     pl_maildir_store_is_empty    (PlMaildirStore *self);
/*
 * Adds @user to the users file (durably: a new file, fsynced, renamed over
 * the old one), or changes an existing user's password, and creates their
 * Maildir. A name other than letters, digits, '.', '_', '-' (not starting
 * with '.') fails with PL_STORE_ERROR_INVALID, so none can leave ROOT/mail.
 */
gboolean     pl_maildir_store_add_user    (PlMaildirStore *self,
                                           const char     *user,
                                           const char     *password,
                                           GError        **error);
/* The path of @user's Maildir (ROOT/mail/USER), or NULL when @user is not a valid name. */
char        *pl_maildir_store_dup_maildir (PlMaildirStore *self,
                                           const char     *user);

G_END_DECLS
