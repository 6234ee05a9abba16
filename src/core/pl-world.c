/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlWorld: the mail domains, their servers, users and ports, and the queue's timing, read from a world file. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-world.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pl-world-resources.h"

#define DEFAULT_RESOURCE "/org/postlab/Postlab/world/world.ini"

/* The longest local part a world's user may have: the mail store's limit for a user name. */
#define USER_NAME_MAX 64

struct _PlWorld
{
  GObject     parent_instance;

  char       *source;
  GPtrArray  *domains;   /* of PlWorldDomain* */
  GPtrArray  *servers;   /* of PlWorldServer* */
  GArray     *retry_intervals;  /* of double, seconds */
  double      connect_timeout;
  double      reply_timeout;
};

G_DEFINE_FINAL_TYPE (PlWorld, pl_world, G_TYPE_OBJECT)
G_DEFINE_QUARK (pl-world-error-quark, pl_world_error)

static void
user_free (PlWorldUser *user)
{
  g_free (user->name);
  g_free (user->domain);
  g_free (user->address);
  g_free (user->password);
  g_free (user->full_name);
  g_free (user->mailbox);
  g_free (user);
}

static void
domain_free (PlWorldDomain *domain)
{
  g_free (domain->name);
  g_free (domain->server);
  g_free (domain->postmaster);
  g_ptr_array_unref (domain->users);
  g_free (domain);
}

static void
server_free (PlWorldServer *server)
{
  g_free (server->hostname);
  g_free (server->domain);
  g_strfreev (server->listen);
  g_strfreev (server->trusted_networks);
  g_ptr_array_unref (server->trusted_masks);
  g_free (server);
}

static void
pl_world_finalize (GObject *object)
{
  PlWorld *self = PL_WORLD (object);

  g_free (self->source);
  g_ptr_array_unref (self->domains);
  g_ptr_array_unref (self->servers);
  g_array_unref (self->retry_intervals);
  G_OBJECT_CLASS (pl_world_parent_class)->finalize (object);
}

static void
pl_world_class_init (PlWorldClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_world_finalize;
}

static void
pl_world_init (PlWorld *self)
{
  static const double default_intervals[] = { 60, 300, 900, 3600 };

  self->domains = g_ptr_array_new_with_free_func ((GDestroyNotify) domain_free);
  self->servers = g_ptr_array_new_with_free_func ((GDestroyNotify) server_free);
  self->retry_intervals = g_array_new (FALSE, FALSE, sizeof (double));
  g_array_append_vals (self->retry_intervals, default_intervals, G_N_ELEMENTS (default_intervals));
  self->connect_timeout = 10;
  self->reply_timeout = 300;
}

/* The layout of the file --------------------------------------------------------------------- */

/*
 * GKeyFile reads the values but keeps no line numbers, and silently merges
 * a group or key given twice. So the file is first read here, line by line,
 * the way g_key_file_parse_line() reads it: leading blanks skipped; '#' or
 * nothing is a comment; "[name]" a group; "key = value" a pair. Each group
 * and key remembers its line, for the messages a person needs to fix it.
 */
typedef struct {
  const char *source;
  GPtrArray  *groups;       /* of char*, in file order */
  GHashTable *group_lines;  /* group -> line */
  GHashTable *key_lines;    /* "group\nkey" -> line */
  GHashTable *group_keys;   /* group -> GPtrArray of char* keys, in file order */
} Layout;

static void
layout_clear (Layout *layout)
{
  g_clear_pointer (&layout->groups, g_ptr_array_unref);
  g_clear_pointer (&layout->group_lines, g_hash_table_unref);
  g_clear_pointer (&layout->key_lines, g_hash_table_unref);
  g_clear_pointer (&layout->group_keys, g_hash_table_unref);
}

static char *
key_id (const char *group,
        const char *key)
{
  return g_strconcat (group, "\n", key, NULL);
}

static guint
group_line (const Layout *layout,
            const char   *group)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (layout->group_lines, group));
}

static guint
key_line (const Layout *layout,
          const char   *group,
          const char   *key)
{
  g_autofree char *id = key_id (group, key);
  guint line = GPOINTER_TO_UINT (g_hash_table_lookup (layout->key_lines, id));

  return line != 0 ? line : group_line (layout, group);
}

static gboolean
fail (GError     **error,
      PlWorldError code,
      const char  *source,
      guint        line,
      const char  *format,
      ...) G_GNUC_PRINTF (5, 6);

static gboolean
fail (GError     **error,
      PlWorldError code,
      const char  *source,
      guint        line,
      const char  *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (line > 0)
    g_set_error (error, PL_WORLD_ERROR, code, "%s:%u: %s", source, line, message);
  else
    g_set_error (error, PL_WORLD_ERROR, code, "%s: %s", source, message);
  return FALSE;
}

