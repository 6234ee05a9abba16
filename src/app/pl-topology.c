/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTopology: the hosts and links of a trace, where each session runs, and what each mailbox holds at each step. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pl-topology.h"

/* A host and what it was seen doing, from which a capture's roles are guessed. */
typedef struct {
  PlTopologyHost  public;
  char           *key;           /* captures: what identifies it ("192.0.2.7", "127.0.0.1:1110") */
  char           *owner;         /* simulations: the user of a device */
  PlHostRole      known_role;    /* from the simulation or the world: not guessed */
  gboolean        named;         /* the name came from the host itself (greeting, EHLO) */
  gboolean        fixed_subtitle; /* given with the host: not derived from its role */
  guint           serves_smtp;
  guint           serves_submission;
  guint           serves_pull;
  guint           sends_smtp;
  guint           pulls;
} Host;

typedef struct {
  gboolean    known;
  guint       client;
  guint       server;
  guint       link;
  PlProtocol  protocol;
  gboolean    greeted;       /* the server's first reply was looked at */
  gboolean    introduced;    /* the client's HELO/EHLO was looked at */
  /* POP3 in a capture: what the server says of the mailbox. */
  char       *user;          /* from USER */
  char       *verb;          /* the last command, for its reply */
  gboolean    counted;       /* STAT or LIST said how many messages */
  guint       count;
  guint       deleted;       /* DELE answered +OK */
} SessionInfo;

typedef struct {
  guint    position;
  guint    count;
  guint64  octets;
} MailboxChange;

typedef struct {
  PlTopologyMailbox  public;
  GArray            *changes;  /* of MailboxChange, by position */
} Mailbox;

struct _PlTopology
{
  GObject      parent_instance;

  PlWorld     *world;        /* captures: to name loopback servers by their ports; may be NULL */
  gboolean     from_sim;

  GPtrArray   *hosts;        /* of Host* */
  GHashTable  *host_keys;    /* key or name -> index + 1 */
  GPtrArray   *links;        /* of PlTopologyLink* */
  GArray      *sessions;     /* of SessionInfo, by session id */
  GPtrArray   *mailboxes;    /* of Mailbox* */
  guint        column_size[PL_TOPOLOGY_N_COLUMNS];

  PlTrace     *watched;
  gulong       listener;
  guint        n_watched;    /* events seen through the listener: the next one's position */
};

