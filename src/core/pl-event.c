/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEvent: one protocol data unit of a session, with its exact octets. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-event.h"

#include <string.h>

G_DEFINE_BOXED_TYPE (PlEvent, pl_event, pl_event_ref, pl_event_unref)

/*
 * pl_event_new_take:
 * Creates an event that owns @octets (may be NULL) and @text (may be NULL, in
 * which case the display text is made from the octets). Returns a new ref.
 */
PlEvent *
pl_event_new_take (PlEventKind  kind,
                   PlDirection  dir,
                   GBytes      *octets,
                   char        *text)
{
  PlEvent *self = g_new0 (PlEvent, 1);

  self->ref_count = 1;
  self->kind = kind;
  self->dir = dir;
  self->octets = octets;
  if (text == NULL && octets != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (octets, &len);
      text = pl_display_text_from_octets (data, len, FALSE);
    }
  self->text = text != NULL ? text : g_strdup ("");
  return self;
}

/* TRUE when @p is one of the strings kept in the event's own allocation (pl_event_new_unit()). */
static inline gboolean
is_inline (const PlEvent *self,
           const char    *p)
{
  return p != NULL && (guintptr) p - (guintptr) (self + 1) < self->inline_size;
}

/* A string field's old value, freed unless the event's allocation holds it. */
static void
free_field (PlEvent *self,
            char    *p)
{
  if (!is_inline (self, p))
    g_free (p);
}

/*
 * pl_event_new_unit:
 * What pl_event_new() and the setters make, for an engine that sends or
 * reads a unit: @text (taken; NULL: made from the octets), @status, @verb
 * (upper-cased) and @args (each may be NULL) as pl_event_take_text(),
 * pl_event_set_status() and pl_event_set_verb() set them. The octets and
 * the strings share the event's allocation: a simulation makes a million
 * events a second, and every allocation a trace keeps costs time and
 * memory. The setters may still replace any field.
 *
 * @octets is then a GBytes over the event's own memory that frees it: the
 * event holds that GBytes until its last unref, so whoever takes a ref on
 * the GBytes keeps the octets (and only the memory) alive after the event.
 */
PlEvent *
pl_event_new_unit (PlEventKind   kind,
                   PlDirection   dir,
                   const guint8 *octets,
                   gsize         len,
                   char         *text,
                   const char   *status,
                   const char   *verb,
                   const char   *args)
{
  g_autofree char *shown = NULL;
  gsize text_size;
  gsize status_size = status != NULL ? strlen (status) + 1 : 0;
  gsize verb_size = verb != NULL ? strlen (verb) + 1 : 0;
  gsize args_size = args != NULL ? strlen (args) + 1 : 0;
  gsize extra;
  PlEvent *self;
  char *p;

  g_return_val_if_fail (octets != NULL || len == 0, NULL);

  shown = text != NULL ? text : pl_display_text_from_octets (octets, len, FALSE);
  text_size = strlen (shown) + 1;
  extra = len + text_size + status_size + verb_size + args_size;
  g_return_val_if_fail (extra <= G_MAXUINT, NULL);

  self = g_malloc (sizeof (PlEvent) + extra);
  memset (self, 0, sizeof (PlEvent));
  self->ref_count = 1;
  self->inline_size = (guint) extra;
  self->kind = kind;
  self->dir = dir;

  p = (char *) (self + 1);
  if (len > 0)
    memcpy (p, octets, len);
  self->octets = g_bytes_new_with_free_func (p, len, g_free, self);
  p += len;
  memcpy (p, shown, text_size);
  self->text = p;
  p += text_size;
  if (status != NULL)
    {
      memcpy (p, status, status_size);
      self->status = p;
      p += status_size;
    }
  if (verb != NULL)
    {
      for (gsize i = 0; i < verb_size; i++)
        p[i] = g_ascii_toupper (verb[i]);
      self->verb = p;
      p += verb_size;
    }
  if (args != NULL)
    {
      memcpy (p, args, args_size);
      self->args = p;
    }
  return self;
}

/*
 * pl_event_new:
 * Creates an event holding a copy of @len octets at @octets, with a display
 * text made from them (line ends removed, lines joined by '\n').
 */
PlEvent *
pl_event_new (PlEventKind   kind,
              PlDirection   dir,
              const guint8 *octets,
              gsize         len)
{
  return pl_event_new_take (kind, dir, g_bytes_new (octets, len), NULL);
}

PlEvent *
pl_event_new_note (const char *format,
                   ...)
{
  va_list args;
  char *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  return pl_event_new_take (PL_EVENT_NOTE, PL_DIR_NONE, NULL, text);
}