static gboolean
read_layout (const char  *data,
             gsize        len,
             Layout      *layout,
             GError     **error)
{
  const char *p = data;
  const char *end = data + len;
  const char *group = NULL;
  guint lineno = 0;

  layout->groups = g_ptr_array_new_with_free_func (g_free);
  layout->group_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  layout->key_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  layout->group_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) g_ptr_array_unref);

  while (p < end)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = nl != NULL ? nl : end;
      g_autofree char *line = g_strndup (p, (gsize) (line_end - p));
      char *start = line;

      lineno++;
      p = nl != NULL ? nl + 1 : end;
      /* (The caller has refused NUL bytes, so the line is all of it.) */
      while (g_ascii_isspace (*start))
        start++;
      g_strchomp (start);

      if (*start == '\0' || *start == '#')
        continue;

      if (*start == '[')
        {
          char *close = strchr (start, ']');
          g_autofree char *name = NULL;

          if (close == NULL || close[1] != '\0' || close == start + 1)
            return fail (error, PL_WORLD_ERROR_SYNTAX, layout->source, lineno,
                         "\"%s\" is not a group header (write it as [domain a.example])", start);
          name = g_strndup (start + 1, (gsize) (close - start - 1));
          if (strchr (name, '[') != NULL)
            return fail (error, PL_WORLD_ERROR_SYNTAX, layout->source, lineno,
                         "\"%s\" is not a group header (write it as [domain a.example])", start);
          if (g_hash_table_contains (layout->group_lines, name))
            return fail (error, PL_WORLD_ERROR_INVALID, layout->source, lineno,
                         "[%s] is given twice (first on line %u): put its keys in one group",
                         name, group_line (layout, name));
          g_hash_table_insert (layout->group_lines, g_strdup (name), GUINT_TO_POINTER (lineno));
          g_hash_table_insert (layout->group_keys, g_strdup (name),
                               g_ptr_array_new_with_free_func (g_free));
          g_ptr_array_add (layout->groups, g_strdup (name));
          group = g_ptr_array_index (layout->groups, layout->groups->len - 1);
          continue;
        }

      {
        char *equals = strchr (start, '=');
        g_autofree char *key = NULL;
        g_autofree char *id = NULL;

        if (equals == NULL || equals == start)
          return fail (error, PL_WORLD_ERROR_SYNTAX, layout->source, lineno,
                       "\"%s\" is not a group, a key = value pair or a comment", start);
        key = g_strndup (start, (gsize) (equals - start));
        g_strchomp (key);
        if (group == NULL)
          return fail (error, PL_WORLD_ERROR_SYNTAX, layout->source, lineno,
                       "\"%s\" comes before any group: start with one, e.g. [domain a.example]", key);
        id = key_id (group, key);
        if (g_hash_table_contains (layout->key_lines, id))
          return fail (error, PL_WORLD_ERROR_INVALID, layout->source, lineno,
                       "%s is given twice in [%s] (first on line %u)", key, group,
                       key_line (layout, group, key));
        g_hash_table_insert (layout->key_lines, g_steal_pointer (&id), GUINT_TO_POINTER (lineno));
        g_ptr_array_add (g_hash_table_lookup (layout->group_keys, group), g_steal_pointer (&key));
      }
    }
  return TRUE;
}

/* Values ------------------------------------------------------------------------------------------ */

typedef struct {
  GKeyFile     *keys;
  const Layout *layout;
  const char   *source;
} Reader;

static gboolean
check_keys (const Reader       *r,
            const char         *group,
            const char *const  *known,
            GError            **error)
{
  GPtrArray *keys = g_hash_table_lookup (r->layout->group_keys, group);

  for (guint i = 0; i < keys->len; i++)
    {
      const char *key = g_ptr_array_index (keys, i);

      if (!g_strv_contains (known, key))
        {
          g_autofree char *list = g_strjoinv (", ", (char **) known);

          return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
                       "unknown key %s in [%s] (known: %s)", key, group, list);
        }
    }
  return TRUE;
}

static gboolean
has_key (const Reader *r,
         const char   *group,
         const char   *key)
{
  return g_key_file_has_key (r->keys, group, key, NULL);
}

static gboolean
text_is_clean (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7F)
      return FALSE;
  return g_utf8_validate (text, -1, NULL);
}

static char *
get_string (const Reader  *r,
            const char    *group,
            const char    *key,
            GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *value = g_key_file_get_string (r->keys, group, key, &local_error);

  /* An invalid escape gives a value and an error: the error counts. */
  if (value == NULL || local_error != NULL)
    {
      fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
            "%s: %s", key, local_error->message);
      return NULL;
    }
  if (!text_is_clean (value))
    {
      fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
            "%s holds control characters or is not UTF-8", key);
      return NULL;
    }
  return g_steal_pointer (&value);
}

