/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlRelay: a sending server's queue runner: passes queued mail on by SMTP, retries, bounces. */
#define G_LOG_DOMAIN "postlab-net"

#include "pl-relay.h"

#include <string.h>

#include "pl-net-client.h"
#include "pl-net-error.h"
#include "pl-net-log.h"
#include "pl-smtp-client.h"
#include "pl-submission.h"

/* One queued message as the relay works it. */
typedef struct {
  gint          ref_count;
  PlQueueEntry *entry;
  guint         n_sessions;  /* of the round under way */
  gboolean      early;       /* this round began before the entry's retry time (a restart) */
  gboolean      cancelled;   /* a session of this round was cut short by pl_relay_stop() */
  gboolean      gone;        /* out of the queue: delivered or bounced to everyone */
} Item;

/* One SMTP session: the recipients of one domain of one message. */
typedef struct {
  PlRelay      *relay;       /* a reference: the session may end after the relay was dropped */
  Item         *item;        /* a reference */
  char         *target;      /* "mail.b.example (127.0.0.1:2526)" */
  char        **recipients;
  PlEngine     *engine;
  GHashTable   *settled;     /* recipients whose outcome was acted on */
  char         *failure;     /* why the connection failed, when it did */
  char         *host;
  guint16       port;
  gboolean      local;       /* the server runs here and traces the session itself */
} Session;

struct _PlRelay
{
  GObject             parent_instance;

  PlWorld            *world;
  char               *hostname;
  char               *domain;
  PlQueue            *queue;
  PlTrace            *trace;
  PlRelayDeliverFunc  deliver;
  gpointer            deliver_data;
  PlNetLog            log;

  GMainContext       *context;
  GHashTable         *items;        /* id -> Item* */
  GCancellable       *cancellable;  /* cancelled by pl_relay_stop() */
  GSource            *timer;        /* the next retry due */
  GHashTable         *local_servers;  /* host names of servers that trace their own side */
  PlTrace            *untraced;     /* where the relay's side of their sessions goes: nowhere */
  guint               n_sessions;
  gboolean            paused;
  gboolean            stopped;
};

G_DEFINE_FINAL_TYPE (PlRelay, pl_relay, G_TYPE_OBJECT)

static void schedule (PlRelay *self);
static void start_round (PlRelay *self, Item *item);

/* Items and sessions -------------------------------------------------------------------------- */

static Item *
item_new (PlQueueEntry *entry)
{
  Item *item = g_new0 (Item, 1);

  item->ref_count = 1;
  item->entry = pl_queue_entry_ref (entry);
  return item;
}

static Item *
item_ref (Item *item)
{
  item->ref_count++;
  return item;
}

static void
item_unref (Item *item)
{
  if (--item->ref_count > 0)
    return;
  pl_queue_entry_unref (item->entry);
  g_free (item);
}

static void
session_free (Session *session)
{
  if (session->engine != NULL)
    pl_engine_set_state_func (session->engine, NULL, NULL);
  g_clear_object (&session->engine);
  g_clear_pointer (&session->item, item_unref);
  g_clear_object (&session->relay);
  g_free (session->target);
  g_strfreev (session->recipients);
  g_clear_pointer (&session->settled, g_hash_table_unref);
  g_free (session->failure);
  g_free (session->host);
  g_free (session);
}

/* Housekeeping -------------------------------------------------------------------------------- */

/* Lines for a person, each starting with the relay's host name. */
#define say(self, ...)  pl_net_log (&(self)->log, FALSE, (self)->hostname, __VA_ARGS__)
#define warn(self, ...) pl_net_log (&(self)->log, TRUE, (self)->hostname, __VA_ARGS__)

static const char *
domain_of (const char *address)
{
  const char *at = strrchr (address, '@');

  return at != NULL ? at + 1 : "";
}

static char *
join_addresses (GPtrArray *addresses)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < addresses->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", (const char *) g_ptr_array_index (addresses, i));
  return g_string_free (out, FALSE);
}

static char *
format_seconds (double seconds)
{
  if (seconds >= 3600 && (gint64) seconds % 3600 == 0)
    return g_strdup_printf ("%g h", seconds / 3600);
  if (seconds >= 60 && (gint64) seconds % 60 == 0)
    return g_strdup_printf ("%g min", seconds / 60);
  return g_strdup_printf ("%g s", seconds);
}

