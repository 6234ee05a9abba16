/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlEvent: one protocol data unit of a session, with its exact octets. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-event.h"
#include "pl-sanitizer.h"

#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

G_DEFINE_BOXED_TYPE (PlEvent, pl_event, pl_event_ref, pl_event_unref)

/* In inline_size: the event is in a slab (see slab_alloc()), not a malloc of its own. */
#define INLINE_IN_SLAB (1u << 31)
/* In inline_size: the event borrows its octets and strings from another one (see pl_event_share_begin()). */
#define INLINE_SHARED  (1u << 30)
#define INLINE_FLAGS   (INLINE_IN_SLAB | INLINE_SHARED)

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

/*
 * Where pl_event_new_unit() puts its events: slabs, each a run of events
 * one after the other. A simulation makes a million events a second and a
 * retaining trace keeps them all: from malloc, each would cost its
 * header, a search of the free lists (among the many short-lived buffers
 * of the engines, so the trace's memory ends up spread between them) and,
 * past 1 KiB (a message), a consolidation of the small free chunks.
 * Here an event costs a bump of a pointer and sits next to the one before.
 *
 * Each thread fills a slab of its own. A slab counts its live events, plus
 * one while it is a thread's current slab; the last release frees it. An
 * event knows where it is in its slab (slab_offset, in what was padding of
 * the struct), so it can be released on any thread. When every event of
 * the current slab is gone (a trace that streams), the slab is filled
 * again from the start, so its memory stays the same few pages. A slab is
 * 64 KiB at first; one still holding live events when it is used up (a
 * trace that retains) is followed by one twice its size, up to 2 MiB.
 */
#define SLAB_ALIGN 8
/* Under AddressSanitizer every event is a malloc of its own, so that an overrun is caught at its end. */
#define SLAB_DISABLED PL_ADDRESS_SANITIZER
#define SLAB_MIN_SIZE ((gsize) 64 * 1024)
#define SLAB_MAX_SIZE ((gsize) 2 * 1024 * 1024)
/* A bigger event (a long message) is a malloc of its own. */
#define SLAB_MAX_EVENT (SLAB_MIN_SIZE / 8)

typedef struct {
  gint     live;    /* events in it, plus one while it is a thread's current slab */
  gboolean mapped;  /* mmap()ed (see slab_new()), not g_malloc()ed */
  gsize    size;
  gsize    used;    /* octets given out, this header included */
} Slab;

#define SLAB_HEADER (((sizeof (Slab) + SLAB_ALIGN - 1) / SLAB_ALIGN) * SLAB_ALIGN)

/*
 * The biggest slabs (a trace that retains fills one after the other) are
 * mapped with their pages made at once (MAP_POPULATE, Linux): the kernel
 * makes 512 pages in one call instead of taking 512 page faults, as the
 * events are written, one by one.
 */
static Slab *
slab_new (gsize size)
{
  Slab *slab = NULL;

#if defined(MAP_POPULATE)
  if (size == SLAB_MAX_SIZE)
    {
      void *map = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

      if (map != MAP_FAILED)
        {
          slab = map;
          slab->mapped = TRUE;
        }
    }
#endif
  if (slab == NULL)
    {
      slab = g_malloc (size);
      slab->mapped = FALSE;
    }
  slab->live = 1;
  slab->size = size;
  slab->used = SLAB_HEADER;
  return slab;
}

static void
slab_release (Slab *slab)
{
  if (!g_atomic_int_dec_and_test (&slab->live))
    return;
#if defined(MAP_POPULATE)
  if (slab->mapped)
    {
      munmap (slab, slab->size);
      return;
    }
#endif
  g_free (slab);
}

static GPrivate current_slab = G_PRIVATE_INIT ((GDestroyNotify) slab_release);

static inline Slab *
slab_of (const PlEvent *self)
{
  return (Slab *) (gpointer) ((char *) self - self->slab_offset);
}

/*
 * The event just taken from the thread's slab with @taken octets uses only
 * @used of them: the rest goes back (nothing was taken from the slab since).
 */