static char **
get_list (const Reader  *r,
          const char    *group,
          const char    *key,
          GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) raw = NULL;
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *plain = g_key_file_get_value (r->keys, group, key, NULL);

  /* An empty value is an empty list, not an error. */
  if (plain != NULL && *g_strstrip (plain) == '\0')
    return g_new0 (char *, 1);
  raw = g_key_file_get_string_list (r->keys, group, key, NULL, &local_error);
  if (raw == NULL || local_error != NULL)
    {
      fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
            "%s: %s", key, local_error->message);
      return NULL;
    }
  for (guint i = 0; raw[i] != NULL; i++)
    {
      char *item = g_strstrip (raw[i]);

      if (*item == '\0')
        continue;
      if (!text_is_clean (item))
        {
          fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
                "%s holds control characters or is not UTF-8", key);
          return NULL;
        }
      g_ptr_array_add (out, g_strdup (item));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* A whole number in [min, max]; FALSE with a message naming the line otherwise. */
static gboolean
get_number (const Reader  *r,
            const char    *group,
            const char    *key,
            gint64         min,
            gint64         max,
            const char    *what,
            gint64        *out,
            GError       **error)
{
  g_autofree char *text = get_string (r, group, key, error);
  char *end = NULL;
  gint64 value;

  if (text == NULL)
    return FALSE;
  errno = 0;
  value = g_ascii_strtoll (g_strstrip (text), &end, 10);
  if (*text == '\0' || end == NULL || *end != '\0' || errno != 0 || value < min || value > max)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
                 "%s = %s is not %s (%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT ")",
                 key, text, what, min, max);
  *out = value;
  return TRUE;
}

static gboolean
parse_seconds (const char *text,
               double     *out)
{
  char *end = NULL;
  double value;

  errno = 0;
  value = g_ascii_strtod (text, &end);
  if (*text == '\0' || end == NULL || *end != '\0' || errno != 0 || !(value > 0) || value > 1e7)
    return FALSE;
  *out = value;
  return TRUE;
}

static gboolean
get_seconds (const Reader  *r,
             const char    *group,
             const char    *key,
             double        *out,
             GError       **error)
{
  g_autofree char *text = get_string (r, group, key, error);

  if (text == NULL)
    return FALSE;
  if (!parse_seconds (g_strstrip (text), out))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
                 "%s = %s is not a number of seconds above 0", key, text);
  return TRUE;
}

/* RFC 1035 2.3.1 host names, and what people write in classrooms: labels of letters, digits and '-'. */
static gboolean
is_host_name (const char *name)
{
  gsize label = 0;
  gsize len = strlen (name);

  if (len == 0 || len > 253 || name[0] == '.' || name[len - 1] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (label == 0 || p[-1] == '-')
            return FALSE;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && !(*p == '-' && label > 0))
        return FALSE;
      if (++label > 63)
        return FALSE;
    }
  return TRUE;
}

/* The mail store's rule for user names, which become folder names (ROOT/mail/USER). */
static gboolean
is_user_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > USER_NAME_MAX || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_' && *p != '-')
      return FALSE;
  return TRUE;
}

static GInetAddress *
parse_ip (const char *text)
{
  gsize len = strlen (text);

  if (len >= 2 && text[0] == '[' && text[len - 1] == ']')
    {
      g_autofree char *inner = g_strndup (text + 1, len - 2);

      return g_inet_address_new_from_string (inner);
    }
  return g_inet_address_new_from_string (text);
}

/* The groups --------------------------------------------------------------------------------- */

static gboolean
read_domain (PlWorld       *self,
             const Reader  *r,
             const char    *group,
             const char    *name,
             GError       **error)
{
  static const char *const known[] = { "server", "postmaster", NULL };
  PlWorldDomain *domain;

  if (!check_keys (r, group, known, error))
    return FALSE;
  if (!is_host_name (name))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s]: \"%s\" is not a domain name (letters, digits, '-' and dots)", group, name);
  if (pl_world_lookup_domain (self, name) != NULL)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "domain %s is given twice", name);
  if (!has_key (r, group, "server"))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s] names no server: add server = mail.%s", group, name);

  domain = g_new0 (PlWorldDomain, 1);
  domain->name = g_ascii_strdown (name, -1);
  domain->users = g_ptr_array_new_with_free_func ((GDestroyNotify) user_free);
  g_ptr_array_add (self->domains, domain);

  domain->server = get_string (r, group, "server", error);
  if (domain->server == NULL)
    return FALSE;
  g_strstrip (domain->server);
  if (!is_host_name (domain->server))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "server"),
                 "server = %s is not a host name", domain->server);
  {
    char *lower = g_ascii_strdown (domain->server, -1);

    g_free (domain->server);
    domain->server = lower;
  }
  if (has_key (r, group, "postmaster"))
    {
      domain->postmaster = get_string (r, group, "postmaster", error);
      if (domain->postmaster == NULL)
        return FALSE;
      g_strstrip (domain->postmaster);
    }
  return TRUE;
}

