/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The data folder of `serve`: one folder per domain of the world, seeded from the world when new. */
#pragma once

#include "pl-mail-store.h"
#include "pl-world.h"

G_BEGIN_DECLS

/*
 * Before the world had two domains, `serve` kept b.example's store at the
 * top of the data folder (DATA/users, DATA/mail/). Such a folder is moved
 * into DATA/b.example/ the first time it is opened.
 */
#define PL_DATA_FOLDER_LEGACY_DOMAIN "b.example"

/*
 * pl_data_folder_open_domain:
 * Opens the mail store of @domain in @data_dir:
 *   DATA/DOMAIN/users              "user:password" lines
 *   DATA/DOMAIN/mail/USER/...      each user's Maildir
 *   DATA/DOMAIN/queue/...          the queue, for a sending server (pl_data_folder_dup_queue_path())
 * A store without users is new: it gets the world's users of @domain with
 * their passwords, and each user whose world entry says mailbox = textbook
 * gets the textbook's two messages. @report, when not NULL, receives a
 * sentence saying what was set up or moved, or NULL when nothing was.
 * Fails with PL_STORE_ERROR_IO or PL_STORE_ERROR_INVALID (a users file that
 * cannot be read) naming the file.
 */
PlMailStore *pl_data_folder_open_domain    (const char  *data_dir,
                                            PlWorld     *world,
                                            const char  *domain,
                                            char       **report,
                                            GError     **error);
/* DATA/DOMAIN */
char        *pl_data_folder_dup_domain_path (const char *data_dir,
                                             const char *domain);
/* DATA/DOMAIN/queue */
char        *pl_data_folder_dup_queue_path  (const char *data_dir,
                                             const char *domain);

G_END_DECLS
