/* SPDX-License-Identifier: Apache-2.0
 *
 * devbroker_nodelay.c: TCP_NODELAY on every connection the dev broker
 * accepts.
 *
 * librdkafka's mock cluster leaves Nagle's algorithm on for the sockets it
 * accepts; a real Kafka broker turns it off. With Nagle on, a small
 * ProduceResponse written while the previous one is still unacknowledged is
 * held until the client's delayed ACK, about 40 ms on Linux. Each producer
 * flush of alerts spread over three or more partitions then took 40-45 ms
 * instead of well under a millisecond, and that, not fundguard, set the
 * latency measured against the dev broker.
 *
 * The mock calls accept(2) through the dynamic linker, so this executable's
 * definition is the one it gets (an executable's symbols come first in the
 * lookup scope). It accepts with accept4(), which librdkafka does not call,
 * and sets the option. Only fundguard-devbroker links this file.
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict len)
{
    int s = accept4(fd, addr, len, 0), one = 1;

    if (s >= 0)
        (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
}