static gboolean
read_server (PlWorld       *self,
             const Reader  *r,
             const char    *group,
             const char    *name,
             GError       **error)
{
  static const char *const known[] = { "role", "listen", "smtp-port", "pop3-port",
                                       "trusted-networks", "max-message-size", NULL };
  PlWorldServer *server;
  gint64 number;

  if (!check_keys (r, group, known, error))
    return FALSE;
  if (!is_host_name (name))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s]: \"%s\" is not a host name", group, name);

  server = g_new0 (PlWorldServer, 1);
  server->hostname = g_ascii_strdown (name, -1);
  server->role = PL_ROLE_RECEIVING_SERVER;
  server->smtp_port = -1;
  server->pop3_port = -1;
  server->max_message_size = PL_WORLD_DEFAULT_MAX_MESSAGE_SIZE;
  server->trusted_masks = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->servers, server);

  if (has_key (r, group, "role"))
    {
      g_autofree char *role = get_string (r, group, "role", error);

      if (role == NULL)
        return FALSE;
      g_strstrip (role);
      if (g_str_equal (role, "sending"))
        server->role = PL_ROLE_SENDING_SERVER;
      else if (g_str_equal (role, "receiving"))
        server->role = PL_ROLE_RECEIVING_SERVER;
      else
        return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "role"),
                     "role = %s: a server's role is sending or receiving", role);
    }

  if (has_key (r, group, "listen"))
    {
      server->listen = get_list (r, group, "listen", error);
      if (server->listen == NULL)
        return FALSE;
      if (server->listen[0] == NULL)
        return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "listen"),
                     "listen is empty: give at least one address, e.g. 127.0.0.1");
      for (guint i = 0; server->listen[i] != NULL; i++)
        {
          g_autoptr(GInetAddress) inet = parse_ip (server->listen[i]);

          if (inet == NULL)
            return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "listen"),
                         "listen: %s is not an IP address (write 127.0.0.1 or ::1)", server->listen[i]);
        }
    }
  else
    {
      const char *const loopback[] = { "127.0.0.1", "::1", NULL };

      server->listen = g_strdupv ((char **) loopback);
    }

  if (has_key (r, group, "smtp-port"))
    {
      if (!get_number (r, group, "smtp-port", 0, 65535, "a port", &number, error))
        return FALSE;
      server->smtp_port = (int) number;
    }
  if (has_key (r, group, "pop3-port"))
    {
      if (!get_number (r, group, "pop3-port", 0, 65535, "a port", &number, error))
        return FALSE;
      server->pop3_port = (int) number;
    }
  if (server->smtp_port < 0 && server->pop3_port < 0)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s] serves nothing: give smtp-port, pop3-port or both", group);
  if (server->role == PL_ROLE_SENDING_SERVER && server->smtp_port < 0)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s] is a sending server without SMTP: give smtp-port", group);

  if (has_key (r, group, "trusted-networks"))
    {
      server->trusted_networks = get_list (r, group, "trusted-networks", error);
      if (server->trusted_networks == NULL)
        return FALSE;
    }
  else
    server->trusted_networks = g_new0 (char *, 1);
  for (guint i = 0; server->trusted_networks[i] != NULL; i++)
    {
      const char *text = server->trusted_networks[i];
      g_autoptr(GInetAddressMask) mask = NULL;

      /* A bare address is a network of one. */
      if (strchr (text, '/') == NULL)
        {
          g_autoptr(GInetAddress) inet = parse_ip (text);

          if (inet != NULL)
            mask = g_inet_address_mask_new (inet, (guint) g_inet_address_get_native_size (inet) * 8, NULL);
        }
      else
        mask = g_inet_address_mask_new_from_string (text, NULL);
      if (mask == NULL)
        return fail (error, PL_WORLD_ERROR_INVALID, r->source,
                     key_line (r->layout, group, "trusted-networks"),
                     "trusted-networks: %s is not a network (write 127.0.0.0/8 or ::1/128)", text);
      g_ptr_array_add (server->trusted_masks, g_steal_pointer (&mask));
    }

  if (has_key (r, group, "max-message-size"))
    {
      if (!get_number (r, group, "max-message-size", 1024, G_MAXINT32, "a size in octets", &number, error))
        return FALSE;
      server->max_message_size = (gsize) number;
    }
  return TRUE;
}

