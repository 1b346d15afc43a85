/* Wire-contract knobs shared by every transport: which JSON keys the legacy
 * API always sends even when zero. */
#ifndef RDPI_COMMON_WIRE_H
#define RDPI_COMMON_WIRE_H

struct rdpi_pbjson_opts;

/* JSON options for every routerd.dpi.v1 reply: ClassifyResult.engine,
 * healthz/status "ok" and all legacy status and stats keys are always present. */
const struct rdpi_pbjson_opts *rdpi_wire_json_opts(void);

#endif