static void
slab_give_back (Slab    *slab,
                PlEvent *self,
                gsize    taken,
                gsize    used)
{
  taken = (taken + SLAB_ALIGN - 1) & ~(gsize) (SLAB_ALIGN - 1);
  used = (used + SLAB_ALIGN - 1) & ~(gsize) (SLAB_ALIGN - 1);
  g_assert (slab != NULL && (char *) slab + self->slab_offset == (char *) self
            && slab->used == self->slab_offset + taken);
  slab->used = self->slab_offset + used;
}

/* Room for an event of @size octets, from the thread's slab (its offset in @offset); NULL when it is for malloc. */
static gpointer
slab_alloc (gsize   size,
            guint  *offset,
            Slab  **from)
{
  Slab *slab;
  gpointer p;

  if (SLAB_DISABLED || size > SLAB_MAX_EVENT)
    return NULL;
  size = (size + SLAB_ALIGN - 1) & ~(gsize) (SLAB_ALIGN - 1);
  slab = g_private_get (&current_slab);
  /* Only this thread gives out of its slab: with nothing live in it, it may be filled again. */
  if (slab != NULL && g_atomic_int_get (&slab->live) == 1)
    slab->used = SLAB_HEADER;
  if (slab == NULL || slab->used + size > slab->size)
    {
      gsize next = SLAB_MIN_SIZE;

      /* Events that stay (a retaining trace) get bigger slabs; those that go keep reusing a small one. */
      if (slab != NULL && g_atomic_int_get (&slab->live) > 1)
        next = MIN (slab->size * 2, SLAB_MAX_SIZE);
      /* The old one goes when its last event does (g_private_replace() drops this thread's count). */
      slab = slab_new (next);
      g_private_replace (&current_slab, slab);
    }
  p = (char *) slab + slab->used;
  *offset = (guint) slab->used;
  *from = slab;
  slab->used += size;
  g_atomic_int_inc (&slab->live);
  return p;
}

/* What frees an event of pl_event_new_unit(): last, when neither the event nor its octets are used. */
static void
unit_memory_free (gpointer data)
{
  PlEvent *self = data;

  if (self->inline_size & INLINE_IN_SLAB)
    slab_release (slab_of (self));
  else
    g_free (self);
}

static const char *scratch_display_text (const guint8 *data,
                                         gsize         len,
                                         gboolean      unstuff_dots,
                                         gsize        *text_len);
static void        display_text_into    (GString      *out,
                                         const guint8 *data,
                                         gsize         len,
                                         gboolean      unstuff_dots);

/*
 * The event whose allocation holds @self's octets and strings: @self, or,
 * for an event that shares them (pl_event_share_begin()), the one that
 * made them: a unit's struct comes right before its octets; a note that
 * shares keeps a pointer to it after its own struct.
 */
static inline const PlEvent *
home_of (const PlEvent *self)
{
  if (!(self->inline_size & INLINE_SHARED))
    return self;
  if (self->octets != NULL)
    return (const PlEvent *) g_bytes_get_data (self->octets, NULL) - 1;
  return *(PlEvent * const *) (gconstpointer) (self + 1);
}

/* TRUE when @p is one of the strings kept in the allocation of @home (home_of() an event). */
static inline gboolean
is_in_home (const PlEvent *home,
            const char    *p)
{
  return p != NULL && (guintptr) p - (guintptr) (home + 1) < (home->inline_size & ~INLINE_FLAGS);
}

/* TRUE when @p is one of the strings kept in the event's own allocation (pl_event_new_unit()), or the one it shares. */
static inline gboolean
is_inline (const PlEvent *self,
           const char    *p)
{
  return p != NULL && is_in_home (home_of (self), p);
}

/* A string field's old value, freed unless the event's allocation (@home's) holds it. */
static inline void
free_field_in (const PlEvent *home,
               char          *p)
{
  if (p != NULL && !is_in_home (home, p))
    g_free (p);
}

static void
free_field (PlEvent *self,
            char    *p)
{
  if (p != NULL)
    free_field_in (home_of (self), p);
}

/* Octets a text buffer keeps beyond its length, so a run can be copied sixteen at a time. */
#define RUN_SLACK 16

