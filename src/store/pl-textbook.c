/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The textbook's mailbox: bob, password hungry, two messages of 498 and 912 octets. */
#define G_LOG_DOMAIN "postlab-store"

#include "pl-textbook.h"
#include "pl-maildir-store.h"
#include "pl-memory-store.h"


/*
 * Kurose & Ross draw a POP3 session in which Bob's maildrop holds two
 * messages, listed as "1 498" and "2 912". These two are worded to be
 * exactly that long with CRLF line ends (the unit tests check it), so the
 * figure comes out octet for octet. The second has a body line starting
 * with '.', so that RETR shows dot-stuffing (RFC 1939 section 3).
 */
static const char textbook_message_1[] =
  "Date: Mon, 14 Apr 2025 11:02:17 +0000\r\n"
  "From: Alice <alice@a.example>\r\n"
  "To: Bob <bob@b.example>\r\n"
  "Subject: Hungry?\r\n"
  "Message-ID: <20250414110217.4711@a.example>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=us-ascii\r\n"
  "\r\n"
  "Hi Bob,\r\n"
  "\r\n"
  "Are you hungry? I am! Shall we meet for lunch at noon at\r\n"
  "the noodle bar next to the library? They have a new menu.\r\n"
  "\r\n"
  "I'll bring the networking book so we can go over\r\n"
  "chapter 2 while we eat. Bring your appetite.\r\n"
  "\r\n"
  "Alice\r\n"
  "\r\n"
  "P.S. Their ramen's half price today.\r\n";

static const char textbook_message_2[] =
  "Date: Mon, 14 Apr 2025 11:20:45 +0000\r\n"
  "From: Alice <alice@a.example>\r\n"
  "To: Bob <bob@b.example>\r\n"
  "Subject: Lunch plan, step by step\r\n"
  "Message-ID: <20250414112045.4712@a.example>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=us-ascii\r\n"
  "\r\n"
  "Hi again Bob,\r\n"
  "\r\n"
  "I booked a table for two at the noodle bar, 12:00.\r\n"
  "\r\n"
  "1. You leave the lab at 11:50 and walk over.\r\n"
  "2. I order dumplings the moment I sit down.\r\n"
  "3. We both pretend we have read chapter 2.\r\n"
  ".. and that's the plan. (Yes, that line starts with a dot.\r\n"
  "When your user agent fetches this by POP3, the server sends\r\n"
  "it with one more dot in front and the client takes that dot\r\n"
  "away again: the book calls it byte-stuffing.)\r\n"
  "\r\n"
  "This message went from my user agent to my mail server by\r\n"
  "SMTP, then from my server to yours by SMTP, and now your\r\n"
  "user agent pulls it down with POP3. Push, push, pull: just\r\n"
  "like the picture in the book.\r\n"
  "\r\n"
  "See you at noon!\r\n"
  "Alice\r\n";

G_STATIC_ASSERT (sizeof textbook_message_1 - 1 == 498);
G_STATIC_ASSERT (sizeof textbook_message_2 - 1 == 912);

/* The n-th textbook message (0 or 1), CRLF line ends: exactly 498 and 912 octets. */
GBytes *
pl_textbook_message (guint index)
{
  g_return_val_if_fail (index < PL_TEXTBOOK_N_MESSAGES, NULL);

  if (index == 0)
    return g_bytes_new_static (textbook_message_1, sizeof textbook_message_1 - 1);
  return g_bytes_new_static (textbook_message_2, sizeof textbook_message_2 - 1);
}

static gboolean
ensure_textbook_user (PlMailStore  *store,
                      GError      **error)
{
  if (pl_mail_store_has_user (store, PL_TEXTBOOK_USER))
    return TRUE;

  if (PL_IS_MAILDIR_STORE (store))
    return pl_maildir_store_add_user (PL_MAILDIR_STORE (store), PL_TEXTBOOK_USER,
                                      PL_TEXTBOOK_PASSWORD, error);
  if (PL_IS_MEMORY_STORE (store))
    {
      pl_memory_store_add_user (PL_MEMORY_STORE (store), PL_TEXTBOOK_USER,
                                PL_TEXTBOOK_PASSWORD);
      return TRUE;
    }

  g_set_error (error, PL_STORE_ERROR, PL_STORE_ERROR_NO_SUCH_USER,
               "No user %s, and a %s cannot add one", PL_TEXTBOOK_USER,
               G_OBJECT_TYPE_NAME (store));
  return FALSE;
}

/*
 * pl_textbook_seed:
 * Adds user bob (password hungry) to @store when it has no such user (an
 * existing bob keeps his password), then delivers the two textbook messages
 * into his maildrop, in order, each durably.
 */
gboolean
pl_textbook_seed (PlMailStore  *store,
                  GError      **error)
{
  g_return_val_if_fail (PL_IS_MAIL_STORE (store), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!ensure_textbook_user (store, error))
    return FALSE;

  for (guint i = 0; i < PL_TEXTBOOK_N_MESSAGES; i++)
    {
      g_autoptr(GBytes) message = pl_textbook_message (i);
      gsize len;
      const guint8 *data = g_bytes_get_data (message, &len);

      if (!pl_mail_store_deliver (store, PL_TEXTBOOK_USER, data, len, error))
        return FALSE;
    }
  return TRUE;
}
