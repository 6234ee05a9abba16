/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlQueue: a sending server's mail queue on disk, each message with its envelope, durable like delivery. */
#pragma once

#include <glib-object.h>

#include "pl-mail-store.h"

G_BEGIN_DECLS

/* One recipient still waiting for the message. */
typedef struct {
  char *address;     /* "bob@b.example" */
  char *last_error;  /* why the last try failed for it ("451 4.3.0 ..."), or NULL */
} PlQueueRecipient;

/*
 * A queued message: its envelope (RFC 5321 2.3.1) and what the queue knows
 * of its tries. The relay changes the fields and writes them back with
 * pl_queue_update(); the message itself never changes.
 */
typedef struct {
  /*< private >*/
  gint        ref_count;
  /*< public >*/
  char       *id;            /* the file's name, and the id in this hop's Received: header */
  char       *sender;        /* the envelope sender; "" for the null sender of a bounce */
  GPtrArray  *recipients;    /* of PlQueueRecipient*: those not yet delivered or bounced */
  gint64      queued_time;   /* µs since the epoch */
  guint       attempts;      /* tries that did not deliver to everyone */
  gint64      next_attempt;  /* µs since the epoch; 0: as soon as possible */
  char       *last_error;    /* why the last try failed, or NULL */
  GBytes     *message;       /* CRLF line ends, with this hop's Received: header */
} PlQueueEntry;

#define PL_TYPE_QUEUE_ENTRY (pl_queue_entry_get_type ())
GType         pl_queue_entry_get_type          (void) G_GNUC_CONST;
PlQueueEntry *pl_queue_entry_ref               (PlQueueEntry *entry);
void          pl_queue_entry_unref             (PlQueueEntry *entry);
/* Adds @address (not yet listed) to the recipients. */
void          pl_queue_entry_add_recipient     (PlQueueEntry *entry,
                                                const char   *address);
/* The recipient @address, or NULL. */
PlQueueRecipient *pl_queue_entry_find_recipient (PlQueueEntry *entry,
                                                 const char   *address);
/* Removes @address from the recipients; FALSE when it was not there. */
gboolean      pl_queue_entry_remove_recipient  (PlQueueEntry *entry,
                                                const char   *address);
/* Sets a recipient's last error (one line; control characters become spaces). */
void          pl_queue_entry_set_recipient_error (PlQueueEntry *entry,
                                                  const char   *address,
                                                  const char   *reason);
void          pl_queue_entry_set_last_error    (PlQueueEntry *entry,
                                                const char   *reason);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlQueueEntry, pl_queue_entry_unref)

#define PL_TYPE_QUEUE (pl_queue_get_type ())
G_DECLARE_FINAL_TYPE (PlQueue, pl_queue, PL, QUEUE, GObject)

/*
 * pl_queue_new:
 * Opens the queue in @folder, creating it when needed:
 *   FOLDER/tmp/        files being written; left over only by a crash
 *   FOLDER/messages/   one file per queued message: its envelope, a blank line, the message
 *   FOLDER/lock        held (flock) while the queue is open
 * One program at a time: a queue another program holds open fails with
 * PL_STORE_ERROR_LOCKED (two relays working one queue would send each
 * message twice). Files left in tmp/ by a crash are partial by
 * definition (nothing in tmp/ was ever acknowledged) and are removed.
 */
PlQueue      *pl_queue_new                     (const char    *folder,
                                                GError       **error);
const char   *pl_queue_get_folder              (PlQueue       *self);
/* How many partial files pl_queue_new() found in tmp/ and removed. */
guint         pl_queue_get_n_cleaned           (PlQueue       *self);

/*
 * pl_queue_add:
 * Queues @message for @recipients (at least one) from @sender ("" for the
 * null sender), durably, the way Maildir delivers (RFC 5321 4.5.4.1, 6.1:
 * a 250 after DATA is a promise): written to tmp/, fsynced, renamed into
 * messages/, and messages/ fsynced. Only when this returns may the server
 * answer 250. @id names the file (letters, digits, '.', '_', '-'); NULL,
 * or an id already queued, gets a new one from pl_queue_make_id(). @now is
 * the queued time (µs since the epoch); the first try is due at once.
 * Returns the new entry, or NULL with PL_STORE_ERROR_IO (nothing is left
 * behind then).
 */
PlQueueEntry *pl_queue_add                     (PlQueue            *self,
                                                const char         *id,
                                                const char         *sender,
                                                const char *const  *recipients,
                                                GBytes             *message,
                                                gint64              now,
                                                GError            **error);
/*
 * pl_queue_update:
 * Writes @entry's envelope (recipients, tries, errors) back, atomically:
 * a new file, fsynced, renamed over the old one, the folder fsynced. A
 * crash leaves the old envelope or the new one, never a mix. An entry
 * without recipients is removed instead.
 */
gboolean      pl_queue_update                  (PlQueue       *self,
                                                PlQueueEntry  *entry,
                                                GError       **error);
/*
 * pl_queue_remove:
 * Takes @entry out of the queue for good (unlink, folder fsynced): call it
 * only once the next hop said 250 for every recipient, or the message was
 * bounced.
 */
gboolean      pl_queue_remove                  (PlQueue       *self,
                                                PlQueueEntry  *entry,
                                                GError       **error);
/*
 * pl_queue_list:
 * Reads every queued message, oldest first (a restart picks them up here).
 * A file that cannot be read as an entry (edited by hand?) is skipped with a
 * warning and left where it is. Returns an array of PlQueueEntry*, or NULL
 * with PL_STORE_ERROR_IO when the folder cannot be read.
 */
GPtrArray    *pl_queue_list                    (PlQueue       *self,
                                                GError       **error);
/*
 * pl_queue_read_entry:
 * Reads one queue file (for pl_queue_list(), and tests). Fails with
 * PL_STORE_ERROR_INVALID naming the file and line when it is not an entry.
 */
PlQueueEntry *pl_queue_read_entry              (const char    *path,
                                                GError       **error);

/*
 * A new message id: unique across restarts and servers of one machine
 * (the time in µs, a process counter), printable, usable as a file name,
 * and growing with time, so that the queue's files list in order.
 */
char         *pl_queue_make_id                 (void);

G_END_DECLS