G_DEFINE_FINAL_TYPE (PlTopology, pl_topology, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
host_free (gpointer data)
{
  Host *host = data;

  g_free (host->public.name);
  g_free (host->public.subtitle);
  g_free (host->public.address);
  g_free (host->key);
  g_free (host->owner);
  g_free (host);
}

static void
session_info_clear (gpointer data)
{
  SessionInfo *info = data;

  g_clear_pointer (&info->user, g_free);
  g_clear_pointer (&info->verb, g_free);
}

static void
mailbox_free (gpointer data)
{
  Mailbox *mailbox = data;

  g_free (mailbox->public.user);
  g_array_unref (mailbox->changes);
  g_free (mailbox);
}

static void
pl_topology_dispose (GObject *object)
{
  pl_topology_unwatch (PL_TOPOLOGY (object));

  G_OBJECT_CLASS (pl_topology_parent_class)->dispose (object);
}

static void
pl_topology_finalize (GObject *object)
{
  PlTopology *self = PL_TOPOLOGY (object);

  g_clear_object (&self->world);
  g_ptr_array_unref (self->hosts);
  g_hash_table_unref (self->host_keys);
  g_ptr_array_unref (self->links);
  g_array_unref (self->sessions);
  g_ptr_array_unref (self->mailboxes);

  G_OBJECT_CLASS (pl_topology_parent_class)->finalize (object);
}

static void
pl_topology_class_init (PlTopologyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_topology_dispose;
  object_class->finalize = pl_topology_finalize;

  /*
   * PlTopology::changed:
   * Hosts or links were added, renamed or moved (a capture still growing).
   * Mailbox reports are not announced: they are read by position.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pl_topology_init (PlTopology *self)
{
  self->hosts = g_ptr_array_new_with_free_func (host_free);
  self->host_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->links = g_ptr_array_new_with_free_func (g_free);
  self->sessions = g_array_new (FALSE, TRUE, sizeof (SessionInfo));
  g_array_set_clear_func (self->sessions, session_info_clear);
  self->mailboxes = g_ptr_array_new_with_free_func (mailbox_free);
}

/* Hosts --------------------------------------------------------------------- */

static Host *
host_at (PlTopology *self,
         guint       index)
{
  return g_ptr_array_index (self->hosts, index);
}

static gboolean
lookup_host (PlTopology *self,
             const char *key,
             guint      *index)
{
  gpointer value;

  if (key == NULL || !g_hash_table_lookup_extended (self->host_keys, key, NULL, &value))
    return FALSE;
  *index = GPOINTER_TO_UINT (value) - 1;
  return TRUE;
}

static Host *
add_host (PlTopology *self,
          const char *key,
          const char *name)
{
  Host *host = g_new0 (Host, 1);

  host->public.index = self->hosts->len;
  host->public.name = g_strdup (name);
  host->key = g_strdup (key);
  g_ptr_array_add (self->hosts, host);
  if (key != NULL)
    g_hash_table_replace (self->host_keys, g_strdup (key), GUINT_TO_POINTER (host->public.index + 1));
  g_hash_table_replace (self->host_keys, g_strdup (name), GUINT_TO_POINTER (host->public.index + 1));
  return host;
}

static PlTopologyIcon
icon_for_device (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  if (strstr (lower, "phone") != NULL || strstr (lower, "mobile") != NULL)
    return PL_TOPOLOGY_ICON_PHONE;
  if (strstr (lower, "browser") != NULL || strstr (lower, "web") != NULL)
    return PL_TOPOLOGY_ICON_BROWSER;
  return PL_TOPOLOGY_ICON_LAPTOP;
}

static char *
owner_display_name (PlWorld    *world,
                    const char *owner)
{
  g_autofree char *local = NULL;
  const char *at;
  const PlWorldUser *user;

  if (owner == NULL)
    return NULL;
  at = strchr (owner, '@');
  local = at != NULL ? g_strndup (owner, at - owner) : g_strdup (owner);
  user = world != NULL && at != NULL ? pl_world_lookup_user (world, at + 1, local) : NULL;
  if (user != NULL && user->full_name != NULL)
    return g_strdup (user->full_name);
  /* "bob" reads as a name with a capital. */
  if (local[0] != '\0')
    local[0] = g_ascii_toupper (local[0]);
  return g_steal_pointer (&local);
}

static void
set_subtitle (PlTopology *self,
              Host       *host)
{
  g_autofree char *who = NULL;

  if (host->fixed_subtitle)
    return;
  g_clear_pointer (&host->public.subtitle, g_free);
  switch (host->public.role)
    {
    case PL_ROLE_SENDING_SERVER:
      host->public.subtitle = g_strdup (_("sending server"));
      break;
    case PL_ROLE_RECEIVING_SERVER:
      host->public.subtitle = g_strdup (_("receiving server"));
      break;
    case PL_ROLE_USER_AGENT:
      who = owner_display_name (self->world, host->owner);
      if (who != NULL)
        /* Translators: %s is a person's name: "Bob's user agent". */
        host->public.subtitle = g_strdup_printf (_("%s’s user agent"), who);
      else
        host->public.subtitle = g_strdup (_("user agent"));
      break;
    case PL_ROLE_UNKNOWN:
    default:
      host->public.subtitle = g_strdup (_("host"));
      break;
    }
}

/* Links --------------------------------------------------------------------- */

static PlTopologyLink *
find_link (PlTopology *self,
           guint       a,
           guint       b)
{
  for (guint i = 0; i < self->links->len; i++)
    {
      PlTopologyLink *link = g_ptr_array_index (self->links, i);

      if ((link->a == a && link->b == b) || (link->a == b && link->b == a))
        return link;
    }
  return NULL;
}

static PlTopologyLink *
ensure_link (PlTopology *self,
             guint       a,
             guint       b)
{
  PlTopologyLink *link = find_link (self, a, b);

  if (link == NULL)
    {
      link = g_new0 (PlTopologyLink, 1);
      link->index = self->links->len;
      link->a = a;
      link->b = b;
      g_ptr_array_add (self->links, link);
    }
  return link;
}

/* Roles and layout ------------------------------------------------------------ */

/*
 * What a host of a capture is, from what it did: it serves POP3, IMAP or
 * HTTP: a receiving server; it takes SMTP and passes it on, or takes
 * submissions: a sending server; it only takes SMTP: a receiving server;
 * it only connects: a user agent, a reader if it ever pulls.
 */
static void
guess_role (Host *host)
{
  PlTopologyHost *pub = &host->public;
  PlHostRole role;

  if (host->known_role != PL_ROLE_UNKNOWN)
    role = host->known_role;
  else if (host->serves_pull > 0)
    role = PL_ROLE_RECEIVING_SERVER;
  else if (host->serves_smtp > 0 && (host->sends_smtp > 0 || host->serves_submission > 0))
    role = PL_ROLE_SENDING_SERVER;
  else if (host->serves_smtp > 0)
    role = PL_ROLE_RECEIVING_SERVER;
  else
    role = PL_ROLE_USER_AGENT;
  pub->role = role;

  switch (role)
    {
    case PL_ROLE_SENDING_SERVER:
      pub->column = PL_TOPOLOGY_COLUMN_SENDING;
      pub->icon = PL_TOPOLOGY_ICON_SERVER;
      break;
    case PL_ROLE_RECEIVING_SERVER:
      pub->column = PL_TOPOLOGY_COLUMN_RECEIVING;
      pub->icon = PL_TOPOLOGY_ICON_SERVER;
      break;
    case PL_ROLE_USER_AGENT:
    case PL_ROLE_UNKNOWN:
    default:
      pub->column = host->pulls > 0 ? PL_TOPOLOGY_COLUMN_READERS : PL_TOPOLOGY_COLUMN_SENDERS;
      if (pub->icon == PL_TOPOLOGY_ICON_SERVER)
        pub->icon = icon_for_device (pub->name);
      break;
    }
}

static void
relayout (PlTopology *self)
{
  memset (self->column_size, 0, sizeof self->column_size);
  for (guint i = 0; i < self->hosts->len; i++)
    {
      Host *host = host_at (self, i);

      if (!self->from_sim)
        guess_role (host);
      set_subtitle (self, host);
      host->public.row = self->column_size[host->public.column]++;
    }
}

/* Simulations ------------------------------------------------------------------ */

PlTopology *
pl_topology_new_for_sim (PlSim *sim)
{
  PlTopology *self;
  PlSimScenario *scenario;

  g_return_val_if_fail (PL_IS_SIM (sim), NULL);

  scenario = pl_sim_get_scenario (sim);
  self = g_object_new (PL_TYPE_TOPOLOGY, NULL);
  self->from_sim = TRUE;
  self->world = g_object_ref (pl_sim_scenario_get_world (scenario));

  for (guint i = 0; i < pl_sim_get_n_hosts (sim); i++)
    {
      const PlSimHost *sim_host = pl_sim_get_host (sim, i);
      const PlSimHostSpec *spec = sim_host->spec;
      Host *host = add_host (self, NULL, spec->name);

      host->public.address = g_strdup (sim_host->address);
      host->public.role = spec->role;
      host->known_role = spec->role;
      host->owner = g_strdup (spec->owner);
      if (spec->device == NULL)
        {
          host->public.icon = PL_TOPOLOGY_ICON_SERVER;
          host->public.column = spec->role == PL_ROLE_SENDING_SERVER ? PL_TOPOLOGY_COLUMN_SENDING
                                                                     : PL_TOPOLOGY_COLUMN_RECEIVING;
        }
      else
        {
          host->public.icon = icon_for_device (spec->name);
          host->public.column = spec->device->protocol != PL_PROTOCOL_UNKNOWN ? PL_TOPOLOGY_COLUMN_READERS
                                                                              : PL_TOPOLOGY_COLUMN_SENDERS;
        }
    }

  for (guint i = 0; i < pl_sim_get_n_links (sim); i++)
    {
      const PlSimLink *sim_link = pl_sim_get_link (sim, i);
      PlTopologyLink *link = ensure_link (self, sim_link->a, sim_link->b);

      link->latency = pl_sim_time_to_seconds (sim_link->latency);
      link->wired = TRUE;
    }

  relayout (self);
  return self;
}

/* Known hosts ------------------------------------------------------------------ */

PlTopology *
pl_topology_new_named (void)
{
  PlTopology *self = g_object_new (PL_TYPE_TOPOLOGY, NULL);

  /* Placed by name, as a simulation's sessions are. */
  self->from_sim = TRUE;
  return self;
}

guint
pl_topology_add_host (PlTopology       *self,
                      const char       *name,
                      const char       *subtitle,
                      PlHostRole        role,
                      PlTopologyColumn  column,
                      PlTopologyIcon    icon,
                      const char       *address)
{
  Host *host;

  g_return_val_if_fail (PL_IS_TOPOLOGY (self), 0);
  g_return_val_if_fail (self->from_sim, 0);
  g_return_val_if_fail (name != NULL, 0);
  g_return_val_if_fail (column < PL_TOPOLOGY_N_COLUMNS, 0);

  host = add_host (self, NULL, name);
  host->public.role = role;
  host->known_role = role;
  host->public.column = column;
  host->public.icon = icon;
  host->public.address = g_strdup (address);
  if (subtitle != NULL)
    {
      host->public.subtitle = g_strdup (subtitle);
      host->fixed_subtitle = TRUE;
    }
  relayout (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return host->public.index;
}

/* Captures --------------------------------------------------------------------- */

PlTopology *
pl_topology_new (PlWorld *world)
{
  PlTopology *self = g_object_new (PL_TYPE_TOPOLOGY, NULL);

  g_return_val_if_fail (world == NULL || PL_IS_WORLD (world), self);

  if (world != NULL)
    self->world = g_object_ref (world);
  return self;
}

/* "192.0.2.7:25" or "[::1]:110" into the address and the port. */
static char *
split_endpoint (const char *endpoint,
                guint      *port)
{
  const char *colon;

  *port = 0;
  if (endpoint == NULL)
    return g_strdup ("?");
  colon = strrchr (endpoint, ':');
  if (colon == NULL)
    return g_strdup (endpoint);
  *port = (guint) g_ascii_strtoull (colon + 1, NULL, 10);
  if (endpoint[0] == '[' && colon > endpoint && colon[-1] == ']')
    return g_strndup (endpoint + 1, colon - endpoint - 2);
  return g_strndup (endpoint, colon - endpoint);
}

static gboolean
is_loopback (const char *address)
{
  return g_str_has_prefix (address, "127.") || g_str_equal (address, "::1");
}

/* The world's server listening on @port for @protocol, when a loopback capture shows `serve`. */
static const PlWorldServer *
world_server_on_port (PlTopology *self,
                      guint       port,
                      PlProtocol  protocol)
{
  if (self->world == NULL)
    return NULL;
  for (guint i = 0; i < pl_world_get_n_servers (self->world); i++)
    {
      const PlWorldServer *server = pl_world_get_server (self->world, i);

      if ((int) port == server->smtp_port || (int) port == server->pop3_port)
        return server;
    }
  return NULL;
}

static guint
capture_host (PlTopology *self,
              const char *endpoint,
              gboolean    server_side,
              PlProtocol  protocol)
{
  g_autofree char *address = NULL;
  g_autofree char *key = NULL;
  const PlWorldServer *world_server = NULL;
  guint port;
  guint index;
  Host *host;

  address = split_endpoint (endpoint, &port);
  /*
   * On loopback every host has the same address: the servers are told
   * apart by their ports (and named by the world when its ports match),
   * the clients are this machine.
   */
  if (server_side && is_loopback (address))
    {
      world_server = world_server_on_port (self, port, protocol);
      key = world_server != NULL ? g_strdup (world_server->hostname) : g_strdup (endpoint);
    }
  else
    key = g_strdup (address);

  if (lookup_host (self, key, &index))
    return index;

  host = add_host (self, key, key);
  host->public.address = g_strdup (address);
  host->public.icon = server_side ? PL_TOPOLOGY_ICON_SERVER : PL_TOPOLOGY_ICON_LAPTOP;
  if (world_server != NULL)
    {
      host->known_role = world_server->role;
      host->named = TRUE;
    }
  return host->public.index;
}

static SessionInfo *
session_info (PlTopology *self,
              guint       id)
{
  if (id >= self->sessions->len)
    g_array_set_size (self->sessions, id + 1);
  return &g_array_index (self->sessions, SessionInfo, id);
}

static void
count_session (PlTopology *self,
               SessionInfo *info,
               PlSession  *session,
               int         sign)
{
  Host *client = host_at (self, info->client);
  Host *server = host_at (self, info->server);
  PlTopologyLink *link = g_ptr_array_index (self->links, info->link);

  client->public.n_sessions += sign;
  server->public.n_sessions += sign;
  link->n_sessions += sign;
  if (session->protocol == PL_PROTOCOL_SMTP)
    {
      /* A session moved away (an EHLO named the relay) leaves its old link as it was before. */
      link->n_push += sign;
      link->push = link->n_push > 0;
      link->push_server = info->server;
      server->serves_smtp += sign;
      client->sends_smtp += sign;
      if (session->hop == PL_HOP_SUBMISSION)
        server->serves_submission += sign;
    }
  else if (session->protocol != PL_PROTOCOL_UNKNOWN)
    {
      link->n_pull += sign;
      link->pull = link->n_pull > 0;
      link->pull_server = info->server;
      link->pull_protocol = session->protocol;
      server->serves_pull += sign;
      client->pulls += sign;
    }
}

void
pl_topology_add_session (PlTopology *self,
                         PlSession  *session)
{
  SessionInfo *info;
  guint client;
  guint server;

  g_return_if_fail (PL_IS_TOPOLOGY (self));
  g_return_if_fail (session != NULL);

  if (self->from_sim)
    {
      if (session->client_host == NULL || session->server_host == NULL
          || !lookup_host (self, session->client_host->name, &client)
          || !lookup_host (self, session->server_host->name, &server))
        return;
    }
  else
    {
      server = capture_host (self, session->server, TRUE, session->protocol);
      client = capture_host (self, session->client, FALSE, session->protocol);
    }

  info = session_info (self, session->id);
  info->known = TRUE;
  info->client = client;
  info->server = server;
  info->protocol = session->protocol;
  info->link = ensure_link (self, client, server)->index;
  count_session (self, info, session, +1);

  if (!self->from_sim)
    {
      relayout (self);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
    }
}

/* A name a host gives itself: a domain name, not an address literal. */
static gboolean
looks_like_host_name (const char *word)
{
  gboolean letter = FALSE;

  if (word == NULL || strchr (word, '.') == NULL || word[0] == '[' || strlen (word) > 253)
    return FALSE;
  for (const char *p = word; *p != '\0'; p++)
    {
      if (g_ascii_isalpha (*p))
        letter = TRUE;
      else if (!g_ascii_isdigit (*p) && *p != '.' && *p != '-')
        return FALSE;
    }
  return letter;
}

static void
rename_host (PlTopology *self,
             Host       *host,
             const char *name)
{
  if (host->named || g_strcmp0 (host->public.name, name) == 0)
    return;
  g_free (host->public.name);
  host->public.name = g_strdup (name);
  host->named = TRUE;
  g_hash_table_replace (self->host_keys, g_strdup (name), GUINT_TO_POINTER (host->public.index + 1));
}

/*
 * SMTP hosts say who they are: the greeting starts with the server's
 * name (RFC 5321 4.3.1), and EHLO gives the client's (4.1.1.1). A client
 * that names a server we know is that server relaying: its session is
 * moved to it, so the relay hop joins the two servers in the picture.
 */
static gboolean
learn_names (PlTopology  *self,
             SessionInfo *info,
             PlSession   *session,
             PlEvent     *event)
{
  gboolean changed = FALSE;

  if (info->protocol != PL_PROTOCOL_SMTP || event->kind == PL_EVENT_NOTE)
    return FALSE;

  if (event->dir == PL_DIR_SERVER && !info->greeted)
    {
      info->greeted = TRUE;
      if (g_strcmp0 (event->status, "220") == 0 && event->text != NULL && strlen (event->text) > 4)
        {
          g_auto(GStrv) words = g_strsplit_set (event->text + 4, " \n", 2);

          if (looks_like_host_name (words[0]))
            {
              rename_host (self, host_at (self, info->server), words[0]);
              changed = TRUE;
            }
        }
    }
  else if (event->dir == PL_DIR_CLIENT && !info->introduced && event->verb != NULL
           && (g_str_equal (event->verb, "EHLO") || g_str_equal (event->verb, "HELO")))
    {
      guint known;

      info->introduced = TRUE;
      if (!looks_like_host_name (event->args))
        return FALSE;
      if (lookup_host (self, event->args, &known) && known != info->client && known != info->server)
        {
          count_session (self, info, session, -1);
          info->client = known;
          info->link = ensure_link (self, info->client, info->server)->index;
          count_session (self, info, session, +1);
        }
      else if (!lookup_host (self, event->args, &known) && host_at (self, info->client)->sends_smtp
               == host_at (self, info->client)->public.n_sessions)
        /* Only a host that does nothing but SMTP is named by its EHLO: a reader's laptop keeps its address. */
        rename_host (self, host_at (self, info->client), event->args);
      changed = TRUE;
    }
  return changed;
}

static Mailbox *
ensure_mailbox (PlTopology *self,
                guint       host,
                const char *user)
{
  Mailbox *mailbox;

  for (guint i = 0; i < self->mailboxes->len; i++)
    {
      mailbox = g_ptr_array_index (self->mailboxes, i);
      if (mailbox->public.host == host && g_strcmp0 (mailbox->public.user, user) == 0)
        return mailbox;
    }
  mailbox = g_new0 (Mailbox, 1);
  mailbox->public.host = host;
  mailbox->public.user = g_strdup (user);
  mailbox->changes = g_array_new (FALSE, FALSE, sizeof (MailboxChange));
  g_ptr_array_add (self->mailboxes, mailbox);
  return mailbox;
}

/*
 * The simulator's notes say what mailboxes and queues hold (src/sim/pl-sim.h):
 * "MAILBOX" SERVER USER N OCTETS and "QUEUE" SERVER N.
 */
static void
note_mailbox (PlTopology *self,
              PlEvent    *event,
              guint       position)
{
  g_auto(GStrv) args = NULL;
  MailboxChange change = { position, 0, 0 };
  gboolean queue;
  guint n_mailboxes;
  guint host;

  queue = g_str_equal (event->verb, "QUEUE");
  if (!queue && !g_str_equal (event->verb, "MAILBOX"))
    return;
  if (event->args == NULL)
    return;
  args = g_strsplit (event->args, " ", -1);
  if (g_strv_length (args) < (queue ? 2u : 4u) || !lookup_host (self, args[0], &host))
    return;
  change.count = (guint) g_ascii_strtoull (queue ? args[1] : args[2], NULL, 10);
  if (!queue)
    change.octets = g_ascii_strtoull (args[3], NULL, 10);
  n_mailboxes = self->mailboxes->len;
  g_array_append_val (ensure_mailbox (self, host, queue ? NULL : args[1])->changes, change);
  /* A new mailbox takes room in the picture (a growing trace: the console). */
  if (self->mailboxes->len != n_mailboxes)
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static Mailbox *ensure_mailbox (PlTopology *self, guint host, const char *user);

/*
 * A capture says nothing of mailboxes, but POP3 does: STAT and LIST answer
 * how many messages there are (RFC 1939 section 5), and a QUIT answered +OK
 * removes those DELE marked. That is enough to see POP3 empty a mailbox.
 */
static gboolean
learn_mailbox (PlTopology  *self,
               SessionInfo *info,
               PlEvent     *event,
               guint        position)
{
  if (info->protocol != PL_PROTOCOL_POP3 || event->kind == PL_EVENT_NOTE)
    return FALSE;

  if (event->dir == PL_DIR_CLIENT)
    {
      g_free (info->verb);
      info->verb = g_strdup (event->verb);
      if (g_strcmp0 (event->verb, "USER") == 0 && event->args != NULL)
        {
          g_free (info->user);
          info->user = g_strdup (event->args);
        }
      else if (g_strcmp0 (event->verb, "LIST") == 0 && event->args != NULL && event->args[0] != '\0')
        /* LIST n tells of one message only. */
        g_clear_pointer (&info->verb, g_free);
      return FALSE;
    }

  if (info->verb == NULL || g_strcmp0 (event->status, "+OK") != 0)
    return FALSE;
  if (g_str_equal (info->verb, "STAT") || g_str_equal (info->verb, "LIST"))
    {
      const char *text = event->text != NULL ? event->text : "";
      MailboxChange change = { position, 0, 0 };
      gboolean fresh;
      Mailbox *mailbox;

      if (!g_str_has_prefix (text, "+OK ") || !g_ascii_isdigit (text[4]))
        return FALSE;
      info->count = (guint) g_ascii_strtoull (text + 4, NULL, 10);
      info->counted = TRUE;
      change.count = info->count;
      fresh = TRUE;
      for (guint i = 0; i < self->mailboxes->len; i++)
        {
          mailbox = g_ptr_array_index (self->mailboxes, i);
          if (mailbox->public.host == info->server && g_strcmp0 (mailbox->public.user, info->user) == 0)
            fresh = FALSE;
        }
      mailbox = ensure_mailbox (self, info->server, info->user != NULL ? info->user : "?");
      g_array_append_val (mailbox->changes, change);
      return fresh;
    }
  if (g_str_equal (info->verb, "DELE"))
    info->deleted++;
  else if (g_str_equal (info->verb, "QUIT") && info->counted && info->deleted > 0)
    {
      MailboxChange change = { position, info->count - MIN (info->deleted, info->count), 0 };

      g_array_append_val (ensure_mailbox (self, info->server, info->user != NULL ? info->user : "?")->changes,
                          change);
    }
  return FALSE;
}

void
pl_topology_add_event (PlTopology *self,
                       PlSession  *session,
                       PlEvent    *event,
                       guint       position)
{
  SessionInfo *info;

  g_return_if_fail (PL_IS_TOPOLOGY (self));
  g_return_if_fail (session != NULL && event != NULL);

  if (event->kind == PL_EVENT_NOTE && event->verb != NULL)
    note_mailbox (self, event, position);

  if (self->from_sim || session->id >= self->sessions->len)
    return;
  info = &g_array_index (self->sessions, SessionInfo, session->id);
  if (!info->known)
    return;
  /* Both are asked: one event may teach a name and the other nothing. */
  if (learn_names (self, info, session, event) | learn_mailbox (self, info, event, position))
    {
      relayout (self);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
    }
}

static void
on_session_opened (PlSession *session,
                   gpointer   user_data)
{
  pl_topology_add_session (user_data, session);
}

static void
on_event_added (PlSession *session,
                PlEvent   *event,
                gpointer   user_data)
{
  PlTopology *self = user_data;

  pl_topology_add_event (self, session, event, self->n_watched++);
}

void
pl_topology_watch (PlTopology *self,
                   PlTrace    *trace)
{
  static const PlTraceListener listener = {
    .session_opened = on_session_opened,
    .event_added = on_event_added,
  };

  g_return_if_fail (PL_IS_TOPOLOGY (self));
  g_return_if_fail (PL_IS_TRACE (trace));

  pl_topology_unwatch (self);
  self->watched = g_object_ref (trace);
  self->n_watched = pl_trace_get_n_events (trace);
  self->listener = pl_trace_add_listener (trace, &listener, self);
}

void
pl_topology_unwatch (PlTopology *self)
{
  g_return_if_fail (PL_IS_TOPOLOGY (self));

  if (self->watched == NULL)
    return;
  pl_trace_remove_listener (self->watched, self->listener);
  self->listener = 0;
  g_clear_object (&self->watched);
}

/* Reading --------------------------------------------------------------------- */

guint
pl_topology_get_n_hosts (PlTopology *self)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), 0);

  return self->hosts->len;
}

const PlTopologyHost *
pl_topology_get_host (PlTopology *self,
                      guint       index)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), NULL);
  g_return_val_if_fail (index < self->hosts->len, NULL);

  return &host_at (self, index)->public;
}