PlEvent *
pl_event_ref (PlEvent *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pl_event_unref (PlEvent *self)
{
  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  free_field (self, self->text);
  free_field (self, self->verb);
  free_field (self, self->args);
  free_field (self, self->tag);
  free_field (self, self->status);
  /* An event of pl_event_new_unit() lives in its octets' memory: their GBytes frees it, last. */
  if (self->inline_size > 0)
    {
      g_bytes_unref (self->octets);
      return;
    }
  g_clear_pointer (&self->octets, g_bytes_unref);
  g_free (self);
}

void
pl_event_set_verb (PlEvent    *self,
                   const char *verb,
                   const char *args)
{
  g_return_if_fail (self != NULL);
  free_field (self, self->verb);
  free_field (self, self->args);
  self->verb = verb != NULL ? g_ascii_strup (verb, -1) : NULL;
  self->args = g_strdup (args);
}

void
pl_event_set_status (PlEvent    *self,
                     const char *status)
{
  g_return_if_fail (self != NULL);
  free_field (self, self->status);
  self->status = g_strdup (status);
}

void
pl_event_set_tag (PlEvent    *self,
                  const char *tag)
{
  g_return_if_fail (self != NULL);
  free_field (self, self->tag);
  self->tag = g_strdup (tag);
}

void
pl_event_take_text (PlEvent *self,
                    char    *text)
{
  g_return_if_fail (self != NULL);
  free_field (self, self->text);
  self->text = text != NULL ? text : g_strdup ("");
}

const guint8 *
pl_event_get_data (const PlEvent *self,
                   gsize         *len)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (self->octets == NULL)
    {
      *len = 0;
      return NULL;
    }
  return g_bytes_get_data (self->octets, len);
}

/* Octets shown as they are: printable ASCII and TAB. */
static const guint8 plain[256] = {
  ['\t'] = 1,
  [0x20] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x7f is not */
};

/*
 * Where the run of plain octets from @i ends: eight at a time while none of
 * the eight is below 0x20, 0x7f or above (the word tests are exact; TAB,
 * plain but below 0x20, just ends a word's turn early). Mail is mostly long
 * plain lines: this is the loop the bytes of a big message go through.
 */
static inline gsize
plain_run_end (const guint8 *data,
               gsize         i,
               gsize         len)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);

  while (i + 8 <= len)
    {
      guint64 x, del;

      memcpy (&x, data + i, 8);
      del = x ^ (ones * 0x7f);
      /* Some octet < 0x20; some octet == 0x7f; some octet >= 0x80. */
      if ((((x - ones * 0x20) & ~x) | ((del - ones) & ~del) | x) & highs)
        break;
      i += 8;
    }
  while (i < len && plain[data[i]])
    i++;
  return i;
}

/* g_string_append_len() without its call when the room is there (it mostly is: plain text never grows). */
static inline void
append_run (GString    *out,
            const char *run,
            gsize       n)
{
  if (out->len + n < out->allocated_len)
    {
      memcpy (out->str + out->len, run, n);
      out->len += n;
      out->str[out->len] = '\0';
    }
  else
    g_string_append_len (out, run, (gssize) n);
}

/*
 * pl_display_text_from_octets:
 * Turns wire octets into text a person can read: CRLF and bare LF end lines
 * (joined by '\n', the last line end dropped), a NUL shows as U+2400, other
 * control characters but TAB as U+FFFD, and octets that are not UTF-8 as
 * U+FFFD. With @unstuff_dots, a leading '.' doubled by the sender for
 * transparency (RFC 5321 4.5.2, RFC 1939 3) is shown once. Returns UTF-8.
 */
char *
pl_display_text_from_octets (const guint8 *data,
                             gsize         len,
                             gboolean      unstuff_dots)
{
  /*
   * The GString lives on the stack around a buffer sized for the octets:
   * the text is rarely longer (line ends get shorter), g_string_sized_new()
   * would round it up to a power of two (128 at least) that a trace keeps
   * as long as the event, and the struct would be one more allocation per
   * event. It grows as any GString should a replacement character need it.
   */
  GString text = { g_malloc (len + 1), 0, len + 1 };
  GString *out = &text;
  gboolean at_line_start = TRUE;
  gsize i = 0;

  out->str[0] = '\0';

  while (i < len)
    {
      guint8 c = data[i];

      if (at_line_start && unstuff_dots && c == '.' && i + 1 < len && data[i + 1] == '.')
        {
          i++;
          c = data[i];
        }
      at_line_start = FALSE;

      if (plain[c])
        {
          /* Most of any text is plain: copy the whole run at once, not octet by octet. */
          gsize end = plain_run_end (data, i + 1, len);

          append_run (out, (const char *) data + i, end - i);
          i = end;
          continue;
        }
      if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
        {
          i += 2;
          if (i < len)
            g_string_append_c (out, '\n');
          at_line_start = TRUE;
          continue;
        }
      if (c == '\n')
        {
          i++;
          if (i < len)
            g_string_append_c (out, '\n');
          at_line_start = TRUE;
          continue;
        }
      if (c == 0)
        {
          g_string_append (out, "\xe2\x90\x80"); /* U+2400 SYMBOL FOR NULL */
          i++;
          continue;
        }
      if (c < 0x20 || c == 0x7f)
        {
          if (c == '\t')
            g_string_append_c (out, '\t');
          else
            g_string_append (out, "\xef\xbf\xbd");
          i++;
          continue;
        }
      if (c < 0x80)
        {
          g_string_append_c (out, (char) c);
          i++;
          continue;
        }
      {
        /* A run of non-ASCII octets: keep the valid UTF-8, replace the rest. */
        const char *start = (const char *) data + i;
        gsize run = 0;
        const char *end;

        while (i + run < len && data[i + run] >= 0x80)
          run++;
        while (run > 0)
          {
            if (g_utf8_validate_len (start, run, &end))
              {
                g_string_append_len (out, start, run);
                break;
              }
            if (end > start)
              {
                g_string_append_len (out, start, end - start);
                run -= end - start;
                start = end;
              }
            g_string_append (out, "\xef\xbf\xbd");
            start++;
            run--;
          }
        i = (const guint8 *) start - data + run;
        if (run == 0)
          i = (const guint8 *) start - data;
      }
    }
  return out->str;
}
