/*
 * expo_protobuf.h - the protobuf exposition format as an expo_writer.
 *
 * Writes io.prometheus.client.MetricFamily messages, each prefixed by its
 * length as a varint ("encoding=delimited"), the format Prometheus asks for
 * first when native histograms are enabled.  Used through expo_writer_init
 * (expo.h) with EXPO_PROTOBUF; nothing else here is public.
 */
#ifndef EXPORTER_EXPO_PROTOBUF_H
#define EXPORTER_EXPO_PROTOBUF_H

struct expo_writer_ops;

extern const struct expo_writer_ops expo_protobuf_ops;

#endif
