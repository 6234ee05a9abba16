/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimScenario: what a simulation runs, read from a small text format an instructor can write. */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim-scenario.h"

#include <string.h>

#include "pl-sim-error.h"
#include "pl-sim-resources.h"
#include "pl-smtp-grammar.h"
#include "pl-textbook.h"

#define RESOURCE_PREFIX "/org/postlab/sim/"
#define MAX_TIME (G_GUINT64_CONSTANT (1000000) * PL_SIM_NS_PER_S)
#define MIN_MSS 64
#define MAX_NAME 63

/* RFC 5737: the three networks set aside for documentation. */
static const guint32 documentation_networks[] = {
  0xc0000200u,  /* 192.0.2.0/24    TEST-NET-1 */
  0xc6336400u,  /* 198.51.100.0/24 TEST-NET-2 */
  0xcb007100u,  /* 203.0.113.0/24  TEST-NET-3 */
};
#define DOMAIN_BLOCK 64    /* each domain gets a /26 of one of them */
#define SERVER_OFFSET 25   /* mail.a.example is 192.0.2.25: port 25's number */
#define FIRST_DEVICE 10

struct _PlSimScenario
{
  GObject     parent_instance;

  char       *source;
  PlWorld    *world;
  guint       mss;
  guint64     seed;
  gint64      epoch;
  PlSimTime   dns_delay;
  GPtrArray  *devices;    /* of PlSimDevice* */
  GPtrArray  *hosts;      /* of PlSimHostSpec* */
  GPtrArray  *links;      /* of PlSimLinkSpec*; the default one apart */
  PlSimLinkSpec default_link;
  GPtrArray  *mailboxes;  /* of PlSimMailboxSpec* */
  GPtrArray  *actions;    /* of PlSimAction*, in time order */
};

G_DEFINE_FINAL_TYPE (PlSimScenario, pl_sim_scenario, G_TYPE_OBJECT)

static void
device_free (gpointer data)
{
  PlSimDevice *device = data;

  g_free (device->name);
  g_free (device->user);
  g_strfreev (device->options);
  g_free (device->address);
  g_free (device);
}

static void
host_free (gpointer data)
{
  PlSimHostSpec *host = data;

  g_free (host->name);
  g_free (host->owner);
  g_free (host->domain);
  g_free (host);
}

static void
link_free (gpointer data)
{
  PlSimLinkSpec *link = data;

  g_free (link->a);
  g_free (link->b);
  g_free (link);
}

static void
mailbox_free (gpointer data)
{
  PlSimMailboxSpec *mailbox = data;

  g_free (mailbox->user);
  g_ptr_array_unref (mailbox->messages);
  g_free (mailbox);
}

static void
action_free (gpointer data)
{
  PlSimAction *action = data;

  g_free (action->device);
  g_strfreev (action->recipients);
  g_clear_pointer (&action->message, g_bytes_unref);
  g_strfreev (action->script);
  g_free (action);
}

static void
pl_sim_scenario_finalize (GObject *object)
{
  PlSimScenario *self = PL_SIM_SCENARIO (object);

  g_free (self->source);
  g_clear_object (&self->world);
  g_ptr_array_unref (self->devices);
  g_ptr_array_unref (self->hosts);
  g_ptr_array_unref (self->links);
  g_ptr_array_unref (self->mailboxes);
  g_ptr_array_unref (self->actions);
  G_OBJECT_CLASS (pl_sim_scenario_parent_class)->finalize (object);
}

static void
pl_sim_scenario_class_init (PlSimScenarioClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_sim_scenario_finalize;
}

static void
pl_sim_scenario_init (PlSimScenario *self)
{
  self->mss = PL_SIM_DEFAULT_MSS;
  self->seed = PL_SIM_DEFAULT_SEED;
  self->epoch = PL_SIM_DEFAULT_EPOCH;
  self->dns_delay = PL_SIM_DEFAULT_DNS_DELAY;
  self->default_link.latency = PL_SIM_DEFAULT_LATENCY;
  self->default_link.bandwidth = PL_SIM_DEFAULT_BANDWIDTH;
  self->devices = g_ptr_array_new_with_free_func (device_free);
  self->hosts = g_ptr_array_new_with_free_func (host_free);
  self->links = g_ptr_array_new_with_free_func (link_free);
  self->mailboxes = g_ptr_array_new_with_free_func (mailbox_free);
  self->actions = g_ptr_array_new_with_free_func (action_free);
}

/* Numbers ------------------------------------------------------------------------------- */

/*
 * A decimal number, "12" or "1.25", as an integer and a fraction (digits
 * and their count), so that scaling to nanoseconds or bits is exact.
 * Returns where the unit starts, or NULL.
 */
static const char *
parse_decimal (const char *text,
               guint64    *whole,
               guint64    *fraction,
               guint      *fraction_digits)
{
  const char *p = text;
  guint digits = 0;

  *whole = 0;
  *fraction = 0;
  *fraction_digits = 0;
  while (g_ascii_isdigit (*p))
    {
      if (++digits > 12)
        return NULL;
      *whole = *whole * 10 + (guint64) (*p - '0');
      p++;
    }
  if (digits == 0)
    return NULL;
  if (*p == '.')
    {
      p++;
      if (!g_ascii_isdigit (*p))
        return NULL;
      while (g_ascii_isdigit (*p))
        {
          if (++*fraction_digits > 9)
            return NULL;
          *fraction = *fraction * 10 + (guint64) (*p - '0');
          p++;
        }
    }
  return p;
}

/* whole.fraction * @scale, when that is a whole number that fits below @max. */
static gboolean
scale_decimal (guint64  whole,
               guint64  fraction,
               guint    fraction_digits,
               guint64  scale,
               guint64  max,
               guint64 *out)
{
  guint64 divisor = 1;
  guint64 value;

  for (guint i = 0; i < fraction_digits; i++)
    divisor *= 10;
  if (whole > max / scale)
    return FALSE;
  value = whole * scale;
  /* fraction < 10^9 and scale <= 6 * 10^10: the product fits in 64 bits. */
  if ((fraction * scale) % divisor != 0)
    return FALSE;
  value += fraction * scale / divisor;
  if (value > max)
    return FALSE;
  *out = value;
  return TRUE;
}

gboolean
pl_sim_parse_time (const char *text,
                   PlSimTime  *out)
{
  static const struct { const char *unit; guint64 ns; } units[] = {
    { "",    PL_SIM_NS_PER_S },
    { "s",   PL_SIM_NS_PER_S },
    { "ms",  PL_SIM_NS_PER_MS },
    { "us",  PL_SIM_NS_PER_US },
    { "ns",  1 },
    { "min", 60 * PL_SIM_NS_PER_S },
  };
  guint64 whole, fraction;
  guint digits;
  const char *unit;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  unit = parse_decimal (text, &whole, &fraction, &digits);
  if (unit == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_str_equal (unit, units[i].unit))
      return scale_decimal (whole, fraction, digits, units[i].ns, MAX_TIME, out);
  return FALSE;
}