/*
 * Makes the queue say what the relay knows: a new envelope, or no file at
 * all once nobody is left to deliver to. A failure here is the one way a
 * message can go twice (the next hop has it, the queue still says not), so
 * it is said out loud.
 */
static void
persist (PlRelay *self,
         Item    *item)
{
  g_autoptr(GError) error = NULL;

  if (item->gone)
    return;
  if (item->entry->recipients->len == 0)
    {
      if (!pl_queue_remove (self->queue, item->entry, &error))
        warn (self, "%s: could not take it out of the queue, it may be sent again: %s",
             item->entry->id, error->message);
      item->gone = TRUE;
      g_hash_table_remove (self->items, item->entry->id);
      return;
    }
  if (!pl_queue_update (self->queue, item->entry, &error))
    warn (self, "%s: could not update the queue file: %s", item->entry->id, error->message);
}

/* Bounces ------------------------------------------------------------------------------------- */

typedef struct {
  char *address;
  char *reason;
} Failure;

static void
failure_free (Failure *failure)
{
  g_free (failure->address);
  g_free (failure->reason);
  g_free (failure);
}

static GPtrArray *
failures_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) failure_free);
}

static void
failures_add (GPtrArray  *failures,
              const char *address,
              const char *reason)
{
  Failure *failure = g_new0 (Failure, 1);

  failure->address = g_strdup (address);
  failure->reason = g_strdup (reason);
  g_ptr_array_add (failures, failure);
}

/*
 * Tells the sender (RFC 5321 6.2, 4.5.4.1): a report into the sender's
 * mailbox here, or queued to the sender's own server with the null sender.
 * Returns TRUE once the report is stored durably (or, for a message that is
 * itself a bounce, once it is decided that none is sent): only then may the
 * recipients leave the queue.
 */
static gboolean
bounce (PlRelay    *self,
        Item       *item,
        GPtrArray  *failures,
        const char *explanation)
{
  PlQueueEntry *entry = item->entry;
  g_autoptr(GArray) recipients = g_array_new (FALSE, FALSE, sizeof (PlBounceRecipient));
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GBytes) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GPtrArray) addresses = g_ptr_array_new ();
  g_autofree char *who = NULL;

  /* A stopped relay's owner may be gone: what is left stays queued for the next start. */
  if (self->stopped)
    return FALSE;
  for (guint i = 0; i < failures->len; i++)
    {
      Failure *failure = g_ptr_array_index (failures, i);
      PlBounceRecipient recipient = { failure->address, failure->reason };

      g_array_append_val (recipients, recipient);
      g_ptr_array_add (addresses, failure->address);
    }
  who = join_addresses (addresses);

  if (entry->sender[0] == '\0')
    {
      say (self, "%s: not delivered to %s (%s); it is itself a bounce, and a bounce is never bounced "
           "(RFC 5321 6.2): dropped", entry->id, who, ((Failure *) g_ptr_array_index (failures, 0))->reason);
      return TRUE;
    }

  id = pl_queue_make_id ();
  report = pl_bounce_compose (self->hostname, entry->sender, (const PlBounceRecipient *) (gpointer) recipients->data,
                              recipients->len, explanation, entry->message, entry->id, now, id);

  if (g_ascii_strcasecmp (domain_of (entry->sender), self->domain) == 0)
    {
      if (!self->deliver (entry->sender, report, self->deliver_data, &error))
        {
          warn (self, "%s: could not put the bounce for %s into %s's mailbox, keeping it queued: %s",
               entry->id, who, entry->sender, error->message);
          return FALSE;
        }
      say (self, "%s: bounced to <%s> for %s: the report (%s) is in %s's mailbox",
           entry->id, entry->sender, who, id, entry->sender);
      return TRUE;
    }
  else
    {
      const char *const to[] = { entry->sender, NULL };
      g_autoptr(PlQueueEntry) queued = pl_queue_add (self->queue, id, "", to, report, g_get_real_time (), &error);

      if (queued == NULL)
        {
          warn (self, "%s: could not queue the bounce for %s, keeping it queued: %s", entry->id, who,
               error->message);
          return FALSE;
        }
      say (self, "%s: bounced to <%s> for %s: the report is queued as %s for the sender's own server",
           entry->id, entry->sender, who, queued->id);
      pl_relay_submit (self, queued);
      return TRUE;
    }
}