guint
pl_topology_get_column_size (PlTopology       *self,
                             PlTopologyColumn  column)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), 0);
  g_return_val_if_fail (column < PL_TOPOLOGY_N_COLUMNS, 0);

  return self->column_size[column];
}

guint
pl_topology_get_n_links (PlTopology *self)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), 0);

  return self->links->len;
}

const PlTopologyLink *
pl_topology_get_link (PlTopology *self,
                      guint       index)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), NULL);
  g_return_val_if_fail (index < self->links->len, NULL);

  return g_ptr_array_index (self->links, index);
}

gboolean
pl_topology_get_session_hosts (PlTopology *self,
                               guint       id,
                               guint      *client,
                               guint      *server,
                               guint      *link)
{
  SessionInfo *info;

  g_return_val_if_fail (PL_IS_TOPOLOGY (self), FALSE);

  if (id >= self->sessions->len)
    return FALSE;
  info = &g_array_index (self->sessions, SessionInfo, id);
  if (!info->known)
    return FALSE;
  if (client != NULL)
    *client = info->client;
  if (server != NULL)
    *server = info->server;
  if (link != NULL)
    *link = info->link;
  return TRUE;
}

guint
pl_topology_get_n_mailboxes (PlTopology *self)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), 0);

  return self->mailboxes->len;
}