gboolean
pl_sim_parse_bandwidth (const char *text,
                        guint64    *out)
{
  static const struct { const char *unit; guint64 bits; } units[] = {
    { "",     1 },
    { "bit",  1 },
    { "kbit", 1000 },
    { "mbit", 1000000 },
    { "gbit", 1000000000 },
  };
  g_autofree char *unit_lower = NULL;
  guint64 whole, fraction;
  guint digits;
  const char *unit;
  gsize unit_len;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (g_str_equal (text, "unlimited"))
    {
      *out = 0;
      return TRUE;
    }
  unit = parse_decimal (text, &whole, &fraction, &digits);
  if (unit == NULL)
    return FALSE;
  unit_lower = g_ascii_strdown (unit, -1);
  unit_len = strlen (unit_lower);
  /* "10Mbit/s" and "10Mbps" as well as "10Mbit". */
  if (unit_len >= 2 && g_str_has_suffix (unit_lower, "/s"))
    unit_lower[unit_len - 2] = '\0';
  else if (unit_len >= 3 && g_str_has_suffix (unit_lower, "bps"))
    strcpy (unit_lower + unit_len - 3, "bit");
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (g_str_equal (unit_lower, units[i].unit))
      {
        guint64 value;

        /* Rounding a fraction of a bit per second away is harmless; a zero rate is not. */
        if (!scale_decimal (whole, 0, 0, units[i].bits, G_GUINT64_CONSTANT (1000000000000), &value))
          return FALSE;
        if (digits > 0)
          {
            guint64 divisor = 1;

            for (guint d = 0; d < digits; d++)
              divisor *= 10;
            value += fraction * units[i].bits / divisor;
          }
        if (value == 0)
          return FALSE;
        *out = value;
        return TRUE;
      }
  return FALSE;
}

/* The parser ---------------------------------------------------------------------------- */

typedef enum {
  REF_NONE = 0,
  REF_TEXTBOOK,     /* "textbook" (both) or "textbook N" */
  REF_MESSAGE,      /* "message NAME": a block of the file */
  REF_EMPTY,        /* "empty" (mailboxes only) */
} RefKind;

typedef struct {
  RefKind  kind;
  guint    index;   /* textbook: 1 or 2; 0 for both */
  char    *name;
} MessageRef;

typedef struct {
  GBytes *bytes;
  guint   line;
} MessageBlock;

typedef struct {
  char      *user;
  GArray    *refs;   /* of MessageRef */
  guint      line;
} RawMailbox;

typedef struct {
  PlSimActionKind  kind;
  PlSimTime        at;
  char            *device;
  GPtrArray       *recipients;
  MessageRef       ref;
  char            *subject;
  char            *body;
  char           **script;
  guint            line;
} RawAction;

typedef struct {
  PlSimScenario *self;
  const char    *source;
  const char    *base_dir;
  GError       **error;
  char          *world_file;
  guint          world_line;
  guint          seen;        /* which once-only statements were seen, by bit */
  GHashTable    *messages;    /* name -> MessageBlock* */
  GPtrArray     *mailboxes;   /* of RawMailbox* */
  GPtrArray     *actions;     /* of RawAction* */
} Parser;

static void
message_ref_clear (gpointer data)
{
  MessageRef *ref = data;

  g_clear_pointer (&ref->name, g_free);
}

static void
message_block_free (gpointer data)
{
  MessageBlock *block = data;

  g_bytes_unref (block->bytes);
  g_free (block);
}

static void
raw_mailbox_free (gpointer data)
{
  RawMailbox *mailbox = data;

  g_free (mailbox->user);
  g_array_unref (mailbox->refs);
  g_free (mailbox);
}

static void
raw_action_free (gpointer data)
{
  RawAction *action = data;

  g_free (action->device);
  g_ptr_array_unref (action->recipients);
  message_ref_clear (&action->ref);
  g_free (action->subject);
  g_free (action->body);
  g_strfreev (action->script);
  g_free (action);
}

static gboolean fail (Parser     *p,
                      guint       line,
                      const char *format,
                      ...) G_GNUC_PRINTF (3, 4);

/* Every error names the file and the line (the line is 0 for the file as a whole). */
static gboolean
fail (Parser     *p,
      guint       line,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (line > 0)
    g_set_error (p->error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO, "%s:%u: %s", p->source, line, message);
  else
    g_set_error (p->error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO, "%s: %s", p->source, message);
  return FALSE;
}

/*
 * Splits a line into words: blanks separate them, double quotes keep
 * blanks in ("pass hungry"), with \" \\ \n \t inside, and a '#' that starts
 * a word starts a comment.
 */
static GPtrArray *
tokenize (Parser     *p,
          const char *line,
          guint       line_number)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  const char *c = line;

  for (;;)
    {
      GString *word;

      while (*c == ' ' || *c == '\t')
        c++;
      if (*c == '\0' || *c == '#')
        break;
      word = g_string_new (NULL);
      if (*c == '"')
        {
          c++;
          for (;;)
            {
              if (*c == '\0')
                {
                  g_string_free (word, TRUE);
                  fail (p, line_number, "a quoted word is not closed: add the '\"' at its end");
                  return NULL;
                }
              if (*c == '"')
                {
                  c++;
                  break;
                }
              if (*c == '\\')
                {
                  c++;
                  switch (*c)
                    {
                    case '"':  g_string_append_c (word, '"'); break;
                    case '\\': g_string_append_c (word, '\\'); break;
                    case 'n':  g_string_append_c (word, '\n'); break;
                    case 't':  g_string_append_c (word, '\t'); break;
                    default:
                      g_string_free (word, TRUE);
                      fail (p, line_number, "unknown escape '\\%c' in a quoted word (known: \\\" \\\\ \\n \\t)",
                            *c != '\0' ? *c : ' ');
                      return NULL;
                    }
                  c++;
                  continue;
                }
              g_string_append_c (word, *c++);
            }
          if (*c != '\0' && *c != ' ' && *c != '\t')
            {
              g_string_free (word, TRUE);
              fail (p, line_number, "a quoted word must be followed by a blank");
              return NULL;
            }
        }
      else
        while (*c != '\0' && *c != ' ' && *c != '\t')
          g_string_append_c (word, *c++);
      g_ptr_array_add (words, g_string_free (word, FALSE));
    }
  return g_steal_pointer (&words);
}

#define WORD(i) ((const char *) g_ptr_array_index (words, (i)))

static gboolean
is_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME)
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '-' && *c != '.' && *c != '_')
      return FALSE;
  return TRUE;
}