static char *
permanent_explanation (const char *target)
{
  return g_strdup_printf ("%s refused it for good (a reply starting with 5), so the mail system does not "
                          "try again. Check the address: it may have a typing error, or the user may not "
                          "exist there.", target);
}

/* A session's outcome ------------------------------------------------------------------------ */

static char *
reason_for (Session                     *session,
            const PlSmtpRecipientResult *result)
{
  if (result->code > 0 && result->reply != NULL)
    return g_strdup_printf ("%s said: %s", session->target, result->reply);
  if (session->failure != NULL)
    return g_strdup_printf ("%s: %s", session->target, session->failure);
  return g_strdup_printf ("%s: %s", session->target,
                          result->reply != NULL ? result->reply : "no answer");
}

/*
 * Acts on what the session decided so far. Called as soon as the reply to
 * "." is read (the client's move to QUIT), so that a recipient the next hop
 * took leaves the queue before anything else happens: the window in which a
 * crash would send it twice is one unlink and one fsync wide. @final: the
 * session is over, and what is undecided failed for now.
 */
static void
settle (Session  *session,
        gboolean  final)
{
  PlRelay *self = session->relay;
  Item *item = session->item;
  const PlSmtpClientResult *result = pl_smtp_client_get_result (PL_SMTP_CLIENT (session->engine));
  g_autoptr(GPtrArray) delivered = g_ptr_array_new ();
  g_autoptr(GPtrArray) refused = failures_new ();
  g_autoptr(GPtrArray) deferred = g_ptr_array_new ();
  gboolean changed = FALSE;
  const char *reply = NULL;

  if (item->gone)
    return;
  for (guint i = 0; i < result->n_recipients; i++)
    {
      const PlSmtpRecipientResult *r = &result->recipients[i];
      g_autofree char *reason = NULL;

      if (g_hash_table_contains (session->settled, r->address))
        continue;
      switch (r->verdict)
        {
        case PL_SMTP_VERDICT_DELIVERED:
          pl_queue_entry_remove_recipient (item->entry, r->address);
          g_ptr_array_add (delivered, (gpointer) r->address);
          reply = r->reply;
          changed = TRUE;
          break;
        case PL_SMTP_VERDICT_PERMANENT:
          reason = reason_for (session, r);
          failures_add (refused, r->address, reason);
          break;
        case PL_SMTP_VERDICT_TEMPORARY:
        case PL_SMTP_VERDICT_NONE:
        default:
          if (!final)
            continue;
          reason = reason_for (session, r);
          pl_queue_entry_set_recipient_error (item->entry, r->address, reason);
          if (deferred->len == 0)
            pl_queue_entry_set_last_error (item->entry, reason);
          g_ptr_array_add (deferred, (gpointer) r->address);
          changed = TRUE;
          break;
        }
      g_hash_table_add (session->settled, g_strdup (r->address));
    }

  /* The bounce is stored first: a crash between the two sends a second report, never none. */
  if (refused->len > 0)
    {
      g_autofree char *explanation = permanent_explanation (session->target);

      if (bounce (self, item, refused, explanation))
        {
          for (guint i = 0; i < refused->len; i++)
            pl_queue_entry_remove_recipient (item->entry, ((Failure *) g_ptr_array_index (refused, i))->address);
          changed = TRUE;
        }
    }
  if (changed)
    persist (self, item);

  if (delivered->len > 0)
    {
      g_autofree char *who = join_addresses (delivered);

      say (self, "%s: delivered to %s for %s: %s", item->entry->id, session->target, who,
           reply != NULL ? reply : "");
    }
}

static void
on_client_state (PlEngine   *engine,
                 const char *old_state,
                 const char *new_state,
                 gpointer    user_data)
{
  Session *session = user_data;

  if (pl_engine_get_state (engine) == PL_SMTP_CLIENT_QUIT)
    settle (session, FALSE);
}