static gboolean
read_user (PlWorld       *self,
           const Reader  *r,
           const char    *group,
           const char    *address,
           GError       **error)
{
  static const char *const known[] = { "password", "name", "mailbox", NULL };
  const char *at = strrchr (address, '@');
  g_autofree char *local = NULL;
  PlWorldDomain *domain;
  PlWorldUser *user;

  if (!check_keys (r, group, known, error))
    return FALSE;
  if (at == NULL || at == address || at[1] == '\0')
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s]: a user is named by the address, e.g. [user alice@a.example]", group);
  local = g_strndup (address, (gsize) (at - address));
  if (!is_user_name (local))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s]: \"%s\" cannot be a user name (letters, digits, '.', '_', '-'; "
                 "not starting with '.'; at most %d)", group, local, USER_NAME_MAX);
  domain = (PlWorldDomain *) pl_world_lookup_domain (self, at + 1);
  if (domain == NULL)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s]: there is no [domain %s]", group, at + 1);
  if (pl_world_lookup_user (self, domain->name, local) != NULL)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "user %s@%s is given twice", local, domain->name);
  if (!has_key (r, group, "password"))
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                 "[%s] has no password (add password = ...)", group);

  user = g_new0 (PlWorldUser, 1);
  user->name = g_steal_pointer (&local);
  user->domain = g_strdup (domain->name);
  user->address = g_strdup_printf ("%s@%s", user->name, domain->name);
  g_ptr_array_add (domain->users, user);

  user->password = get_string (r, group, "password", error);
  if (user->password == NULL)
    return FALSE;
  if (user->password[0] == '\0')
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "password"),
                 "the password of %s is empty", user->address);
  if (has_key (r, group, "name"))
    {
      user->full_name = get_string (r, group, "name", error);
      if (user->full_name == NULL)
        return FALSE;
    }
  if (has_key (r, group, "mailbox"))
    {
      user->mailbox = get_string (r, group, "mailbox", error);
      if (user->mailbox == NULL)
        return FALSE;
      g_strstrip (user->mailbox);
      if (!g_str_equal (user->mailbox, "textbook") && !g_str_equal (user->mailbox, "empty"))
        return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "mailbox"),
                     "mailbox = %s: a new mailbox is textbook (the textbook's two messages) or empty",
                     user->mailbox);
      if (g_str_equal (user->mailbox, "empty"))
        g_clear_pointer (&user->mailbox, g_free);
    }
  return TRUE;
}

static gboolean
read_queue (PlWorld       *self,
            const Reader  *r,
            const char    *group,
            GError       **error)
{
  static const char *const known[] = { "retry-intervals", "connect-timeout", "reply-timeout", NULL };

  if (!check_keys (r, group, known, error))
    return FALSE;
  if (has_key (r, group, "retry-intervals"))
    {
      g_auto(GStrv) items = get_list (r, group, "retry-intervals", error);

      if (items == NULL)
        return FALSE;
      if (items[0] == NULL)
        return fail (error, PL_WORLD_ERROR_INVALID, r->source,
                     key_line (r->layout, group, "retry-intervals"),
                     "retry-intervals is empty: give at least one number of seconds");
      g_array_set_size (self->retry_intervals, 0);
      for (guint i = 0; items[i] != NULL; i++)
        {
          double seconds;

          if (!parse_seconds (items[i], &seconds))
            return fail (error, PL_WORLD_ERROR_INVALID, r->source,
                         key_line (r->layout, group, "retry-intervals"),
                         "retry-intervals: %s is not a number of seconds above 0", items[i]);
          g_array_append_val (self->retry_intervals, seconds);
        }
    }
  if (has_key (r, group, "connect-timeout")
      && !get_seconds (r, group, "connect-timeout", &self->connect_timeout, error))
    return FALSE;
  if (has_key (r, group, "reply-timeout")
      && !get_seconds (r, group, "reply-timeout", &self->reply_timeout, error))
    return FALSE;
  return TRUE;
}