/* Statements seen at most once. */
enum {
  ONCE_WORLD = 1 << 0,
  ONCE_START = 1 << 1,
  ONCE_SEED  = 1 << 2,
  ONCE_MSS   = 1 << 3,
  ONCE_DNS   = 1 << 4,
  ONCE_DEFAULT_LINK = 1 << 5,
};

static gboolean
once (Parser     *p,
      guint       bit,
      const char *what,
      guint       line)
{
  if (p->seen & bit)
    return fail (p, line, "'%s' is given twice", what);
  p->seen |= bit;
  return TRUE;
}

static gboolean
expect_count (Parser     *p,
              GPtrArray  *words,
              guint       n,
              const char *usage,
              guint       line)
{
  if (words->len != n)
    return fail (p, line, "expected: %s", usage);
  return TRUE;
}

static gboolean
parse_world (Parser    *p,
             GPtrArray *words,
             guint      line)
{
  if (!expect_count (p, words, 2, "world FILE", line) || !once (p, ONCE_WORLD, "world", line))
    return FALSE;
  p->world_file = g_strdup (WORD (1));
  p->world_line = line;
  return TRUE;
}

static gboolean
parse_start (Parser    *p,
             GPtrArray *words,
             guint      line)
{
  g_autoptr(GDateTime) start = NULL;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc ();

  if (!expect_count (p, words, 2, "start YYYY-MM-DDTHH:MM:SSZ", line) || !once (p, ONCE_START, "start", line))
    return FALSE;
  start = g_date_time_new_from_iso8601 (WORD (1), utc);
  if (start == NULL || g_date_time_to_unix (start) < 0 || g_date_time_to_unix (start) > G_MAXUINT32 / 2)
    return fail (p, line, "bad start time '%s' (write it as 2025-04-14T11:30:00Z)", WORD (1));
  p->self->epoch = g_date_time_to_unix (start);
  return TRUE;
}

static gboolean
parse_seed (Parser    *p,
            GPtrArray *words,
            guint      line)
{
  guint64 seed;

  if (!expect_count (p, words, 2, "seed NUMBER", line) || !once (p, ONCE_SEED, "seed", line))
    return FALSE;
  if (!g_ascii_string_to_unsigned (WORD (1), 10, 0, G_MAXUINT64, &seed, NULL))
    return fail (p, line, "bad seed '%s': a whole number", WORD (1));
  p->self->seed = seed;
  return TRUE;
}

static gboolean
parse_mss (Parser    *p,
           GPtrArray *words,
           guint      line)
{
  guint64 mss;

  if (!expect_count (p, words, 2, "mss OCTETS", line) || !once (p, ONCE_MSS, "mss", line))
    return FALSE;
  /* 1460 fills an Ethernet frame (RFC 9293 3.7.1: MTU 1500 less 40 octets of headers). */
  if (!g_ascii_string_to_unsigned (WORD (1), 10, MIN_MSS, PL_SIM_DEFAULT_MSS, &mss, NULL))
    return fail (p, line, "bad mss '%s': %u to %u octets", WORD (1), MIN_MSS, PL_SIM_DEFAULT_MSS);
  p->self->mss = (guint) mss;
  return TRUE;
}

static gboolean
parse_dns (Parser    *p,
           GPtrArray *words,
           guint      line)
{
  PlSimTime delay;

  if (words->len != 3 || !g_str_equal (WORD (1), "delay"))
    return fail (p, line, "expected: dns delay TIME");
  if (!once (p, ONCE_DNS, "dns delay", line))
    return FALSE;
  if (!pl_sim_parse_time (WORD (2), &delay))
    return fail (p, line, "bad time '%s' (write 10ms, 1.5s, 20us)", WORD (2));
  p->self->dns_delay = delay;
  return TRUE;
}

static gboolean
parse_link (Parser    *p,
            GPtrArray *words,
            guint      line)
{
  PlSimLinkSpec *link;
  guint i;

  if (words->len < 2)
    return fail (p, line, "expected: link HOST HOST [latency TIME] [bandwidth RATE], or link default ...");
  if (g_str_equal (WORD (1), "default"))
    {
      if (!once (p, ONCE_DEFAULT_LINK, "link default", line))
        return FALSE;
      link = &p->self->default_link;
      link->line = line;
      i = 2;
    }
  else
    {
      if (words->len < 3)
        return fail (p, line, "expected: link HOST HOST [latency TIME] [bandwidth RATE]");
      link = g_new0 (PlSimLinkSpec, 1);
      link->a = g_strdup (WORD (1));
      link->b = g_strdup (WORD (2));
      link->line = line;
      /* Filled in from the default at the end, unless given here. */
      link->latency = PL_SIM_TIME_NEVER;
      link->bandwidth = G_MAXUINT64;
      g_ptr_array_add (p->self->links, link);
      i = 3;
    }
  for (; i < words->len; i += 2)
    {
      const char *key = WORD (i);
      const char *value = i + 1 < words->len ? WORD (i + 1) : NULL;

      if (value == NULL)
        return fail (p, line, "'%s' needs a value", key);
      if (g_str_equal (key, "latency"))
        {
          if (!pl_sim_parse_time (value, &link->latency))
            return fail (p, line, "bad time '%s' (write 10ms, 1.5s, 20us)", value);
        }
      else if (g_str_equal (key, "bandwidth"))
        {
          if (!pl_sim_parse_bandwidth (value, &link->bandwidth))
            return fail (p, line, "bad bandwidth '%s' (write 10Mbit/s, 56kbit/s, 1Gbit/s or unlimited)", value);
        }
      else
        return fail (p, line, "unknown link setting '%s' (known: latency, bandwidth)", key);
    }
  return TRUE;
}

