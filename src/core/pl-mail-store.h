/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlMailStore and PlMaildrop: what the protocol engines ask of a mail store. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define PL_STORE_ERROR (pl_store_error_quark ())

typedef enum {
  PL_STORE_ERROR_NO_SUCH_USER,
  PL_STORE_ERROR_LOCKED,        /* another session holds the maildrop */
  PL_STORE_ERROR_NO_SUCH_MESSAGE,
  PL_STORE_ERROR_IO,            /* the disk said no; the message says what and where */
  PL_STORE_ERROR_INVALID,       /* a users file or message that cannot be read as one */
  PL_STORE_ERROR_TOO_BIG,
} PlStoreError;

GQuark pl_store_error_quark (void);

/* One message of an open maildrop, as POP3 sees it. */
typedef struct {
  gsize  size;   /* octets on the wire: CRLF line ends, before dot-stuffing */
  char  *uid;    /* unique and stable across sessions (RFC 1939 UIDL: 1-70 chars 0x21-0x7E) */
} PlMessageInfo;

#define PL_TYPE_MAILDROP (pl_maildrop_get_type ())
G_DECLARE_DERIVABLE_TYPE (PlMaildrop, pl_maildrop, PL, MAILDROP, GObject)

struct _PlMaildropClass
{
  GObjectClass parent_class;

  GBytes   *(*read)    (PlMaildrop   *self,
                        guint         index,
                        GError      **error);
  gboolean  (*expunge) (PlMaildrop   *self,
                        const guint  *indices,
                        guint         n_indices,
                        GError      **error);
  void      (*close)   (PlMaildrop   *self);
};

/*
 * A maildrop opened for one session: a snapshot of the messages that were
 * there when it was opened (RFC 1939 section 8: numbers do not change during
 * a session), held under an exclusive lock until closed or finalized.
 */
const char          *pl_maildrop_get_user         (PlMaildrop   *self);
guint                pl_maildrop_get_n_messages   (PlMaildrop   *self);
const PlMessageInfo *pl_maildrop_get_message      (PlMaildrop   *self,
                                                   guint         index);
gsize                pl_maildrop_get_total_size   (PlMaildrop   *self);
GBytes              *pl_maildrop_read             (PlMaildrop   *self,
                                                   guint         index,
                                                   GError      **error);
gboolean             pl_maildrop_expunge          (PlMaildrop   *self,
                                                   const guint  *indices,
                                                   guint         n_indices,
                                                   GError      **error);
void                 pl_maildrop_close            (PlMaildrop   *self);

/* For subclasses: set up the snapshot. Takes ownership of @uid. */
void                 pl_maildrop_set_user         (PlMaildrop   *self,
                                                   const char   *user);
void                 pl_maildrop_append_info      (PlMaildrop   *self,
                                                   gsize         size,
                                                   char         *uid);

#define PL_TYPE_MAIL_STORE (pl_mail_store_get_type ())
G_DECLARE_DERIVABLE_TYPE (PlMailStore, pl_mail_store, PL, MAIL_STORE, GObject)

struct _PlMailStoreClass
{
  GObjectClass parent_class;

  gboolean    (*has_user)       (PlMailStore   *self,
                                 const char    *user);
  gboolean    (*check_password) (PlMailStore   *self,
                                 const char    *user,
                                 const char    *password);
  PlMaildrop *(*open_maildrop)  (PlMailStore   *self,
                                 const char    *user,
                                 GError       **error);
  gboolean    (*deliver)        (PlMailStore   *self,
                                 const char    *user,
                                 const guint8  *message,
                                 gsize          len,
                                 GError       **error);
};

gboolean    pl_mail_store_has_user       (PlMailStore   *self,
                                          const char    *user);
gboolean    pl_mail_store_check_password (PlMailStore   *self,
                                          const char    *user,
                                          const char    *password);
PlMaildrop *pl_mail_store_open_maildrop  (PlMailStore   *self,
                                          const char    *user,
                                          GError       **error);
gboolean    pl_mail_store_deliver        (PlMailStore   *self,
                                          const char    *user,
                                          const guint8  *message,
                                          gsize          len,
                                          GError       **error);

gsize       pl_crlf_size                 (const guint8  *data,
                                          gsize          len);
GBytes     *pl_crlf_normalize            (const guint8  *data,
                                          gsize          len);

G_END_DECLS