static void
end_round (PlRelay *self,
           Item    *item)
{
  PlQueueEntry *entry = item->entry;
  guint n_intervals;
  const double *intervals = pl_world_get_retry_intervals (self->world, &n_intervals);
  g_autoptr(GPtrArray) waiting = g_ptr_array_new ();
  g_autofree char *who = NULL;
  const char *why;

  if (item->gone)
    return;
  if (entry->recipients->len == 0)
    {
      persist (self, item);
      return;
    }
  if (item->cancelled || self->stopped)
    {
      /* Cut short: not a try that failed. The envelope on disk is as it was. */
      item->cancelled = FALSE;
      return;
    }

  for (guint i = 0; i < entry->recipients->len; i++)
    g_ptr_array_add (waiting, ((PlQueueRecipient *) g_ptr_array_index (entry->recipients, i))->address);
  who = join_addresses (waiting);
  why = entry->last_error != NULL ? entry->last_error : "no reason given";

  if (item->early)
    {
      /* A restart's extra try: the plan of retries stays as it was. */
      persist (self, item);
      say (self, "%s: still not delivered to %s: %s; the next planned try stays as it was",
           entry->id, who, why);
      schedule (self);
      return;
    }

  entry->attempts++;
  if (entry->attempts > n_intervals)
    {
      g_autoptr(GPtrArray) failures = failures_new ();
      g_autoptr(GString) plan = g_string_new (NULL);
      g_autofree char *explanation = NULL;
      g_autofree char *waited = format_seconds ((double) (g_get_real_time () - entry->queued_time) / G_USEC_PER_SEC);

      for (guint i = 0; i < n_intervals; i++)
        {
          g_autofree char *interval = format_seconds (intervals[i]);

          g_string_append_printf (plan, "%s%s", i > 0 ? ", " : "", interval);
        }
      for (guint i = 0; i < entry->recipients->len; i++)
        {
          PlQueueRecipient *recipient = g_ptr_array_index (entry->recipients, i);

          failures_add (failures, recipient->address,
                        recipient->last_error != NULL ? recipient->last_error : why);
        }
      explanation = g_strdup_printf ("The mail system at %s tried %u times over %s, waiting %s between "
                                     "the tries (the retry intervals of its world file), and got no "
                                     "answer that let the message through; it has now given up.",
                                     self->hostname, entry->attempts, waited, plan->str);
      if (bounce (self, item, failures, explanation))
        {
          while (entry->recipients->len > 0)
            g_ptr_array_remove_index (entry->recipients, entry->recipients->len - 1);
          persist (self, item);
          return;
        }
      /* The report could not be stored: keep the message, try again after the last interval. */
      entry->attempts = n_intervals;
    }

  {
    double wait = intervals[entry->attempts - 1];
    g_autofree char *shown = format_seconds (wait);

    entry->next_attempt = g_get_real_time () + (gint64) (wait * G_USEC_PER_SEC);
    persist (self, item);
    say (self, "%s: deferred for %s: %s; next try in %s (try %u of %u)", entry->id, who, why, shown,
         entry->attempts + 1, n_intervals + 1);
  }
  schedule (self);
}

/* A connection that was never made, as pl_net_client_run_async() records it for its own trace. */
static void
trace_failed_attempt (PlRelay *self,
                      Session *session)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (session->host);
  g_autofree char *server = inet != NULL && g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
                              ? g_strdup_printf ("[%s]:%u", session->host, session->port)
                              : g_strdup_printf ("%s:%u", session->host, session->port);
  g_autoptr(PlSession) traced = pl_session_new (PL_PROTOCOL_SMTP, "?", server,
                                                (double) g_get_real_time () / G_USEC_PER_SEC);
  g_autoptr(PlEvent) note = pl_event_new_note ("%s", session->failure);

  traced->hop = PL_HOP_RELAY;
  pl_trace_add_session (self->trace, traced);
  note->time = (double) g_get_real_time () / G_USEC_PER_SEC;
  pl_trace_add_event (self->trace, traced, note);
  pl_trace_close_session (self->trace, traced, note->time);
}