static gboolean
parse_device (Parser    *p,
              GPtrArray *words,
              guint      line)
{
  g_autoptr(GPtrArray) options = g_ptr_array_new_with_free_func (g_free);
  PlSimDevice *device;
  gboolean in_options = FALSE;

  if (words->len < 2)
    return fail (p, line, "expected: device NAME user ADDRESS [address IP] [pull PROTOCOL [OPTION...]]");

  device = g_new0 (PlSimDevice, 1);
  device->name = g_strdup (WORD (1));
  device->line = line;
  device->pop3_delete = TRUE;
  device->auth = TRUE;
  device->options = g_new0 (char *, 1);
  g_ptr_array_add (p->self->devices, device);

  if (!is_name (device->name))
    return fail (p, line, "bad device name '%s': letters, digits, '-', '.' and '_', at most %u", device->name, MAX_NAME);

  for (guint i = 2; i < words->len; i++)
    {
      const char *key = WORD (i);
      const char *value = i + 1 < words->len ? WORD (i + 1) : NULL;

      if (g_str_equal (key, "user") || g_str_equal (key, "address") || g_str_equal (key, "pull"))
        {
          in_options = FALSE;
          if (value == NULL)
            return fail (p, line, "'%s' needs a value", key);
          i++;
          if (g_str_equal (key, "user"))
            {
              if (device->user != NULL)
                return fail (p, line, "'user' is given twice");
              device->user = g_strdup (value);
            }
          else if (g_str_equal (key, "address"))
            {
              if (device->address != NULL)
                return fail (p, line, "'address' is given twice");
              device->address = g_strdup (value);
            }
          else
            {
              PlProtocol protocol = pl_protocol_from_string (value);

              if (device->protocol != PL_PROTOCOL_UNKNOWN)
                return fail (p, line, "'pull' is given twice");
              if (protocol == PL_PROTOCOL_IMAP || protocol == PL_PROTOCOL_HTTP)
                return fail (p, line, "protocol '%s' is not simulated yet (pop3 is)", value);
              if (protocol != PL_PROTOCOL_POP3)
                return fail (p, line, "unknown protocol '%s' (known: pop3; imap and http are to come)", value);
              device->protocol = protocol;
              in_options = TRUE;
            }
        }
      else if (g_str_equal (key, "noauth"))
        device->auth = FALSE;
      else if (in_options)
        g_ptr_array_add (options, g_strdup (key));
      else
        return fail (p, line, "unknown device setting '%s' (known: user, address, pull, noauth)", key);
    }
  if (device->user == NULL)
    return fail (p, line, "device %s needs 'user ADDRESS': whose device is it?", device->name);

  for (guint i = 0; i < options->len; i++)
    {
      const char *option = g_ptr_array_index (options, i);

      if (g_str_equal (option, "delete"))
        device->pop3_delete = TRUE;
      else if (g_str_equal (option, "keep"))
        device->pop3_delete = FALSE;
      else
        return fail (p, line, "unknown pop3 option '%s' (known: delete, keep)", option);
    }
  g_ptr_array_add (options, NULL);
  g_strfreev (device->options);
  device->options = (char **) g_ptr_array_steal (options, NULL);
  return TRUE;
}

/* "textbook", "textbook 1", "message NAME", "empty": from word @i on; *@i moves past it. */
static gboolean
parse_ref (Parser     *p,
           GPtrArray  *words,
           guint      *i,
           gboolean    allow_empty,
           MessageRef *ref,
           guint       line)
{
  const char *word = WORD (*i);
  const char *next = *i + 1 < words->len ? WORD (*i + 1) : NULL;

  memset (ref, 0, sizeof *ref);
  if (g_str_equal (word, "textbook"))
    {
      ref->kind = REF_TEXTBOOK;
      if (next != NULL && (g_str_equal (next, "1") || g_str_equal (next, "2")))
        {
          ref->index = next[0] - '0';
          (*i)++;
        }
      else if (next != NULL && g_ascii_isdigit (next[0]))
        return fail (p, line, "the textbook has messages 1 and 2, not '%s'", next);
      (*i)++;
      return TRUE;
    }
  if (g_str_equal (word, "message"))
    {
      if (next == NULL)
        return fail (p, line, "'message' needs the name of a message block");
      ref->kind = REF_MESSAGE;
      ref->name = g_strdup (next);
      *i += 2;
      return TRUE;
    }
  if (allow_empty && g_str_equal (word, "empty"))
    {
      ref->kind = REF_EMPTY;
      (*i)++;
      return TRUE;
    }
  return fail (p, line, "expected a message: 'textbook', 'textbook 1', 'textbook 2' or 'message NAME'%s, not '%s'",
               allow_empty ? " or 'empty'" : "", word);
}

static gboolean
parse_mailbox (Parser    *p,
               GPtrArray *words,
               guint      line)
{
  RawMailbox *mailbox;
  guint i = 2;

  if (words->len < 3)
    return fail (p, line, "expected: mailbox ADDRESS (empty | textbook [1|2] | message NAME)...");
  mailbox = g_new0 (RawMailbox, 1);
  mailbox->user = g_strdup (WORD (1));
  mailbox->refs = g_array_new (FALSE, TRUE, sizeof (MessageRef));
  g_array_set_clear_func (mailbox->refs, message_ref_clear);
  mailbox->line = line;
  g_ptr_array_add (p->mailboxes, mailbox);

  while (i < words->len)
    {
      MessageRef ref;

      if (!parse_ref (p, words, &i, TRUE, &ref, line))
        return FALSE;
      g_array_append_val (mailbox->refs, ref);
    }
  return TRUE;
}

static gboolean
parse_at (Parser    *p,
          GPtrArray *words,
          guint      line)
{
  RawAction *action;
  const char *verb;
  guint i;

  if (words->len < 4)
    return fail (p, line, "expected: at TIME send DEVICE to ADDRESS ..., or at TIME pull DEVICE");

  action = g_new0 (RawAction, 1);
  action->recipients = g_ptr_array_new_with_free_func (g_free);
  action->line = line;
  g_ptr_array_add (p->actions, action);

  if (!pl_sim_parse_time (WORD (1), &action->at))
    return fail (p, line, "bad time '%s' (write 0, 1.5s, 250ms, 20us)", WORD (1));
  verb = WORD (2);
  action->device = g_strdup (WORD (3));

  if (g_str_equal (verb, "send"))
    {
      action->kind = PL_SIM_ACTION_SEND;
      for (i = 4; i < words->len; )
        {
          const char *key = WORD (i);
          const char *value = i + 1 < words->len ? WORD (i + 1) : NULL;

          if (g_str_equal (key, "textbook") || g_str_equal (key, "message"))
            {
              if (action->ref.kind != REF_NONE)
                return fail (p, line, "one message per send");
              if (!parse_ref (p, words, &i, FALSE, &action->ref, line))
                return FALSE;
              continue;
            }
          if (value == NULL)
            return fail (p, line, "'%s' needs a value", key);
          if (g_str_equal (key, "to"))
            {
              g_auto(GStrv) addresses = g_strsplit (value, ",", -1);

              for (guint a = 0; addresses[a] != NULL; a++)
                g_ptr_array_add (action->recipients, g_strdup (g_strstrip (addresses[a])));
            }
          else if (g_str_equal (key, "subject"))
            {
              g_free (action->subject);
              action->subject = g_strdup (value);
            }
          else if (g_str_equal (key, "body"))
            {
              g_free (action->body);
              action->body = g_strdup (value);
            }
          else
            return fail (p, line, "unknown send setting '%s' (known: to, message, textbook, subject, body)", key);
          i += 2;
        }
      if (action->recipients->len == 0)
        return fail (p, line, "send needs 'to ADDRESS': who gets the message?");
      if (action->ref.kind != REF_NONE && (action->subject != NULL || action->body != NULL))
        return fail (p, line, "give either a message (message NAME, textbook N) or subject and body, not both");
    }
  else if (g_str_equal (verb, "pull"))
    {
      g_autoptr(GPtrArray) script = NULL;

      action->kind = PL_SIM_ACTION_PULL;
      i = 4;
      if (i < words->len)
        {
          if (!g_str_equal (WORD (i), "script"))
            return fail (p, line, "unknown pull setting '%s' (known: script \"LINE\"...)", WORD (i));
          if (i + 1 >= words->len)
            return fail (p, line, "'script' needs the command lines to type, each in quotes");
          script = g_ptr_array_new_with_free_func (g_free);
          for (i++; i < words->len; i++)
            {
              const char *command = WORD (i);

              for (const char *c = command; *c != '\0'; c++)
                if ((guchar) *c < 0x20 || *c == 0x7f)
                  return fail (p, line, "a script line holds a control character");
              if (*command == '\0')
                return fail (p, line, "a script line is empty");
              g_ptr_array_add (script, g_strdup (command));
            }
          g_ptr_array_add (script, NULL);
          action->script = (char **) g_ptr_array_steal (script, NULL);
        }
    }
  else
    return fail (p, line, "unknown action '%s' (known: send, pull)", verb);
  return TRUE;
}