/* The pieces must fit: every domain's server exists and serves only it, postmasters are users. */
static gboolean
check_world (PlWorld       *self,
             const Reader  *r,
             GError       **error)
{
  if (self->domains->len == 0)
    return fail (error, PL_WORLD_ERROR_INVALID, r->source, 0,
                 "the world has no domain: add one, e.g. [domain a.example]");

  for (guint i = 0; i < self->domains->len; i++)
    {
      PlWorldDomain *domain = g_ptr_array_index (self->domains, i);
      g_autofree char *group = g_strdup_printf ("domain %s", domain->name);
      PlWorldServer *server = NULL;

      for (guint j = 0; j < self->servers->len && server == NULL; j++)
        if (g_str_equal (((PlWorldServer *) g_ptr_array_index (self->servers, j))->hostname, domain->server))
          server = g_ptr_array_index (self->servers, j);
      if (server == NULL)
        return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "server"),
                     "domain %s names server %s, but there is no [server %s]",
                     domain->name, domain->server, domain->server);
      if (server->domain != NULL)
        return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, "server"),
                     "server %s is already the server of %s: each server serves one domain here",
                     server->hostname, server->domain);
      server->domain = g_strdup (domain->name);

      if (domain->postmaster != NULL)
        {
          if (pl_world_lookup_user (self, domain->name, domain->postmaster) == NULL)
            return fail (error, PL_WORLD_ERROR_INVALID, r->source,
                         key_line (r->layout, group, "postmaster"),
                         "postmaster = %s, but there is no [user %s@%s]",
                         domain->postmaster, domain->postmaster, domain->name);
        }
      else if (domain->users->len > 0)
        domain->postmaster = g_strdup (((PlWorldUser *) g_ptr_array_index (domain->users, 0))->name);
    }

  for (guint i = 0; i < self->servers->len; i++)
    {
      PlWorldServer *server = g_ptr_array_index (self->servers, i);
      g_autofree char *group = g_strdup_printf ("server %s", server->hostname);

      if (server->domain == NULL)
        return fail (error, PL_WORLD_ERROR_INVALID, r->source, group_line (r->layout, group),
                     "server %s serves no domain: name it in a [domain] group (server = %s)",
                     server->hostname, server->hostname);
    }

  /* Two services of one world on one port could not both listen. */
  for (guint i = 0; i < self->servers->len; i++)
    for (guint s = 0; s < 2; s++)
      {
        PlWorldServer *server = g_ptr_array_index (self->servers, i);
        int port = s == 0 ? server->smtp_port : server->pop3_port;
        const char *key = s == 0 ? "smtp-port" : "pop3-port";
        g_autofree char *group = g_strdup_printf ("server %s", server->hostname);

        if (port <= 0)
          continue;
        for (guint j = 0; j <= i; j++)
          for (guint t = 0; t < 2; t++)
            {
              PlWorldServer *other = g_ptr_array_index (self->servers, j);
              int other_port = t == 0 ? other->smtp_port : other->pop3_port;

              if ((j == i && t >= s) || other_port != port)
                continue;
              return fail (error, PL_WORLD_ERROR_INVALID, r->source, key_line (r->layout, group, key),
                           "%s = %d: port %d is already %s's %s port", key, port, port,
                           other->hostname, t == 0 ? "SMTP" : "POP3");
            }
      }
  return TRUE;
}

static gboolean
has_prefix_word (const char  *group,
                 const char  *word,
                 const char **rest)
{
  gsize len = strlen (word);

  if (strncmp (group, word, len) != 0 || group[len] != ' ')
    return FALSE;
  *rest = group + len + 1;
  while (**rest == ' ')
    (*rest)++;
  return TRUE;
}

PlWorld *
pl_world_new_from_data (const char  *data,
                        gssize       len,
                        const char  *source,
                        GError     **error)
{
  g_autoptr(PlWorld) self = NULL;
  g_autoptr(GKeyFile) keys = NULL;
  g_autoptr(GError) local_error = NULL;
  Layout layout = { 0 };
  Reader reader;
  gsize length;
  gboolean ok = TRUE;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  length = len < 0 ? strlen (data) : (gsize) len;
  if (memchr (data, '\0', length) != NULL)
    {
      fail (error, PL_WORLD_ERROR_SYNTAX, source, 0, "a world file is text: this one holds a NUL byte");
      return NULL;
    }
  if (!g_utf8_validate (data, (gssize) length, NULL))
    {
      fail (error, PL_WORLD_ERROR_SYNTAX, source, 0, "a world file is UTF-8 text: this one is not");
      return NULL;
    }

  layout.source = source;
  if (!read_layout (data, length, &layout, error))
    {
      layout_clear (&layout);
      return NULL;
    }

  keys = g_key_file_new ();
  g_key_file_set_list_separator (keys, ';');
  if (!g_key_file_load_from_data (keys, data, length, G_KEY_FILE_NONE, &local_error))
    {
      fail (error, PL_WORLD_ERROR_SYNTAX, source, 0, "%s", local_error->message);
      layout_clear (&layout);
      return NULL;
    }

  self = g_object_new (PL_TYPE_WORLD, NULL);
  self->source = g_strdup (source);
  reader = (Reader) { keys, &layout, source };

  /* Domains and servers first: users and postmasters refer to them. */
  for (guint pass = 0; pass < 2 && ok; pass++)
    for (guint i = 0; i < layout.groups->len && ok; i++)
      {
        const char *group = g_ptr_array_index (layout.groups, i);
        const char *rest = NULL;

        if (has_prefix_word (group, "domain", &rest))
          ok = pass == 1 || read_domain (self, &reader, group, rest, error);
        else if (has_prefix_word (group, "server", &rest))
          ok = pass == 1 || read_server (self, &reader, group, rest, error);
        else if (has_prefix_word (group, "user", &rest))
          ok = pass == 0 || read_user (self, &reader, group, rest, error);
        else if (g_str_equal (group, "queue"))
          ok = pass == 0 || read_queue (self, &reader, group, error);
        else
          ok = fail (error, PL_WORLD_ERROR_INVALID, source, group_line (&layout, group),
                     "unknown group [%s] (known: [domain NAME], [server HOST], [user ADDRESS], [queue])",
                     group);
      }
  if (ok)
    ok = check_world (self, &reader, error);
  layout_clear (&layout);
  return ok ? g_steal_pointer (&self) : NULL;
}