/*
 * Sharing (pl_event_share_begin()): a run of a simulation repeats most of
 * its units word for word ("QUIT", "+OK", "250 OK", the EHLO lines, the
 * notes of each message's queue): in a trace that keeps them all, each
 * would be its octets, its strings, its text and a GBytes again (in the
 * benchmark, 88 events in 100 are one made before). While a thread
 * shares, it remembers the last units it made (a table indexed by a hash
 * of the octets, of the text for a note); a unit made again with the same
 * octets, text, status, verb and args is a struct of its own (its time
 * and session are its own) that takes a reference on the first one's
 * GBytes and points at its strings, which that GBytes keeps alive (a note
 * has none: it takes a reference on the first note). The table holds a
 * reference on what it remembers, so it is for a caller that keeps its
 * events anyway; pl_event_share_end() drops it.
 */
#define SHARE_SLOTS 1024
/* Longer units (a message, a listing) are seldom made twice: they are not looked for. */
#define SHARE_MAX_LEN 512

/* How the text of a remembered unit was made: given, or from the octets (with dots unstuffed or not). */
enum { MADE_GIVEN, MADE_PLAIN, MADE_UNSTUFFED };

typedef struct {
  guint64  hash;
  PlEvent *event;
  guint    made;
} ShareSlot;

typedef struct {
  guint     depth;  /* pl_event_share_begin() calls not yet ended */
  ShareSlot slots[SHARE_SLOTS];
} ShareTable;

static void
share_table_clear (ShareTable *table)
{
  for (guint i = 0; i < SHARE_SLOTS; i++)
    g_clear_pointer (&table->slots[i].event, pl_event_unref);
}

static void
share_table_free (gpointer data)
{
  share_table_clear (data);
  g_free (data);
}

static GPrivate share_table = G_PRIVATE_INIT (share_table_free);

/* Threads between pl_event_share_begin() and its end: while none, making an event looks for nothing. */
static gint sharing_threads;

/*
 * pl_event_share_begin:
 * From now on, on this thread, a unit made by pl_event_new_unit(),
 * pl_event_new_body() or pl_event_new_note_copy() with the same octets
 * (up to 512), text, status, verb and args as one made shortly before
 * shares its memory (and its GBytes): the same fields, only its struct
 * allocated. The setters still replace any field of either. For a caller
 * that keeps every event it makes (a simulation building a retained
 * trace): the thread keeps references on the last units it made until
 * pl_event_share_end(). Calls nest.
 */
void
pl_event_share_begin (void)
{
  ShareTable *table = g_private_get (&share_table);

  if (table == NULL)
    {
      table = g_new0 (ShareTable, 1);
      g_private_set (&share_table, table);
    }
  if (table->depth++ == 0)
    g_atomic_int_inc (&sharing_threads);
}

/* pl_event_share_end: ends a pl_event_share_begin(); the last one drops what the thread remembered. */
void
pl_event_share_end (void)
{
  ShareTable *table = g_private_get (&share_table);

  g_return_if_fail (table != NULL && table->depth > 0);
  if (--table->depth == 0)
    {
      share_table_clear (table);
      g_atomic_int_dec_and_test (&sharing_threads);
    }
}

/* TRUE when @verb, upper-cased as event_new() does it (ASCII letters only), is @upper. */
static inline gboolean
same_verb (const char *upper,
           const char *verb)
{
  gsize i = 0;

  for (; verb[i] != '\0'; i++)
    if (upper[i] != (verb[i] >= 'a' && verb[i] <= 'z' ? (char) (verb[i] - 'a' + 'A') : verb[i]))
      return FALSE;
  return upper[i] == '\0';
}

static inline gboolean
same_string (const char *a,
             const char *b)
{
  return a == b || (a != NULL && b != NULL && strcmp (a, b) == 0);
}

/* TRUE when @event, remembered with @made, is what event_new() would make of these. */
static gboolean
share_matches (const PlEvent *event,
               guint          made,
               PlEventKind    kind,
               PlDirection    dir,
               const guint8  *octets,
               gsize          len,
               const char    *text,
               const char    *status,
               const char    *verb,
               const char    *args)
{
  gsize have_len = 0;
  const guint8 *have;

  if (event->kind != kind || event->dir != dir || (event->octets == NULL) != (octets == NULL) || event->tag != NULL)
    return FALSE;
  if (octets != NULL)
    {
      have = g_bytes_get_data (event->octets, &have_len);
      if (have_len != len || memcmp (have, octets, len) != 0)
        return FALSE;
    }
  /* Strings a setter put in since are its own, freed with it: only those of its allocation are shared. */
  if (!is_inline (event, event->text)
      || (event->status != NULL && !is_inline (event, event->status))
      || (event->verb != NULL && !is_inline (event, event->verb))
      || (event->args != NULL && !is_inline (event, event->args)))
    return FALSE;
  if (made == MADE_GIVEN && strcmp (event->text, text) != 0)
    return FALSE;
  if (!same_string (event->status, status) || !same_string (event->args, args))
    return FALSE;
  /* The verb is kept upper-cased (ASCII letters only), as event_new() makes it. */
  if ((event->verb == NULL) != (verb == NULL) || (verb != NULL && !same_verb (event->verb, verb)))
    return FALSE;
  return TRUE;
}