typedef gboolean (*StatementFunc) (Parser *p, GPtrArray *words, guint line);

/* Adding a statement is adding a row. */
static const struct {
  const char    *keyword;
  StatementFunc  parse;
} statements[] = {
  { "world",   parse_world },
  { "start",   parse_start },
  { "seed",    parse_seed },
  { "mss",     parse_mss },
  { "dns",     parse_dns },
  { "link",    parse_link },
  { "device",  parse_device },
  { "mailbox", parse_mailbox },
  { "at",      parse_at },
};

/* The lines after "message NAME" up to ".", as SMTP's DATA writes them (RFC 5321 4.5.2). */
static gboolean
read_message_block (Parser      *p,
                    char       **lines,
                    guint        n_lines,
                    guint       *index,
                    const char  *name)
{
  guint start = *index;
  GByteArray *text = g_byte_array_new ();
  MessageBlock *block;

  for (guint i = start + 1; i < n_lines; i++)
    {
      const char *content = lines[i];
      gsize len = strlen (content);

      if (len > 0 && content[len - 1] == '\r')
        len--;
      if (len == 1 && content[0] == '.')
        {
          block = g_new0 (MessageBlock, 1);
          block->bytes = g_byte_array_free_to_bytes (text);
          block->line = start + 1;
          g_hash_table_insert (p->messages, g_strdup (name), block);
          *index = i;
          return TRUE;
        }
      if (len > 0 && content[0] == '.')
        {
          content++;
          len--;
        }
      g_byte_array_append (text, (const guint8 *) content, (guint) len);
      g_byte_array_append (text, (const guint8 *) "\r\n", 2);
    }
  g_byte_array_unref (text);
  return fail (p, start + 1, "message %s has no end: finish it with a line holding only '.'", name);
}

static gboolean
parse_lines (Parser     *p,
             const char *data,
             gsize       len)
{
  g_autofree char *copy = g_strndup (data, len);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);
  guint n_lines = g_strv_length (lines);

  for (guint i = 0; i < n_lines; i++)
    {
      g_autoptr(GPtrArray) words = NULL;
      guint line = i + 1;
      const char *keyword;
      gsize line_len = strlen (lines[i]);
      gboolean known = FALSE;

      if (line_len > 0 && lines[i][line_len - 1] == '\r')
        lines[i][line_len - 1] = '\0';
      words = tokenize (p, lines[i], line);
      if (words == NULL)
        return FALSE;
      if (words->len == 0)
        continue;
      keyword = WORD (0);

      if (g_str_equal (keyword, "message"))
        {
          if (words->len != 2)
            return fail (p, line, "expected: message NAME, then the message's lines, then a line '.'");
          if (!is_name (WORD (1)))
            return fail (p, line, "bad message name '%s'", WORD (1));
          if (g_hash_table_contains (p->messages, WORD (1)))
            return fail (p, line, "message %s is defined twice", WORD (1));
          if (!read_message_block (p, lines, n_lines, &i, WORD (1)))
            return FALSE;
          continue;
        }
      for (gsize s = 0; s < G_N_ELEMENTS (statements); s++)
        if (g_str_equal (keyword, statements[s].keyword))
          {
            if (!statements[s].parse (p, words, line))
              return FALSE;
            known = TRUE;
            break;
          }
      if (!known)
        return fail (p, line, "unknown statement '%s' (known: world, start, seed, mss, dns, link, "
                     "device, mailbox, message, at)", keyword);
    }
  return TRUE;
}

/* Checking against the world ------------------------------------------------------------ */

static gboolean
load_world (Parser   *p,
            PlWorld  *fallback)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (p->world_file == NULL)
    {
      if (fallback != NULL)
        p->self->world = g_object_ref (fallback);
      else
        {
          p->self->world = pl_world_new_default (&local_error);
          if (p->self->world == NULL)
            {
              g_set_error (p->error, PL_SIM_ERROR, PL_SIM_ERROR_WORLD, "%s", local_error->message);
              return FALSE;
            }
        }
      return TRUE;
    }

  if (g_path_is_absolute (p->world_file) || p->base_dir == NULL)
    path = g_strdup (p->world_file);
  else
    path = g_build_filename (p->base_dir, p->world_file, NULL);
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    return fail (p, p->world_line, "cannot read the world file: %s", local_error->message);
  p->self->world = pl_world_new_from_data (contents, (gssize) length, path, &local_error);
  if (p->self->world == NULL)
    return fail (p, p->world_line, "the world file is wrong: %s", local_error->message);
  return TRUE;
}

/* "bob@b.example": the world's user, or NULL after an error naming @line. */
static const PlWorldUser *
lookup_user (Parser     *p,
             const char *address,
             guint       line)
{
  const char *at = strrchr (address, '@');
  g_autofree char *local = NULL;
  const PlWorldUser *user;

  if (at == NULL || at == address || at[1] == '\0')
    {
      fail (p, line, "'%s' is not a mail address (user@domain)", address);
      return NULL;
    }
  local = g_strndup (address, at - address);
  user = pl_world_lookup_user (p->self->world, at + 1, local);
  if (user == NULL)
    fail (p, line, "unknown user '%s': the world (%s) has no such user", address,
          pl_world_get_source (p->self->world));
  return user;
}

static guint32
network_of_domain (guint domain_index)
{
  return documentation_networks[domain_index % 3] + DOMAIN_BLOCK * (domain_index / 3);
}

static gboolean
address_taken (PlSimScenario *self,
               guint32        address)
{
  for (guint i = 0; i < self->hosts->len; i++)
    if (((PlSimHostSpec *) g_ptr_array_index (self->hosts, i))->address == address)
      return TRUE;
  return FALSE;
}