static void
on_session_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Session *session = user_data;
  PlRelay *self = session->relay;
  Item *item = session->item;
  g_autoptr(GError) error = NULL;

  if (!pl_net_client_run_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        item->cancelled = TRUE;
      else if (g_error_matches (error, PL_NET_ERROR, PL_NET_ERROR_CONNECT)
               && strstr (error->message, "connection refused") != NULL)
        session->failure = g_strdup ("could not connect: connection refused (is the server down?)");
      else
        session->failure = g_strdup (error->message);
      /* No server saw this attempt: the relay's record of it is the only one. */
      if (session->local && !pl_engine_is_finished (session->engine) && session->failure != NULL
          && (g_error_matches (error, PL_NET_ERROR, PL_NET_ERROR_CONNECT)
              || g_error_matches (error, PL_NET_ERROR, PL_NET_ERROR_TIMEOUT)))
        trace_failed_attempt (self, session);
    }
  /* Cut short by a stop, the undecided stay queued as they were: no error recorded against them. */
  settle (session, !item->cancelled);

  g_assert (item->n_sessions > 0 && self->n_sessions > 0);
  item->n_sessions--;
  self->n_sessions--;
  if (item->n_sessions == 0)
    end_round (self, item);
  session_free (session);
}

/* Rounds ---------------------------------------------------------------------------------------- */

static void
start_session (PlRelay             *self,
               Item                *item,
               const PlWorldServer *server,
               GPtrArray           *recipients)
{
  g_autofree char *address = pl_world_server_dup_connect_address (server);
  g_autofree char *who = NULL;
  Session *session = g_new0 (Session, 1);
  PlSmtpClientConfig config = { 0 };
  PlNetClientConfig net = { 0 };

  g_ptr_array_add (recipients, NULL);
  session->relay = g_object_ref (self);
  session->item = item_ref (item);
  session->recipients = g_strdupv ((char **) recipients->pdata);
  g_ptr_array_remove_index (recipients, recipients->len - 1);
  session->settled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  session->host = g_strdup (address);
  session->port = (guint16) server->smtp_port;
  session->local = g_hash_table_contains (self->local_servers, server->hostname);
  {
    g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);

    if (inet != NULL && g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
      session->target = g_strdup_printf ("%s ([%s]:%d)", server->hostname, address, server->smtp_port);
    else
      session->target = g_strdup_printf ("%s (%s:%d)", server->hostname, address, server->smtp_port);
  }

  config.helo_name = self->hostname;
  config.mail_from = item->entry->sender;
  config.recipients = (const char *const *) session->recipients;
  config.message = item->entry->message;
  session->engine = pl_smtp_client_new (&config);
  pl_engine_set_state_func (session->engine, on_client_state, session);

  net.connect_timeout_ms = (guint) (pl_world_get_connect_timeout (self->world) * 1000);
  net.idle_timeout_ms = (guint) (pl_world_get_reply_timeout (self->world) * 1000);
  net.hop = PL_HOP_RELAY;

  item->n_sessions++;
  self->n_sessions++;
  who = g_strjoinv (", ", session->recipients);
  say (self, "%s: relaying to %s for %s (try %u)", item->entry->id, session->target, who,
       item->entry->attempts + 1);
  if (session->local && self->untraced == NULL)
    self->untraced = pl_trace_new (FALSE);
  pl_net_client_run_async (session->engine, address, (guint16) server->smtp_port,
                           session->local ? self->untraced : self->trace, &net,
                           self->cancellable, on_session_done, session);
}

/* The server that takes mail for @domain, or NULL when the world has none we can reach. */
static const PlWorldServer *
route (PlRelay    *self,
       const char *domain_name)
{
  const PlWorldDomain *domain = pl_world_lookup_domain (self->world, domain_name);
  const PlWorldServer *server;

  if (domain == NULL)
    return NULL;
  server = pl_world_lookup_server (self->world, domain->server);
  if (server == NULL || server->smtp_port <= 0)
    return NULL;
  return server;
}

