/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMaildirMaildrop: an open maildrop of a PlMaildirStore (private to src/store/). */
#pragma once

#include "pl-mail-store.h"

G_BEGIN_DECLS

/* The file, inside each user's Maildir, that sessions flock(). */
#define PL_MAILDIR_LOCK_NAME "postlab.lock"
/* Seconds after which an untouched file in tmp/ is a leftover (the Maildir spec: 36 hours). */
#define PL_MAILDIR_TMP_MAX_AGE (36 * 60 * 60)

#define PL_TYPE_MAILDIR_MAILDROP (pl_maildir_maildrop_get_type ())
G_DECLARE_FINAL_TYPE (PlMaildirMaildrop, pl_maildir_maildrop, PL, MAILDIR_MAILDROP, PlMaildrop)

/* Locks the Maildir at @maildir (which must exist) and takes a snapshot of new/ and cur/. */
PlMaildrop *pl_maildir_maildrop_open (const char  *maildir,
                                      const char  *user,
                                      GError     **error);

/* The parts of a Maildir file name ("BASE,S=..,W=..:2,FLAGS"); exposed for the unit tests. */
typedef struct {
  char    *base;      /* before the first ',' or ':': the unique name */
  char    *flags;     /* after ":2,", or NULL */
  guint64  seconds;   /* delivery time from the name, G_MAXUINT64 when absent */
  guint64  usec;      /* the M field, 0 when absent */
  guint64  counter;   /* the Q field, 0 when absent */
  gint64   vsize;     /* the W= field (size with CRLF), -1 when absent */
} PlMaildirName;

void pl_maildir_name_parse (const char    *filename,
                            PlMaildirName *name);
void pl_maildir_name_clear (PlMaildirName *name);

G_END_DECLS