/* A hash of the octets, eight at a time, and of what tells units apart besides them. */
static inline guint64
share_hash (PlEventKind   kind,
            PlDirection   dir,
            guint         made,
            const guint8 *octets,
            gsize         len)
{
  const guint64 k = G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  guint64 h = ((guint64) kind << 40 | (guint64) dir << 32 | (guint64) made << 24 | len) * k;
  guint64 w;
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      memcpy (&w, octets + i, 8);
      h = (h ^ w) * k;
      h ^= h >> 29;
    }
  w = 0;
  memcpy (&w, octets + i, len - i);
  h = (h ^ w) * k;
  return h ^ (h >> 32);
}

/*
 * An event with its own struct and @home's octets (a reference on its
 * GBytes, which keeps @home's memory) and strings; a note, which has no
 * octets, keeps a reference on @home itself, after its struct.
 */
static PlEvent *
share_event_new (PlEvent *home)
{
  guint offset = 0;
  Slab *slab = NULL;
  gsize size = sizeof (PlEvent) + (home->octets == NULL ? sizeof (PlEvent *) : 0);
  PlEvent *self = slab_alloc (size, &offset, &slab);
  guint flags = INLINE_SHARED;

  if (self != NULL)
    flags |= INLINE_IN_SLAB;
  else
    self = g_malloc (size);
  memset (self, 0, sizeof (PlEvent));
  self->slab_offset = offset;
  self->ref_count = 1;
  self->inline_size = flags;
  self->kind = home->kind;
  self->dir = home->dir;
  if (home->octets != NULL)
    self->octets = g_bytes_ref (home->octets);
  else
    *(PlEvent **) (gpointer) (self + 1) = pl_event_ref (home);
  self->text = home->text;
  self->status = home->status;
  self->verb = home->verb;
  self->args = home->args;
  return self;
}

/*
 * pl_event_new_unit(), with @text borrowed. The event and its strings are
 * laid out one after the other: the struct, the octets, status, verb and
 * args, and the text last. A text made from the octets is made there, in
 * place: room for the longest it could be (three octets of UTF-8 for each
 * octet, a replacement character) is taken from the slab, and what the
 * text did not use is given back (nothing else took from the slab since).
 */