static guint
domain_index (PlWorld    *world,
              const char *name)
{
  for (guint i = 0; i < pl_world_get_n_domains (world); i++)
    if (g_ascii_strcasecmp (pl_world_get_domain (world, i)->name, name) == 0)
      return i;
  return 0;
}

/* Servers at .25 of their domain's block; devices with no address of their own from .10 on. */
static gboolean
plan_hosts (Parser *p)
{
  PlSimScenario *self = p->self;
  PlWorld *world = self->world;
  guint n_domains = pl_world_get_n_domains (world);
  g_autofree guint *next_device = NULL;

  if (n_domains > 3 * (256 / DOMAIN_BLOCK))
    return fail (p, 0, "the world has %u domains; the simulator gives addresses to at most %u",
                 n_domains, 3 * (256 / DOMAIN_BLOCK));

  for (guint i = 0; i < pl_world_get_n_servers (world); i++)
    {
      const PlWorldServer *server = pl_world_get_server (world, i);
      PlSimHostSpec *host = g_new0 (PlSimHostSpec, 1);

      host->name = g_strdup (server->hostname);
      host->role = server->role;
      host->domain = g_strdup (server->domain);
      host->server = server;
      host->address = network_of_domain (domain_index (world, server->domain)) + SERVER_OFFSET;
      g_ptr_array_add (self->hosts, host);
    }

  /* Addresses the scenario gives come first, so that the plan steps around them. */
  for (guint i = 0; i < self->devices->len; i++)
    {
      PlSimDevice *device = g_ptr_array_index (self->devices, i);
      g_autoptr(GInetAddress) inet = NULL;
      const guint8 *bytes;
      guint32 address;

      if (device->address == NULL)
        continue;
      inet = g_inet_address_new_from_string (device->address);
      if (inet == NULL || g_inet_address_get_family (inet) != G_SOCKET_FAMILY_IPV4)
        return fail (p, device->line, "bad address '%s': the simulator uses IPv4 (192.0.2.10)", device->address);
      bytes = g_inet_address_to_bytes (inet);
      address = (guint32) bytes[0] << 24 | (guint32) bytes[1] << 16 | (guint32) bytes[2] << 8 | bytes[3];
      if (bytes[3] == 0 || bytes[3] == 255 || bytes[0] == 0 || bytes[0] >= 224 || bytes[0] == 127)
        return fail (p, device->line, "address %s cannot be a host's (network, broadcast, loopback or multicast)",
                     device->address);
      if (address_taken (self, address))
        return fail (p, device->line, "address %s is another host's", device->address);
      {
        PlSimHostSpec *host = g_new0 (PlSimHostSpec, 1);

        host->name = g_strdup (device->name);
        host->role = PL_ROLE_USER_AGENT;
        host->owner = g_strdup (device->user);
        host->domain = g_strdup (strrchr (device->user, '@') + 1);
        host->device = device;
        host->address = address;
        g_ptr_array_add (self->hosts, host);
      }
    }

  next_device = g_new0 (guint, n_domains);
  for (guint i = 0; i < self->devices->len; i++)
    {
      PlSimDevice *device = g_ptr_array_index (self->devices, i);
      const char *domain = strrchr (device->user, '@') + 1;
      guint d = domain_index (world, domain);
      guint32 address = 0;
      PlSimHostSpec *host;

      if (device->address != NULL)
        continue;
      while (address == 0)
        {
          guint offset = FIRST_DEVICE + next_device[d]++;

          if (offset >= SERVER_OFFSET)
            offset++;
          if (offset >= DOMAIN_BLOCK - 1)
            return fail (p, device->line, "too many devices in %s for its address block: give this one "
                         "an address", domain);
          if (!address_taken (self, network_of_domain (d) + offset))
            address = network_of_domain (d) + offset;
        }
      host = g_new0 (PlSimHostSpec, 1);
      host->name = g_strdup (device->name);
      host->role = PL_ROLE_USER_AGENT;
      host->owner = g_strdup (device->user);
      host->domain = g_strdup (domain);
      host->device = device;
      host->address = address;
      g_ptr_array_add (self->hosts, host);
    }

  /* Hosts in a fixed order whatever the addresses: servers, then devices as written. */
  {
    g_autoptr(GPtrArray) ordered = g_ptr_array_new_with_free_func (host_free);

    for (guint i = 0; i < pl_world_get_n_servers (world); i++)
      g_ptr_array_add (ordered, g_ptr_array_steal_index (self->hosts, 0));
    for (guint i = 0; i < self->devices->len; i++)
      for (guint h = 0; h < self->hosts->len; h++)
        {
          PlSimHostSpec *host = g_ptr_array_index (self->hosts, h);

          if (host->device == g_ptr_array_index (self->devices, i))
            {
              g_ptr_array_add (ordered, g_ptr_array_steal_index (self->hosts, h));
              break;
            }
        }
    g_ptr_array_unref (self->hosts);
    self->hosts = g_steal_pointer (&ordered);
  }
  return TRUE;
}