/* One try of a message: a session per domain of its recipients, all at once. */
static void
start_round (PlRelay *self,
             Item    *item)
{
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);  /* domains, in recipient order */
  g_autoptr(GPtrArray) unroutable = failures_new ();
  PlQueueEntry *entry = item->entry;

  item->early = entry->next_attempt > g_get_real_time ();
  item->cancelled = FALSE;
  for (guint i = 0; i < entry->recipients->len; i++)
    {
      const char *address = ((PlQueueRecipient *) g_ptr_array_index (entry->recipients, i))->address;
      g_autofree char *domain = g_ascii_strdown (domain_of (address), -1);
      GPtrArray *group = g_hash_table_lookup (groups, domain);

      if (group == NULL)
        {
          group = g_ptr_array_new ();
          g_ptr_array_add (order, g_strdup (domain));
          g_hash_table_insert (groups, g_strdup (domain), group);
        }
      g_ptr_array_add (group, (gpointer) address);
    }

  /* Recipients of domains nobody serves: a permanent failure, without a session. */
  for (guint i = 0; i < order->len; i++)
    {
      const char *domain = g_ptr_array_index (order, i);
      GPtrArray *group = g_hash_table_lookup (groups, domain);
      const PlWorldServer *server = route (self, domain);

      if (server != NULL && !g_str_equal (server->hostname, self->hostname))
        continue;
      for (guint j = 0; j < group->len; j++)
        {
          g_autofree char *reason = server == NULL
            ? g_strdup_printf ("the world has no mail server for %s that %s could reach", domain, self->hostname)
            : g_strdup_printf ("the world names %s itself as the server of %s: the mail would loop",
                               self->hostname, domain);

          failures_add (unroutable, g_ptr_array_index (group, j), reason);
        }
      g_hash_table_remove (groups, domain);
    }
  if (unroutable->len > 0)
    {
      if (bounce (self, item, unroutable,
                  "There is no route to that domain in this world (no [domain] group for it in the "
                  "world file), so the mail system cannot pass the message on."))
        {
          for (guint i = 0; i < unroutable->len; i++)
            pl_queue_entry_remove_recipient (entry, ((Failure *) g_ptr_array_index (unroutable, i))->address);
          persist (self, item);
          if (item->gone)
            return;
        }
    }

  for (guint i = 0; i < order->len; i++)
    {
      const char *domain = g_ptr_array_index (order, i);
      GPtrArray *group = g_hash_table_lookup (groups, domain);

      if (group != NULL)
        start_session (self, item, route (self, domain), group);
    }
  if (item->n_sessions == 0)
    end_round (self, item);
}

/* Timing ------------------------------------------------------------------------------------------ */

static gboolean
on_timer (gpointer user_data)
{
  PlRelay *self = user_data;
  g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func ((GDestroyNotify) item_unref);
  gint64 now = g_get_real_time ();
  GHashTableIter iter;
  gpointer value;

  g_source_unref (self->timer);
  self->timer = NULL;
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Item *item = value;

      if (item->n_sessions == 0 && item->entry->next_attempt <= now)
        g_ptr_array_add (due, item_ref (item));
    }
  g_object_ref (self);
  for (guint i = 0; i < due->len && !self->paused; i++)
    {
      Item *item = g_ptr_array_index (due, i);

      if (!item->gone && item->n_sessions == 0)
        start_round (self, item);
    }
  schedule (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* One timer for the earliest retry due among the messages no session works on. */
static void
schedule (PlRelay *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 earliest = G_MAXINT64;
  gint64 now = g_get_real_time ();
  guint delay_ms;

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
      self->timer = NULL;
    }
  if (self->paused || self->stopped)
    return;
  g_hash_table_iter_init (&iter, self->items);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Item *item = value;

      if (item->n_sessions == 0 && !item->gone)
        earliest = MIN (earliest, item->entry->next_attempt);
    }
  if (earliest == G_MAXINT64)
    return;
  delay_ms = earliest <= now ? 0 : (guint) MIN ((earliest - now + 999) / 1000, G_MAXUINT / 2);
  self->timer = g_timeout_source_new (delay_ms);
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_set_static_name (self->timer, "[postlab] relay retry");
  g_source_attach (self->timer, self->context);
}

/* The object ------------------------------------------------------------------------------------ */

static void
pl_relay_dispose (GObject *object)
{
  PlRelay *self = PL_RELAY (object);

  pl_relay_stop (self);
  G_OBJECT_CLASS (pl_relay_parent_class)->dispose (object);
}

static void
pl_relay_finalize (GObject *object)
{
  PlRelay *self = PL_RELAY (object);

  g_clear_object (&self->world);
  g_clear_object (&self->queue);
  g_clear_object (&self->trace);
  g_clear_object (&self->untraced);
  g_clear_pointer (&self->local_servers, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->items, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->hostname);
  g_free (self->domain);
  G_OBJECT_CLASS (pl_relay_parent_class)->finalize (object);
}

