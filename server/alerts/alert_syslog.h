/*
 * alert_syslog.h - the syslog output's thread (internal to the alerts
 * library): it resolves the collector's name, connects (TCP, or a connected
 * UDP socket), sends the queued RFC 5424 messages in order (TCP with
 * RFC 6587 octet counting), and reconnects with backoff when the collector
 * goes away. An alert that could not be sent stays queued and is sent after
 * the reconnect; the queue's bound is what limits the backlog.
 *
 * TCP: the connection is made at start and kept; a collector that closes it
 * while nothing is being sent is reconnected at once, without a report
 * (collectors close idle connections); a send that fails or that the
 * collector does not take within send_timeout_ms closes it (the message is
 * sent again on the next connection, so a collector may see it twice, the
 * first copy cut short). Before each send a connection the collector has
 * closed is noticed and replaced, so an alert is not written into a dead
 * connection.
 *
 * UDP: delivered means handed to the network. A datagram refused with an
 * ICMP "port unreachable" shows on a later send; the output is then
 * "failing" until two datagrams in a row go out without a refusal.
 */
#ifndef TMI_ALERT_SYSLOG_H
#define TMI_ALERT_SYSLOG_H

#include "alert_format.h"
#include "alert_output.h"

/* Start the syslog thread for o (made by output_init) and url, with cfg's
 * timeouts. TMI_OK, TMI_ENOMEM, or TMI_EIO when no socket pair or thread
 * could be made (alert_syslog_release frees what was made). */
int alert_syslog_start(alert_output *o, const alert_syslog_url *url,
                       const alert_outputs_config *cfg);

/* The longest message for o's protocol (ALERT_SYSLOG_UDP_MAX / _TCP_MAX). */
size_t alert_syslog_max(const alert_output *o);

/* Free what alert_syslog_start made; the thread must have finished. */
void alert_syslog_release(alert_output *o);

#endif