static gboolean
check_devices (Parser *p)
{
  PlSimScenario *self = p->self;

  for (guint i = 0; i < self->devices->len; i++)
    {
      PlSimDevice *device = g_ptr_array_index (self->devices, i);

      if (pl_world_lookup_server (self->world, device->name) != NULL
          && g_ascii_strcasecmp (pl_world_lookup_server (self->world, device->name)->hostname, device->name) == 0)
        return fail (p, device->line, "device %s has the name of a server", device->name);
      for (guint j = 0; j < i; j++)
        if (g_str_equal (((PlSimDevice *) g_ptr_array_index (self->devices, j))->name, device->name))
          return fail (p, device->line, "device %s is declared twice (first at line %u)", device->name,
                       ((PlSimDevice *) g_ptr_array_index (self->devices, j))->line);
      if (lookup_user (p, device->user, device->line) == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_links (Parser *p)
{
  PlSimScenario *self = p->self;

  for (guint i = 0; i < self->links->len; i++)
    {
      PlSimLinkSpec *link = g_ptr_array_index (self->links, i);
      const PlSimHostSpec *a = pl_sim_scenario_lookup_host (self, link->a);
      const PlSimHostSpec *b = pl_sim_scenario_lookup_host (self, link->b);

      if (a == NULL)
        return fail (p, link->line, "unknown host '%s' (hosts: the world's servers and the devices declared)", link->a);
      if (b == NULL)
        return fail (p, link->line, "unknown host '%s' (hosts: the world's servers and the devices declared)", link->b);
      if (a == b)
        return fail (p, link->line, "a link joins two different hosts, not %s to itself", link->a);
      /* Names as the hosts spell them, so that lookups need not care about case. */
      g_free (link->a);
      g_free (link->b);
      link->a = g_strdup (a->name);
      link->b = g_strdup (b->name);
      for (guint j = 0; j < i; j++)
        {
          PlSimLinkSpec *other = g_ptr_array_index (self->links, j);

          if ((g_str_equal (other->a, link->a) && g_str_equal (other->b, link->b))
              || (g_str_equal (other->a, link->b) && g_str_equal (other->b, link->a)))
            return fail (p, link->line, "the link %s - %s is given twice (first at line %u)",
                         link->a, link->b, other->line);
        }
      if (link->latency == PL_SIM_TIME_NEVER)
        link->latency = self->default_link.latency;
      if (link->bandwidth == G_MAXUINT64)
        link->bandwidth = self->default_link.bandwidth;
    }
  return TRUE;
}

static GBytes *
resolve_ref (Parser           *p,
             const MessageRef *ref,
             guint             textbook_index,
             guint             line)
{
  MessageBlock *block;

  switch (ref->kind)
    {
    case REF_TEXTBOOK:
      return pl_textbook_message (textbook_index);
    case REF_MESSAGE:
      block = g_hash_table_lookup (p->messages, ref->name);
      if (block == NULL)
        {
          fail (p, line, "unknown message '%s' (define it with a 'message %s' block)", ref->name, ref->name);
          return NULL;
        }
      return g_bytes_ref (block->bytes);
    case REF_NONE:
    case REF_EMPTY:
    default:
      g_assert_not_reached ();
    }
  return NULL;
}

static gboolean
check_mailboxes (Parser *p)
{
  PlSimScenario *self = p->self;

  for (guint i = 0; i < p->mailboxes->len; i++)
    {
      RawMailbox *raw = g_ptr_array_index (p->mailboxes, i);
      const PlWorldUser *user = lookup_user (p, raw->user, raw->line);
      PlSimMailboxSpec *mailbox;

      if (user == NULL)
        return FALSE;
      if (pl_sim_scenario_get_mailbox (self, user->address) != NULL)
        return fail (p, raw->line, "the mailbox of %s is given twice (first at line %u)", user->address,
                     pl_sim_scenario_get_mailbox (self, user->address)->line);
      mailbox = g_new0 (PlSimMailboxSpec, 1);
      mailbox->user = g_strdup (user->address);
      mailbox->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      mailbox->line = raw->line;
      g_ptr_array_add (self->mailboxes, mailbox);

      for (guint r = 0; r < raw->refs->len; r++)
        {
          const MessageRef *ref = &g_array_index (raw->refs, MessageRef, r);

          if (ref->kind == REF_EMPTY)
            {
              if (raw->refs->len > 1)
                return fail (p, raw->line, "a mailbox is 'empty' or holds messages, not both");
              continue;
            }
          if (ref->kind == REF_TEXTBOOK && ref->index == 0)
            {
              for (guint t = 0; t < PL_TEXTBOOK_N_MESSAGES; t++)
                g_ptr_array_add (mailbox->messages, pl_textbook_message (t));
              continue;
            }
          {
            GBytes *bytes = resolve_ref (p, ref, ref->index > 0 ? ref->index - 1 : 0, raw->line);

            if (bytes == NULL)
              return FALSE;
            g_ptr_array_add (mailbox->messages, bytes);
          }
        }
    }
  return TRUE;
}

/* A message for "send ... subject S body B": the headers a user agent writes; the server adds Date and Message-ID. */
static GBytes *
compose_message (const PlWorldUser *from,
                 GPtrArray         *recipients,
                 const char        *subject,
                 const char        *body)
{
  GString *text = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;

  if (from->full_name != NULL)
    g_string_append_printf (text, "From: %s <%s>\r\n", from->full_name, from->address);
  else
    g_string_append_printf (text, "From: %s\r\n", from->address);
  g_string_append (text, "To: ");
  for (guint i = 0; i < recipients->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? ", " : "", (const char *) g_ptr_array_index (recipients, i));
  g_string_append_printf (text, "\r\nSubject: %s\r\n\r\n", subject != NULL ? subject : "(no subject)");
  lines = g_strsplit (body != NULL ? body : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i + 1] == NULL && lines[i][0] == '\0' && i > 0)
        break;
      g_string_append_printf (text, "%s\r\n", lines[i]);
    }
  return g_string_free_to_bytes (text);
}

static gboolean
check_actions (Parser *p)
{
  PlSimScenario *self = p->self;

  for (guint i = 0; i < p->actions->len; i++)
    {
      RawAction *raw = g_ptr_array_index (p->actions, i);
      const PlSimDevice *device = pl_sim_scenario_lookup_device (self, raw->device);
      PlSimAction *action;

      if (device == NULL)
        {
          if (pl_sim_scenario_lookup_host (self, raw->device) != NULL)
            return fail (p, raw->line, "%s is a server; actions are done by devices (declare one with 'device')",
                         raw->device);
          return fail (p, raw->line, "unknown host '%s': declare it first with 'device %s user ADDRESS'",
                       raw->device, raw->device);
        }
      action = g_new0 (PlSimAction, 1);
      action->kind = raw->kind;
      action->at = raw->at;
      action->device = g_strdup (device->name);
      action->line = raw->line;
      g_ptr_array_add (self->actions, action);

      if (raw->kind == PL_SIM_ACTION_PULL)
        {
          if (device->protocol == PL_PROTOCOL_UNKNOWN)
            return fail (p, raw->line, "device %s does not pull mail: give it 'pull pop3' where it is declared",
                         device->name);
          action->script = g_strdupv (raw->script);
          continue;
        }

      for (guint r = 0; r < raw->recipients->len; r++)
        {
          const char *address = g_ptr_array_index (raw->recipients, r);
          g_autofree char *args = g_strdup_printf ("TO:<%s>", address);
          g_autoptr(GError) syntax = NULL;
          g_autoptr(PlSmtpPath) path = pl_smtp_parse_path (args, "TO", &syntax);

          if (path == NULL || path->domain == NULL || path->params->len > 0)
            return fail (p, raw->line, "'%s' is not a mail address (user@domain)%s%s", address,
                         syntax != NULL ? ": " : "", syntax != NULL ? syntax->message : "");
        }
      g_ptr_array_add (raw->recipients, NULL);
      action->recipients = g_strdupv ((char **) raw->recipients->pdata);
      g_ptr_array_remove_index (raw->recipients, raw->recipients->len - 1);

      if (raw->ref.kind != REF_NONE)
        {
          if (raw->ref.kind == REF_TEXTBOOK && raw->ref.index == 0)
            return fail (p, raw->line, "send one textbook message: 'textbook 1' or 'textbook 2'");
          action->message = resolve_ref (p, &raw->ref, raw->ref.index > 0 ? raw->ref.index - 1 : 0, raw->line);
          if (action->message == NULL)
            return FALSE;
        }
      else
        {
          const PlWorldUser *user = lookup_user (p, device->user, device->line);

          action->message = compose_message (user, raw->recipients, raw->subject, raw->body);
        }
    }
  return TRUE;
}

static gint
compare_actions (gconstpointer a,
                 gconstpointer b)
{
  const PlSimAction *x = *(const PlSimAction *const *) a;
  const PlSimAction *y = *(const PlSimAction *const *) b;

  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line ? 1 : 0;
}

PlSimScenario *
pl_sim_scenario_new_from_data (const char  *data,
                               gssize       len,
                               const char  *source,
                               const char  *base_dir,
                               PlWorld     *world,
                               GError     **error)
{
  g_autoptr(PlSimScenario) self = NULL;
  Parser p = { 0 };
  gsize length;
  gboolean ok;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (world == NULL || PL_IS_WORLD (world), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (PL_TYPE_SIM_SCENARIO, NULL);
  self->source = g_strdup (source);
  p.self = self;
  p.source = source;
  p.base_dir = base_dir;
  p.error = error;
  p.messages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, message_block_free);
  p.mailboxes = g_ptr_array_new_with_free_func (raw_mailbox_free);
  p.actions = g_ptr_array_new_with_free_func (raw_action_free);

  length = len < 0 ? strlen (data) : (gsize) len;
  if (memchr (data, '\0', length) != NULL)
    ok = fail (&p, 0, "a scenario is text: this one holds a NUL byte");
  else if (!g_utf8_validate (data, (gssize) length, NULL))
    ok = fail (&p, 0, "a scenario is UTF-8 text: this one is not");
  else
    ok = parse_lines (&p, data, length)
         && load_world (&p, world)
         && check_devices (&p)
         && plan_hosts (&p)
         && check_links (&p)
         && check_mailboxes (&p)
         && check_actions (&p);

  g_free (p.world_file);
  g_hash_table_unref (p.messages);
  g_ptr_array_unref (p.mailboxes);
  g_ptr_array_unref (p.actions);
  if (!ok)
    return NULL;
  g_ptr_array_sort (self->actions, compare_actions);
  return g_steal_pointer (&self);
}

PlSimScenario *
pl_sim_scenario_new_from_file (const char  *path,
                               PlWorld     *world,
                               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *base_dir = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_SCENARIO, "%s", local_error->message);
      return NULL;
    }
  base_dir = g_path_get_dirname (path);
  return pl_sim_scenario_new_from_data (contents, (gssize) length, path, base_dir, world, error);
}

