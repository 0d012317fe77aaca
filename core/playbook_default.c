/*
 * playbook_default.c - the compiled-in playbook for the TMI/MRF fault
 * (Trend Micro KB 1113313 / 1113262): a ServerProtect patch puts the
 * 1.12.0.1156 MRF set into the TMI folder of a TMCM 6.0 SP3+ / Apex Central
 * server, and the TMI service stops at once with event 800, errcode=-107.
 */
#include "playbook.h"

#include "err.h"

static const char default_json[] =
    "{\n"
    "  \"id\": \"tmi-mrf-1156\",\n"
    "  \"title\": \"TMI service stops: MRF files replaced by a ServerProtect patch\",\n"
    "  \"note\": \"Version 1.12.0.1156 is not a vulnerable build: it is incompatible with "
    "Control Manager 6.0 SP3 or later, which needs 1.12.0.1266. All eight files must be "
    "restored together.\",\n"
    "  \"expected_version\": \"1.12.0.1266\",\n"
    "  \"known_bad_versions\": [\"1.12.0.1156\"],\n"
    "  \"files\": [\"mrf.exe\", \"MRF_CM.dll\", \"libTMI_DataMarshal.dll\", "
    "\"libMRF_Entity.dll\", \"libMRF_DM.dll\", \"libMRF_Common.dll\", \"libMRF_CM.dll\", "
    "\"libMRF_AP.dll\"],\n"
    "  \"tmi_folders\": [\"Program Files (x86)/Trend Micro/COMMON/TMI\", "
    "\"Program Files/Trend Micro/COMMON/TMI\"],\n"
    "  \"registry\": {\"key\": \"SOFTWARE\\\\TrendMicro\\\\TMI\", \"value\": "
    "\"HomeDirectory\"},\n"
    "  \"sources\": [\n"
    "    {\"glob\": \"is_backup/filegroup100\", \"variant\": \"SPNT 5.8 Patch 5 / SPEMC 5.8 "
    "Patch 2\"},\n"
    "    {\"glob\": \"backup*\", \"variant\": \"SPNAF 5.8 SP1 Patch 1 or later\"}\n"
    "  ],\n"
    "  \"service\": {\"display_name\": \"Trend Micro Management Infrastructure\", "
    "\"image_name\": \"mrf.exe\", \"short_name\": null},\n"
    "  \"event\": {\"provider\": \"Trend Micro Control Manager\", \"id\": 800, \"tokens\": "
    "[\"errcode=-107\", \"MRFServer.cpp\"]},\n"
    "  \"max_file_size\": 67108864,\n"
    "  \"signer\": {\"organization\": \"Trend Micro, Inc.\"},\n"
    "  \"allow_unsigned\": true\n"
    "}\n";

const char *playbook_default_json(void)
{
    return default_json;
}

int playbook_load_default(playbook **out)
{
    char err[256];
    return playbook_load_json(default_json, sizeof(default_json) - 1, out, err, sizeof(err));
}
