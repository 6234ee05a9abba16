/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Helpers shared by the mail stores (private to src/store/). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest user name either store accepts. */
#define PL_STORE_USER_MAX 64

gboolean  pl_store_user_name_is_valid (const char *user);
gboolean  pl_store_password_equal     (const char *expected,
                                       const char *given);
char     *pl_store_uid_from_name      (const char *name);

/* Sets PL_STORE_ERROR_IO: "@what @path: <errno text>". */
void      pl_store_set_io_error       (GError    **error,
                                       int         saved_errno,
                                       const char *what,
                                       const char *path);
/* fsync() a folder, so that a rename or unlink in it survives a crash. */
gboolean  pl_store_fsync_dir          (const char *path,
                                       GError    **error);
/* write() all of @data to @fd, retrying short writes and EINTR; FALSE with errno set. */
gboolean  pl_store_write_all          (int           fd,
                                       const guint8 *data,
                                       gsize         len);

G_END_DECLS