GBytes *
pl_sim_scenario_get_builtin (const char *name)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  path = g_strconcat (RESOURCE_PREFIX, name, ".scenario", NULL);
  return g_resource_lookup_data (pl_sim_resources_get_resource (), path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
}

PlSimScenario *
pl_sim_scenario_new_default (PlWorld  *world,
                             GError  **error)
{
  g_autoptr(GBytes) bytes = pl_sim_scenario_get_builtin ("textbook");
  gsize len;
  const char *data;

  /* Compiled in: only a broken build could lose it. */
  g_assert (bytes != NULL);
  data = g_bytes_get_data (bytes, &len);
  return pl_sim_scenario_new_from_data (data, (gssize) len, "textbook.scenario (built in)", NULL, world, error);
}

/* Accessors ----------------------------------------------------------------------------- */

const char *
pl_sim_scenario_get_source (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  return self->source;
}

PlWorld *
pl_sim_scenario_get_world (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  return self->world;
}

guint
pl_sim_scenario_get_mss (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), PL_SIM_DEFAULT_MSS);
  return self->mss;
}

guint64
pl_sim_scenario_get_seed (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->seed;
}

gint64
pl_sim_scenario_get_epoch (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->epoch;
}

PlSimTime
pl_sim_scenario_get_dns_delay (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->dns_delay;
}

guint
pl_sim_scenario_get_n_devices (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->devices->len;
}

const PlSimDevice *
pl_sim_scenario_get_device (PlSimScenario *self,
                            guint          index)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (index < self->devices->len, NULL);
  return g_ptr_array_index (self->devices, index);
}

const PlSimDevice *
pl_sim_scenario_lookup_device (PlSimScenario *self,
                               const char    *name)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; i < self->devices->len; i++)
    {
      const PlSimDevice *device = g_ptr_array_index (self->devices, i);

      if (g_str_equal (device->name, name))
        return device;
    }
  return NULL;
}

guint
pl_sim_scenario_get_n_hosts (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->hosts->len;
}

const PlSimHostSpec *
pl_sim_scenario_get_host (PlSimScenario *self,
                          guint          index)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (index < self->hosts->len, NULL);
  return g_ptr_array_index (self->hosts, index);
}

const PlSimHostSpec *
pl_sim_scenario_lookup_host (PlSimScenario *self,
                             const char    *name)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  for (guint i = 0; i < self->hosts->len; i++)
    {
      const PlSimHostSpec *host = g_ptr_array_index (self->hosts, i);

      if (host->device != NULL ? g_str_equal (host->name, name) : g_ascii_strcasecmp (host->name, name) == 0)
        return host;
    }
  return NULL;
}

const PlSimLinkSpec *
pl_sim_scenario_get_link (PlSimScenario *self,
                          const char    *a,
                          const char    *b)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (a != NULL && b != NULL, NULL);
  for (guint i = 0; i < self->links->len; i++)
    {
      const PlSimLinkSpec *link = g_ptr_array_index (self->links, i);

      if ((g_str_equal (link->a, a) && g_str_equal (link->b, b))
          || (g_str_equal (link->a, b) && g_str_equal (link->b, a)))
        return link;
    }
  return &self->default_link;
}

guint
pl_sim_scenario_get_n_links (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->links->len;
}

const PlSimLinkSpec *
pl_sim_scenario_get_nth_link (PlSimScenario *self,
                              guint          index)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (index < self->links->len, NULL);
  return g_ptr_array_index (self->links, index);
}

const PlSimMailboxSpec *
pl_sim_scenario_get_mailbox (PlSimScenario *self,
                             const char    *user)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (user != NULL, NULL);
  for (guint i = 0; i < self->mailboxes->len; i++)
    {
      const PlSimMailboxSpec *mailbox = g_ptr_array_index (self->mailboxes, i);

      if (g_str_equal (mailbox->user, user))
        return mailbox;
    }
  return NULL;
}

guint
pl_sim_scenario_get_n_actions (PlSimScenario *self)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), 0);
  return self->actions->len;
}

const PlSimAction *
pl_sim_scenario_get_action (PlSimScenario *self,
                            guint          index)
{
  g_return_val_if_fail (PL_IS_SIM_SCENARIO (self), NULL);
  g_return_val_if_fail (index < self->actions->len, NULL);
  return g_ptr_array_index (self->actions, index);
}
