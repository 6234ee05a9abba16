/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The floor of the tracer's benchmark: libpcap reading every record of a capture and doing nothing with it. */

#include <stdio.h>
#include <stdlib.h>

#include <pcap/pcap.h>

/*
 * What no reader of a pcap file can beat on this machine: pcap_next_ex()
 * over the whole file, touching each packet's first and last octet so the
 * data is really read. Prints the packets and octets it saw.
 */
int
main (int    argc,
      char **argv)
{
  char errbuf[PCAP_ERRBUF_SIZE];
  struct pcap_pkthdr *header;
  const unsigned char *data;
  unsigned long long packets = 0, octets = 0, sum = 0;
  pcap_t *pcap;
  int rc;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CAPTURE\n", argv[0]);
      return 2;
    }
  pcap = pcap_open_offline (argv[1], errbuf);
  if (pcap == NULL)
    {
      fprintf (stderr, "%s: %s\n", argv[0], errbuf);
      return 1;
    }
  while ((rc = pcap_next_ex (pcap, &header, &data)) == 1)
    {
      packets++;
      octets += header->caplen;
      if (header->caplen > 0)
        sum += data[0] + data[header->caplen - 1];
    }
  if (rc == PCAP_ERROR)
    fprintf (stderr, "%s: %s\n", argv[0], pcap_geterr (pcap));
  pcap_close (pcap);
  printf ("%llu packets, %llu octets (check %llu)\n", packets, octets, sum);
  return rc == PCAP_ERROR ? 1 : 0;
}