const PlTopologyMailbox *
pl_topology_get_mailbox (PlTopology *self,
                         guint       index)
{
  g_return_val_if_fail (PL_IS_TOPOLOGY (self), NULL);
  g_return_val_if_fail (index < self->mailboxes->len, NULL);

  return &((Mailbox *) g_ptr_array_index (self->mailboxes, index))->public;
}

/* The last change at a position below @position, or the first change; NULL when there is none. */
static const MailboxChange *
change_at (Mailbox *mailbox,
           guint    position)
{
  GArray *changes = mailbox->changes;
  guint lo = 0;
  guint hi = changes->len;

  if (changes->len == 0)
    return NULL;
  /* The first change whose position is >= @position. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (changes, MailboxChange, mid).position < position)
        lo = mid + 1;
      else
        hi = mid;
    }
  return &g_array_index (changes, MailboxChange, lo > 0 ? lo - 1 : 0);
}

gboolean
pl_topology_get_mailbox_at (PlTopology *self,
                            guint       index,
                            guint       position,
                            guint      *count,
                            guint64    *octets)
{
  const MailboxChange *change;

  g_return_val_if_fail (PL_IS_TOPOLOGY (self), FALSE);
  g_return_val_if_fail (index < self->mailboxes->len, FALSE);

  change = change_at (g_ptr_array_index (self->mailboxes, index), position);
  if (change == NULL)
    return FALSE;
  if (count != NULL)
    *count = change->count;
  if (octets != NULL)
    *octets = change->octets;
  return TRUE;
}

gboolean
pl_topology_mailbox_is_used (PlTopology *self,
                             guint       index)
{
  Mailbox *mailbox;

  g_return_val_if_fail (PL_IS_TOPOLOGY (self), FALSE);
  g_return_val_if_fail (index < self->mailboxes->len, FALSE);

  mailbox = g_ptr_array_index (self->mailboxes, index);
  /* A queue is worth showing even empty: it is where relaying happens. */
  if (mailbox->public.user == NULL)
    return TRUE;
  for (guint i = 0; i < mailbox->changes->len; i++)
    if (g_array_index (mailbox->changes, MailboxChange, i).count > 0)
      return TRUE;
  return FALSE;
}

guint
pl_topology_get_mailbox_changed_at (PlTopology *self,
                                    guint       index,
                                    guint       position)
{
  Mailbox *mailbox;
  const MailboxChange *change;

  g_return_val_if_fail (PL_IS_TOPOLOGY (self), 0);
  g_return_val_if_fail (index < self->mailboxes->len, 0);

  mailbox = g_ptr_array_index (self->mailboxes, index);
  change = change_at (mailbox, position);
  if (change == NULL || change->position >= position)
    return 0;
  /* Positions count steps: the change made at index i shows from step i + 1. */
  return change->position + 1;
}