static PlEvent *
event_new (PlEventKind   kind,
           PlDirection   dir,
           const guint8 *octets,
           gsize         len,
           const char   *text,
           gboolean      unstuff_dots,
           const char   *status,
           const char   *verb,
           const char   *args,
           const char   *tag)
{
  g_autofree char *made_here = NULL;
  const char *shown = NULL;
  gsize text_size = 0;
  gsize status_size = status != NULL ? strlen (status) + 1 : 0;
  gsize verb_size = verb != NULL ? strlen (verb) + 1 : 0;
  gsize args_size = args != NULL ? strlen (args) + 1 : 0;
  gsize tag_size = tag != NULL ? strlen (tag) + 1 : 0;
  gsize fixed = len + status_size + verb_size + args_size + tag_size;
  gsize room = 0;
  gsize extra;
  PlEvent *self = NULL;
  guint offset = 0;
  Slab *slab = NULL;
  gboolean in_slab;
  char *p;
  ShareTable *share = NULL;
  ShareSlot *slot = NULL;
  guint64 hash = 0;
  guint how = MADE_GIVEN;
  gsize text_len = 0;

  g_return_val_if_fail (octets != NULL || len == 0, NULL);
  g_return_val_if_fail (fixed < INLINE_IN_SLAB / 4, NULL);

  /* Units by their octets; notes (no octets, a text given) by their text. */
  if (g_atomic_int_get (&sharing_threads) > 0 && tag == NULL
      && (octets != NULL ? len > 0 && len <= SHARE_MAX_LEN : text != NULL && (text_len = strlen (text)) <= SHARE_MAX_LEN)
      && (share = g_private_get (&share_table)) != NULL && share->depth > 0)
    {
      how = text != NULL ? MADE_GIVEN : unstuff_dots ? MADE_UNSTUFFED : MADE_PLAIN;
      hash = octets != NULL ? share_hash (kind, dir, how, octets, len)
                            : share_hash (kind, dir, how, (const guint8 *) text, text_len);
      slot = &share->slots[hash % SHARE_SLOTS];
      if (slot->event != NULL && slot->hash == hash && slot->made == how
          && share_matches (slot->event, how, kind, dir, octets, len, text, status, verb, args))
        return share_event_new (slot->event);
    }

  if (text == NULL)
    {
      room = 3 * len + 1 + RUN_SLACK;
      self = slab_alloc (sizeof (PlEvent) + fixed + room, &offset, &slab);
    }
  if (self == NULL)
    {
      const char *made = NULL;

      room = 0;
      /* Not in place: the text given, or made in the thread's scratch buffer (or, long, on the heap). */
      if (text != NULL)
        text_size = strlen (text) + 1;
      else if ((made = scratch_display_text (octets, len, unstuff_dots, &text_size)) != NULL)
        text_size++;
      else
        {
          made = made_here = pl_display_text_from_octets (octets, len, unstuff_dots);
          text_size = strlen (made) + 1;
        }
      shown = text != NULL ? text : made;
      extra = fixed + text_size;
      g_return_val_if_fail (extra < INLINE_IN_SLAB, NULL);
      self = slab_alloc (sizeof (PlEvent) + extra, &offset, &slab);
    }
  in_slab = self != NULL;
  if (!in_slab)
    self = g_malloc (sizeof (PlEvent) + fixed + text_size);
  memset (self, 0, sizeof (PlEvent));
  self->slab_offset = offset;
  self->ref_count = 1;
  self->kind = kind;
  self->dir = dir;

  p = (char *) (self + 1);
  if (len > 0)
    memcpy (p, octets, len);
  /* A note has no octets (and must be given its text). */
  self->octets = octets != NULL ? g_bytes_new_with_free_func (p, len, unit_memory_free, self) : NULL;
  p += len;
  if (status != NULL)
    {
      memcpy (p, status, status_size);
      self->status = p;
      p += status_size;
    }
  if (verb != NULL)
    {
      for (gsize i = 0; i < verb_size; i++)
        p[i] = verb[i] >= 'a' && verb[i] <= 'z' ? (char) (verb[i] - 'a' + 'A') : verb[i];
      self->verb = p;
      p += verb_size;
    }
  if (args != NULL)
    {
      memcpy (p, args, args_size);
      self->args = p;
      p += args_size;
    }
  if (tag != NULL)
    {
      memcpy (p, tag, tag_size);
      self->tag = p;
      p += tag_size;
    }
  self->text = p;
  if (room > 0)
    {
      /* The room is enough for any text of these octets: the GString never grows (it could not). */
      GString in_place = { p, 0, room };

      display_text_into (&in_place, octets, len, unstuff_dots);
      g_assert (in_place.str == p && in_place.len < room);
      text_size = in_place.len + 1;
      slab_give_back (slab, self, sizeof (PlEvent) + fixed + room, sizeof (PlEvent) + fixed + text_size);
    }
  else
    memcpy (p, shown, text_size);
  extra = fixed + text_size;
  self->inline_size = (guint) extra | (in_slab ? INLINE_IN_SLAB : 0);
  if (slot != NULL)
    {
      /* Remembered for the units like it that follow. */
      g_clear_pointer (&slot->event, pl_event_unref);
      slot->event = pl_event_ref (self);
      slot->hash = hash;
      slot->made = how;
    }
  return self;
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
 * A note (@octets NULL, @len 0, @text given) gets no octets, as with
 * pl_event_new_note().
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
  g_autofree char *taken = text;

  return event_new (kind, dir, octets, len, taken, FALSE, status, verb, args, NULL);
}

