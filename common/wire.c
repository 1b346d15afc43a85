/* Wire-contract knobs shared by every transport (see wire.h). */
#include "common/wire.h"

#include <stddef.h>

#include "common/pbjson.h"

static const char *const always_present[] = {
    "routerd.dpi.v1.ClassifyResult.engine",
    "routerd.dpi.v1.HealthzReply.ok",
    /* ndpiTool/ndpiToolNote only appear when the deprecated flag is given */
    "routerd.dpi.v1.ClassifierStatus.ok",
    "routerd.dpi.v1.ClassifierStatus.name",
    "routerd.dpi.v1.ClassifierStatus.version",
    "routerd.dpi.v1.ClassifierStatus.engine",
    "routerd.dpi.v1.ClassifierStatus.activeEngine",
    "routerd.dpi.v1.ClassifierStatus.mode",
    "routerd.dpi.v1.ClassifierStatus.agent",
    "routerd.dpi.v1.ClassifierStatus.stats",
    "routerd.dpi.v1.ClassifierAgent.*",
    "routerd.dpi.v1.ClassifierStats.*",
    "routerd.dpi.v1.AgentStatus.*",
    "routerd.dpi.v1.AgentStats.*",
    "routerd.dpi.v1.LoggerStatus.*",
    "routerd.dpi.v1.ResetFlowReply.found",
    NULL,
};

static const struct rdpi_pbjson_opts wire_opts = {
    .always_present = always_present,
};

const struct rdpi_pbjson_opts *rdpi_wire_json_opts(void)
{
	return &wire_opts;
}