static void
pl_relay_class_init (PlRelayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_relay_dispose;
  object_class->finalize = pl_relay_finalize;
}

static void
pl_relay_init (PlRelay *self)
{
  self->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) item_unref);
  self->cancellable = g_cancellable_new ();
  self->local_servers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

PlRelay *
pl_relay_new (PlWorld            *world,
              const char         *hostname,
              PlQueue            *queue,
              PlTrace            *trace,
              PlRelayDeliverFunc  deliver,
              gpointer            deliver_data)
{
  PlRelay *self;
  const PlWorldServer *server;

  g_return_val_if_fail (PL_IS_WORLD (world), NULL);
  g_return_val_if_fail (hostname != NULL, NULL);
  g_return_val_if_fail (PL_IS_QUEUE (queue), NULL);
  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);
  g_return_val_if_fail (deliver != NULL, NULL);

  server = pl_world_lookup_server (world, hostname);
  g_return_val_if_fail (server != NULL, NULL);

  self = g_object_new (PL_TYPE_RELAY, NULL);
  self->world = g_object_ref (world);
  self->hostname = g_strdup (server->hostname);
  self->domain = g_strdup (server->domain);
  self->queue = g_object_ref (queue);
  self->trace = g_object_ref (trace);
  self->deliver = deliver;
  self->deliver_data = deliver_data;
  self->context = g_main_context_ref_thread_default ();
  return self;
}

void
pl_relay_set_log_func (PlRelay        *self,
                       PlRelayLogFunc  func,
                       gpointer        user_data)
{
  g_return_if_fail (PL_IS_RELAY (self));
  self->log.func = func;
  self->log.data = user_data;
}

void
pl_relay_add_local_server (PlRelay    *self,
                           const char *hostname)
{
  const PlWorldServer *server;

  g_return_if_fail (PL_IS_RELAY (self));
  g_return_if_fail (hostname != NULL);

  server = pl_world_lookup_server (self->world, hostname);
  g_hash_table_add (self->local_servers, g_strdup (server != NULL ? server->hostname : hostname));
}

static Item *
add_item (PlRelay      *self,
          PlQueueEntry *entry)
{
  Item *item;

  if (g_hash_table_contains (self->items, entry->id))
    return NULL;
  item = item_new (entry);
  g_hash_table_insert (self->items, g_strdup (entry->id), item);
  return item;
}

gboolean
pl_relay_start (PlRelay  *self,
                GError  **error)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_unref);

  g_return_val_if_fail (PL_IS_RELAY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  entries = pl_queue_list (self->queue, error);
  if (entries == NULL)
    return FALSE;
  self->paused = FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      Item *item = add_item (self, g_ptr_array_index (entries, i));

      if (item != NULL)
        g_ptr_array_add (items, item_ref (item));
    }
  if (items->len > 0)
    say (self, "%u message%s in the queue from before: trying %s now", items->len,
         items->len == 1 ? "" : "s", items->len == 1 ? "it" : "them");
  for (guint i = 0; i < items->len; i++)
    {
      Item *item = g_ptr_array_index (items, i);

      if (!item->gone && item->n_sessions == 0)
        start_round (self, item);
    }
  schedule (self);
  return TRUE;
}

void
pl_relay_submit (PlRelay      *self,
                 PlQueueEntry *entry)
{
  g_return_if_fail (PL_IS_RELAY (self));
  g_return_if_fail (entry != NULL);

  if (self->stopped)
    return;
  if (add_item (self, entry) != NULL)
    schedule (self);
}

void
pl_relay_pause (PlRelay *self)
{
  g_return_if_fail (PL_IS_RELAY (self));

  self->paused = TRUE;
  schedule (self);
}

guint
pl_relay_get_n_sessions (PlRelay *self)
{
  g_return_val_if_fail (PL_IS_RELAY (self), 0);
  return self->n_sessions;
}

guint
pl_relay_get_n_queued (PlRelay *self)
{
  g_return_val_if_fail (PL_IS_RELAY (self), 0);
  return g_hash_table_size (self->items);
}

void
pl_relay_stop (PlRelay *self)
{
  g_return_if_fail (PL_IS_RELAY (self));

  if (self->stopped)
    return;
  self->stopped = TRUE;
  self->paused = TRUE;
  schedule (self);
  g_cancellable_cancel (self->cancellable);
}