/*
 * pl_event_new_unit_full:
 * As pl_event_new_unit(), with @text copied (NULL: made from the octets;
 * a string that outlives the call, a literal too) and @tag (an IMAP tag,
 * RFC 3501 section 2.2.1; may be NULL) kept with the other strings, as
 * pl_event_set_tag() sets it: a tracer sets them all at once, without an
 * allocation of each.
 */
PlEvent *
pl_event_new_unit_full (PlEventKind   kind,
                        PlDirection   dir,
                        const guint8 *octets,
                        gsize         len,
                        const char   *text,
                        const char   *tag,
                        const char   *status,
                        const char   *verb,
                        const char   *args)
{
  return event_new (kind, dir, octets, len, text, FALSE, status, verb, args, tag);
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

/*
 * pl_event_new_body:
 * A unit whose octets hold dot-stuffed lines (a message after DATA, RFC
 * 5321 4.5.2; a multi-line reply, RFC 1939 section 3): as
 * pl_event_new_unit (@kind, @dir, @octets, @len, text, @status, NULL, NULL)
 * with text pl_display_text_from_octets (@octets, @len, TRUE), made
 * without an allocation of its own.
 */
PlEvent *
pl_event_new_body (PlEventKind   kind,
                   PlDirection   dir,
                   const guint8 *octets,
                   gsize         len,
                   const char   *status)
{
  g_return_val_if_fail (octets != NULL || len == 0, NULL);

  return event_new (kind, dir, octets, len, NULL, TRUE, status, NULL, NULL, NULL);
}

/*
 * pl_event_new_note_copy:
 * A note with @text and, when @verb is given, its machine-readable @verb
 * (upper-cased) and @args (may be NULL), all copied into the note's own
 * allocation, as pl_event_new_unit() makes one: for a caller that puts the
 * strings together in buffers of its own (a simulation makes nine notes a
 * message), so that no string is allocated only to be copied and freed.
 */
PlEvent *
pl_event_new_note_copy (const char *text,
                        const char *verb,
                        const char *args)
{
  g_return_val_if_fail (text != NULL, NULL);

  return event_new (PL_EVENT_NOTE, PL_DIR_NONE, NULL, 0, text, FALSE, NULL, verb, verb != NULL ? args : NULL, NULL);
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
  const PlEvent *home;

  g_return_if_fail (self != NULL);
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  home = home_of (self);
  free_field_in (home, self->text);
  free_field_in (home, self->verb);
  free_field_in (home, self->args);
  free_field_in (home, self->tag);
  free_field_in (home, self->status);
  /* One that shares another's octets and strings: its struct is all it has of its own. */
  if (self->inline_size & INLINE_SHARED)
    {
      if (self->octets != NULL)
        g_bytes_unref (self->octets);
      else
        pl_event_unref (*(PlEvent **) (gpointer) (self + 1));
      if (self->inline_size & INLINE_IN_SLAB)
        slab_release (slab_of (self));
      else
        g_free (self);
      return;
    }
  /* An event of pl_event_new_unit() lives in its octets' memory: their GBytes frees it, last. */
  if (self->inline_size > 0 && self->octets != NULL)
    {
      g_bytes_unref (self->octets);
      return;
    }
  g_clear_pointer (&self->octets, g_bytes_unref);
  if (self->inline_size > 0)
    unit_memory_free (self);
  else
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

/* Octets shown as they are: printable ASCII and TAB (the JSON writer escapes from the same table). */
const guint8 pl_display_plain[256] = {
  ['\t'] = 1,
  [0x20] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x7f is not */
};


/*
 * Copies the run of plain octets at @data[@i..] to @out as it finds it and
 * returns where the run ends. Mail is mostly long plain lines: this is the
 * loop the octets of a big message go through, so it looks at sixteen a
 * turn (SSE2, which every x86-64 has; eight, in a 64-bit word, elsewhere),
 * storing each sixteen before it knows how many of them belong to the run:
 * the length only moves past those that do. TAB is plain but below 0x20: it
 * only ends a turn early. So does a line end in the middle of the octets
 * when the line after it has no dot to unstuff: the caller's rules for line
 * ends are applied here and the run goes on.
 */
static inline gsize
append_plain_run (GString      *out,
                  const guint8 *data,
                  gsize         i,
                  gsize         len,
                  gboolean      unstuff_dots)
{
  char *o;

  if (out->len + (len - i) + 1 + RUN_SLACK > out->allocated_len)
    {
      gsize keep = out->len;

      g_string_set_size (out, keep + (len - i) + RUN_SLACK);
      g_string_truncate (out, keep);
    }
  o = out->str + out->len;
#if defined(__SSE2__)
  {
    const __m128i below = _mm_set1_epi8 (0x20);
    const __m128i del = _mm_set1_epi8 (0x7f);

    while (i + 16 <= len)
      {
        __m128i x = _mm_loadu_si128 ((const __m128i *) (data + i));
        /* Signed: octets 0x80 and above are negative, so "below 0x20" takes them in too. */
        unsigned mask = (unsigned) _mm_movemask_epi8 (_mm_or_si128 (_mm_cmplt_epi8 (x, below),
                                                                    _mm_cmpeq_epi8 (x, del)));

        _mm_storeu_si128 ((__m128i *) o, x);
        if (mask == 0)
          {
            i += 16;
            o += 16;
            continue;
          }
        mask = (unsigned) __builtin_ctz (mask);
        i += mask;
        o += mask;
        if (data[i] == '\t' || (data[i] == '\n' && i + 1 < len && !(unstuff_dots && data[i + 1] == '.')))
          {
            /* Plain, or a bare LF that is not the last and begins no line to unstuff: it is as stored. */
            i++;
            o++;
            continue;
          }
        if (data[i] == '\r' && i + 2 < len && data[i + 1] == '\n' && !(unstuff_dots && data[i + 2] == '.'))
          {
            /* The same for CRLF, shown as LF: the usual end of a line, taken here without a turn of the caller. */
            *o++ = '\n';
            i += 2;
            continue;
          }
        goto done;
      }
  }
#else
  {
    const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
    const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);

    while (i + 8 <= len)
      {
        guint64 x, d;

        memcpy (&x, data + i, 8);
        d = x ^ (ones * 0x7f);
        /* Some octet < 0x20; some octet == 0x7f; some octet >= 0x80 (each test exact). */
        if ((((x - ones * 0x20) & ~x) | ((d - ones) & ~d) | x) & highs)
          break;
        memcpy (o, &x, 8);
        i += 8;
        o += 8;
      }
  }
#endif
  while (i < len && pl_display_plain[data[i]])
    *o++ = (char) data[i++];
#if defined(__SSE2__)
done:
#endif
  *o = '\0';
  out->len = (gsize) (o - out->str);
  return i;
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
   * (RUN_SLACK more octets let append_plain_run() copy sixteen at a time.)
   */
  GString text = { g_malloc (len + 1 + RUN_SLACK), 0, len + 1 + RUN_SLACK };

  display_text_into (&text, data, len, unstuff_dots);
  return text.str;
}

/* A thread's buffer for the texts pl_event_new_unit() makes and copies into the event. */
static void
scratch_free (gpointer data)
{
  g_string_free (data, TRUE);
}

static GPrivate scratch_text = G_PRIVATE_INIT (scratch_free);

/* Past this, a text is made in a buffer of its own, so that a thread's scratch buffer stays small. */
#define SCRATCH_MAX ((gsize) 64 * 1024)

/* pl_display_text_from_octets(), in the thread's scratch buffer: valid until the next call. */
static const char *
scratch_display_text (const guint8 *data,
                      gsize         len,
                      gboolean      unstuff_dots,
                      gsize        *text_len)
{
  GString *out;

  if (len > SCRATCH_MAX)
    return NULL;
  out = g_private_get (&scratch_text);
  if (out == NULL)
    {
      out = g_string_sized_new (SCRATCH_MAX / 16);
      g_private_set (&scratch_text, out);
    }
  if (out->allocated_len < len + 1 + RUN_SLACK)
    g_string_set_size (out, len + 1 + RUN_SLACK);
  g_string_truncate (out, 0);
  display_text_into (out, data, len, unstuff_dots);
  *text_len = out->len;
  return out->str;
}

/* The loop of pl_display_text_from_octets(), into @out, empty, with room for @len + 1 + RUN_SLACK octets. */
static void
display_text_into (GString      *out,
                   const guint8 *data,
                   gsize         len,
                   gboolean      unstuff_dots)
{
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

      if (pl_display_plain[c])
        {
          /* Most of any text is plain: copy the whole run at once, not octet by octet. */
          i = append_plain_run (out, data, i, len, unstuff_dots);
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
}