GBytes *
pl_world_get_default_data (void)
{
  GBytes *bytes = g_resource_lookup_data (pl_world_resources_get_resource (), DEFAULT_RESOURCE,
                                          G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

  /* Compiled in: only a broken build could lose it. */
  g_assert (bytes != NULL);
  return bytes;
}

PlWorld *
pl_world_new_default (GError **error)
{
  g_autoptr(GBytes) bytes = pl_world_get_default_data ();
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return pl_world_new_from_data (data, (gssize) len, PL_WORLD_DEFAULT_SOURCE, error);
}

const char *
pl_world_get_source (PlWorld *self)
{
  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  return self->source;
}

guint
pl_world_get_n_domains (PlWorld *self)
{
  g_return_val_if_fail (PL_IS_WORLD (self), 0);
  return self->domains->len;
}

const PlWorldDomain *
pl_world_get_domain (PlWorld *self,
                     guint    index)
{
  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  g_return_val_if_fail (index < self->domains->len, NULL);
  return g_ptr_array_index (self->domains, index);
}

const PlWorldDomain *
pl_world_lookup_domain (PlWorld    *self,
                        const char *name)
{
  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->domains->len; i++)
    {
      PlWorldDomain *domain = g_ptr_array_index (self->domains, i);

      if (g_ascii_strcasecmp (domain->name, name) == 0)
        return domain;
    }
  return NULL;
}

guint
pl_world_get_n_servers (PlWorld *self)
{
  g_return_val_if_fail (PL_IS_WORLD (self), 0);
  return self->servers->len;
}

const PlWorldServer *
pl_world_get_server (PlWorld *self,
                     guint    index)
{
  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  g_return_val_if_fail (index < self->servers->len, NULL);
  return g_ptr_array_index (self->servers, index);
}

const PlWorldServer *
pl_world_lookup_server (PlWorld    *self,
                        const char *name)
{
  const PlWorldDomain *domain;

  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->servers->len; i++)
    {
      PlWorldServer *server = g_ptr_array_index (self->servers, i);

      if (g_ascii_strcasecmp (server->hostname, name) == 0)
        return server;
    }
  domain = pl_world_lookup_domain (self, name);
  if (domain == NULL)
    return NULL;
  for (guint i = 0; i < self->servers->len; i++)
    {
      PlWorldServer *server = g_ptr_array_index (self->servers, i);

      if (g_str_equal (server->hostname, domain->server))
        return server;
    }
  return NULL;
}

const PlWorldUser *
pl_world_lookup_user (PlWorld    *self,
                      const char *domain_name,
                      const char *local_part)
{
  const PlWorldDomain *domain;

  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  g_return_val_if_fail (domain_name != NULL, NULL);
  g_return_val_if_fail (local_part != NULL, NULL);

  domain = pl_world_lookup_domain (self, domain_name);
  if (domain == NULL)
    return NULL;
  for (guint i = 0; i < domain->users->len; i++)
    {
      PlWorldUser *user = g_ptr_array_index (domain->users, i);

      if (g_str_equal (user->name, local_part))
        return user;
    }
  return NULL;
}

const double *
pl_world_get_retry_intervals (PlWorld *self,
                              guint   *n)
{
  g_return_val_if_fail (PL_IS_WORLD (self), NULL);
  g_return_val_if_fail (n != NULL, NULL);

  *n = self->retry_intervals->len;
  return (const double *) (gconstpointer) self->retry_intervals->data;
}

double
pl_world_get_connect_timeout (PlWorld *self)
{
  g_return_val_if_fail (PL_IS_WORLD (self), 0);
  return self->connect_timeout;
}

double
pl_world_get_reply_timeout (PlWorld *self)
{
  g_return_val_if_fail (PL_IS_WORLD (self), 0);
  return self->reply_timeout;
}

gboolean
pl_world_set_port (PlWorld     *self,
                   const char  *name,
                   PlProtocol   protocol,
                   int          port,
                   GError     **error)
{
  PlWorldServer *server;
  int *slot;

  g_return_val_if_fail (PL_IS_WORLD (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  server = (PlWorldServer *) pl_world_lookup_server (self, name);
  if (server == NULL)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_NOT_FOUND,
                   "The world (%s) has no server or domain called %s", self->source, name);
      return FALSE;
    }
  if (protocol == PL_PROTOCOL_SMTP)
    slot = &server->smtp_port;
  else if (protocol == PL_PROTOCOL_POP3)
    slot = &server->pop3_port;
  else
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_NOT_FOUND,
                   "%s serves no %s in this world (only smtp and pop3)", server->hostname,
                   pl_protocol_to_string (protocol));
      return FALSE;
    }
  if (*slot < 0)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_NOT_FOUND,
                   "%s serves no %s in this world (%s gives it no %s-port)", server->hostname,
                   pl_protocol_to_string (protocol), self->source, pl_protocol_to_string (protocol));
      return FALSE;
    }
  if (port < 0 || port > 65535)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                   "%d is not a port number (0-65535)", port);
      return FALSE;
    }
  *slot = port;
  return TRUE;
}

gboolean
pl_world_set_retry_intervals (PlWorld       *self,
                              const double  *intervals,
                              guint          n,
                              GError       **error)
{
  g_return_val_if_fail (PL_IS_WORLD (self), FALSE);
  g_return_val_if_fail (intervals != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n == 0)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                   "Give at least one retry interval");
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!(intervals[i] > 0) || intervals[i] > 1e7)
      {
        g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                     "A retry interval is a number of seconds above 0, not %g", intervals[i]);
        return FALSE;
      }
  g_array_set_size (self->retry_intervals, 0);
  g_array_append_vals (self->retry_intervals, intervals, n);
  return TRUE;
}

gboolean
pl_world_set_listen (PlWorld            *self,
                     const char *const  *addresses,
                     GError            **error)
{
  g_return_val_if_fail (PL_IS_WORLD (self), FALSE);
  g_return_val_if_fail (addresses != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (addresses[0] == NULL)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID, "Give at least one address to listen on");
      return FALSE;
    }
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) inet = parse_ip (addresses[i]);

      if (inet == NULL)
        {
          g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                       "'%s' is not an IP address (write it as 127.0.0.1, ::1, 192.0.2.10 or 0.0.0.0)",
                       addresses[i]);
          return FALSE;
        }
    }
  for (guint i = 0; i < self->servers->len; i++)
    {
      PlWorldServer *server = g_ptr_array_index (self->servers, i);

      g_strfreev (server->listen);
      server->listen = g_strdupv ((char **) addresses);
    }
  return TRUE;
}

int
pl_world_server_get_port (const PlWorldServer *server,
                          PlProtocol           protocol)
{
  g_return_val_if_fail (server != NULL, -1);

  switch (protocol)
    {
    case PL_PROTOCOL_SMTP: return server->smtp_port;
    case PL_PROTOCOL_POP3: return server->pop3_port;
    case PL_PROTOCOL_IMAP:
    case PL_PROTOCOL_HTTP:
    case PL_PROTOCOL_UNKNOWN:
    default:               return -1;
    }
}

gboolean
pl_world_server_trusts (const PlWorldServer *server,
                        GInetAddress        *address)
{
  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (G_IS_INET_ADDRESS (address), FALSE);

  for (guint i = 0; i < server->trusted_masks->len; i++)
    {
      GInetAddressMask *mask = g_ptr_array_index (server->trusted_masks, i);

      if (g_inet_address_mask_get_family (mask) == g_inet_address_get_family (address)
          && g_inet_address_mask_matches (mask, address))
        return TRUE;
    }
  return FALSE;
}

char *
pl_world_server_dup_connect_address (const PlWorldServer *server)
{
  g_autoptr(GInetAddress) inet = NULL;

  g_return_val_if_fail (server != NULL, NULL);
  g_return_val_if_fail (server->listen != NULL && server->listen[0] != NULL, NULL);

  inet = parse_ip (server->listen[0]);
  if (inet != NULL && g_inet_address_get_is_any (inet))
    return g_strdup (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? "::1" : "127.0.0.1");
  if (inet != NULL)
    return g_inet_address_to_string (inet);
  return g_strdup (server->listen[0]);
}

gboolean
pl_world_server_relays (const PlWorldServer *server)
{
  g_return_val_if_fail (server != NULL, FALSE);
  return server->role == PL_ROLE_SENDING_SERVER;
}
